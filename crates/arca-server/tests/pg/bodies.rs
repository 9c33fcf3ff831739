//! `tests/bodies.rs` on PostgreSQL: the same tests, built as the target `pg_bodies`, whose servers the harness
//! opens on fresh PostgreSQL databases (see `common::on_postgres`).

#[path = "../bodies.rs"]
mod suite;
