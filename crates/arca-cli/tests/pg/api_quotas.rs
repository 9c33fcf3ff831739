//! `tests/api_quotas.rs` on PostgreSQL: the same tests, built as the target `pg_api_quotas`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_quotas.rs"]
mod suite;
