//! `tests/deploy.rs` on PostgreSQL: the same tests, built as the target `pg_deploy`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../deploy.rs"]
mod suite;
