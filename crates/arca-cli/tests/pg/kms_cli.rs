//! `tests/kms_cli.rs` on PostgreSQL: the same tests, built as the target `pg_kms_cli`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../kms_cli.rs"]
mod suite;
