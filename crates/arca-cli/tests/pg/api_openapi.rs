//! `tests/api_openapi.rs` on PostgreSQL: the same tests, built as the target `pg_api_openapi`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_openapi.rs"]
mod suite;
