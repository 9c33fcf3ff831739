//! `tests/api_acls.rs` on PostgreSQL: the same tests, built as the target `pg_api_acls`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_acls.rs"]
mod suite;
