//! `tests/api_containers.rs` on PostgreSQL: the same tests, built as the target `pg_api_containers`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_containers.rs"]
mod suite;
