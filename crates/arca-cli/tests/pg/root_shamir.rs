//! `tests/root_shamir.rs` on PostgreSQL: the same tests, built as the target `pg_root_shamir`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../root_shamir.rs"]
mod suite;
