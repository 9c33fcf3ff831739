//! `tests/api_bad_input.rs` on PostgreSQL: the same tests, built as the target `pg_api_bad_input`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_bad_input.rs"]
mod suite;
