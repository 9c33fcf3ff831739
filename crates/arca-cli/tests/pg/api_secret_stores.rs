//! `tests/api_secret_stores.rs` on PostgreSQL: the same tests, built as the target `pg_api_secret_stores`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_secret_stores.rs"]
mod suite;
