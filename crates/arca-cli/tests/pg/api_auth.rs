//! `tests/api_auth.rs` on PostgreSQL: the same tests, built as the target `pg_api_auth`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_auth.rs"]
mod suite;
