//! `tests/tls.rs` on PostgreSQL: the same tests, built as the target `pg_tls`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../tls.rs"]
mod suite;
