//! `tests/log_scrubbing.rs` on PostgreSQL: the same tests, built as the target `pg_log_scrubbing`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../log_scrubbing.rs"]
mod suite;
