//! `tests/audit.rs` on PostgreSQL: the same tests, built as the target `pg_audit`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../audit.rs"]
mod suite;
