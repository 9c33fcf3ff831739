//! `tests/api_orders.rs` on PostgreSQL: the same tests, built as the target `pg_api_orders`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../api_orders.rs"]
mod suite;
