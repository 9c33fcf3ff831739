//! `tests/api_metadata.rs` on PostgreSQL: the same tests, built as the target `pg_api_metadata`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_metadata.rs"]
mod suite;
