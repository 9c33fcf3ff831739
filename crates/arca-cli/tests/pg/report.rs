//! `tests/report.rs` on PostgreSQL: the same tests, built as the target `pg_report`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../report.rs"]
mod suite;
