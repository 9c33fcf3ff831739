//! `tests/kms_protocol.rs` on PostgreSQL: the same tests, built as the target `pg_kms_protocol`, whose servers the harness
//! opens on fresh PostgreSQL databases (see `common::on_postgres`).

#[path = "../kms_protocol.rs"]
mod suite;
