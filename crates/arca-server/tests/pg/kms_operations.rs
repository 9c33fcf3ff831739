//! `tests/kms_operations.rs` on PostgreSQL: the same tests, built as the target `pg_kms_operations`, whose servers the harness
//! opens on fresh PostgreSQL databases (see `common::on_postgres`).

#[path = "../kms_operations.rs"]
mod suite;
