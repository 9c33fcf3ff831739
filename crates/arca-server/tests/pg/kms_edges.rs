//! `tests/kms_edges.rs` on PostgreSQL: the same tests, built as the target `pg_kms_edges`, whose servers the harness
//! opens on fresh PostgreSQL databases (see `common::on_postgres`).

#[path = "../kms_edges.rs"]
mod suite;
