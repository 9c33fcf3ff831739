//! `tests/order_recovery.rs` on PostgreSQL: the same tests, built as the target `pg_order_recovery`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../order_recovery.rs"]
mod suite;
