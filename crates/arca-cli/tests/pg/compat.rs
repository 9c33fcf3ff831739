//! `tests/compat.rs` on PostgreSQL: the same tests, built as the target `pg_compat`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../compat.rs"]
mod suite;
