//! Arca's `Store` implementations. Today: [`SqliteStore`], the embedded default — one SQLite file (on rusqlite) in
//! WAL mode with `synchronous=FULL`, a single group-committing writer thread and a pool of read-only connections.
//! Migrations live in `migrations/` beside this crate and are applied at start-up.
#![forbid(unsafe_code)]

mod sqlite;

pub use sqlite::{SnapshotFacts, SqliteStore};
