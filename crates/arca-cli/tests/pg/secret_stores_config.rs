//! `tests/secret_stores_config.rs` on PostgreSQL: the same tests, built as the target `pg_secret_stores_config`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../secret_stores_config.rs"]
mod suite;
