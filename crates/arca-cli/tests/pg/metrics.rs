//! `tests/metrics.rs` on PostgreSQL: the same tests, built as the target `pg_metrics`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../metrics.rs"]
mod suite;
