//! `tests/root_pkcs11.rs` on PostgreSQL: the same tests, built as the target `pg_root_pkcs11`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../root_pkcs11.rs"]
mod suite;
