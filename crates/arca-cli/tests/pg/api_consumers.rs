//! `tests/api_consumers.rs` on PostgreSQL: the same tests, built as the target `pg_api_consumers`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_consumers.rs"]
mod suite;
