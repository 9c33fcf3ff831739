//! `tests/backup.rs` on PostgreSQL: the same tests, built as the target `pg_backup`, whose data directories the
//! harness puts on fresh PostgreSQL databases (see `common::backend`).

#[path = "../backup.rs"]
mod suite;
