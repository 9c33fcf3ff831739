//! `tests/rotation.rs` on PostgreSQL: the same tests, built as the target `pg_rotation`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../rotation.rs"]
mod suite;
