//! `tests/api_secrets.rs` on PostgreSQL: the same tests, built as the target `pg_api_secrets`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_secrets.rs"]
mod suite;
