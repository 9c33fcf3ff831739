//! Arca's `Store` implementations: [`SqliteStore`], the embedded default — one SQLite file (on rusqlite) in WAL
//! mode with `synchronous=FULL`, a single group-committing writer thread and a pool of read-only connections — and
//! [`PostgresStore`], for several stateless nodes sharing one PostgreSQL 15 database (on sqlx). Migrations live in
//! `migrations/` (SQLite) and `migrations-postgres/` (PostgreSQL) beside this crate and are applied at start-up.
//! [`postgres_testing`] is test support: a throwaway PostgreSQL server.
// Denied, not forbidden: `sqlite::wal_gather` (the writer connection's VFS, C callbacks) alone allows it.
#![deny(unsafe_code)]

mod copy;
mod postgres;
mod sqlite;

pub use copy::{CopyReport, copy_sqlite_to_postgres, verify_sqlite_against_postgres};
pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::{SnapshotFacts, SqliteStore};

/// Test support (not for production use): [`TempPostgres`](postgres_testing::TempPostgres), a real PostgreSQL
/// server in a temporary directory.
pub mod postgres_testing {
    pub use crate::postgres::testing::TempPostgres;
}
