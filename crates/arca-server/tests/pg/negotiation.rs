//! `tests/negotiation.rs` on PostgreSQL: the same tests, built as the target `pg_negotiation`, whose servers the harness
//! opens on fresh PostgreSQL databases (see `common::on_postgres`).

#[path = "../negotiation.rs"]
mod suite;
