//! `tests/api_versions.rs` on PostgreSQL: the same tests, built as the target `pg_api_versions`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_versions.rs"]
mod suite;
