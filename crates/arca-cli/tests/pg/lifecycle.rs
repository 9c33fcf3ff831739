//! `tests/lifecycle.rs` on PostgreSQL: the same tests, built as the target `pg_lifecycle`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../lifecycle.rs"]
mod suite;
