//! `tests/compat_kms.rs` on PostgreSQL: the same tests, built as the target `pg_compat_kms`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../compat_kms.rs"]
mod suite;
