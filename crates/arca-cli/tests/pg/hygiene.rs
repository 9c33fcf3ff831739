//! `tests/hygiene.rs` on PostgreSQL: the same tests, built as the target `pg_hygiene`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../hygiene.rs"]
mod suite;
