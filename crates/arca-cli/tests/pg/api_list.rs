//! `tests/api_list.rs` on PostgreSQL: the same tests, built as the target `pg_api_list`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_list.rs"]
mod suite;
