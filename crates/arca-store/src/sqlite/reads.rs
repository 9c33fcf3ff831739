//! `Reads`: every read of the store runs on a small pool of read-only rusqlite connections of its own, in place
//! on the calling task, with cached prepared statements. Neither a `spawn_blocking` hand-off (two thread
//! wake-ups) nor a per-statement hop to a driver thread (what sqlx's SQLite driver does) is worth paying on
//! paths that read one row by key or one index-ordered page: those hops cost more than the query
//! (bench/README.md has the numbers). Running in place is safe because the reads are bounded: WAL readers never
//! wait for the writer, and each statement is a key lookup, a key-prefix range or an index range of one page.
//! The exceptions, noted where they are: the `total` of a *filtered* secrets list, containers list or orders
//! list counts the project's matching rows through the `project_id` index (one project's rows, not the
//! table's). A read that needs several statements to agree (a container with its children, an ACL with its
//! users, a page with its total) runs them in one read transaction. Writes (which fsync) never run here: they go
//! to the writer thread (`writer`).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use arca_core::StoreError;
use rusqlite::{Connection, OpenFlags};

use super::codec::sql_err;

/// Idle read connections kept open; more are opened under load and closed when returned past this.
const KEEP_IDLE: usize = 8;
/// Prepared statements each read connection keeps (every read's SQL plus a few list shapes).
const STATEMENT_CACHE: usize = 64;

/// A pool of read-only rusqlite connections to one database file.
pub(super) struct Reads {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
}

impl Reads {
    pub(super) fn new(path: &Path, busy_timeout: Duration) -> Self {
        Self {
            path: path.to_path_buf(),
            busy_timeout,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(sql_err("opening a read connection"))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(sql_err("setting the busy timeout"))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Runs `read` on a pooled connection (opened on demand; at most `KEEP_IDLE` kept).
    pub(super) fn run<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let popped = self.idle().pop();
        let conn = match popped {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = read(&conn);
        let mut idle = self.idle();
        if idle.len() < KEEP_IDLE {
            idle.push(conn);
        }
        result
    }

    /// Runs `read` in one read transaction, so its statements see one snapshot.
    pub(super) fn snapshot<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run(|conn| {
            let tx = conn
                .unchecked_transaction()
                .map_err(sql_err("starting a read transaction"))?;
            let result = read(&tx)?;
            tx.commit().map_err(sql_err("ending a read transaction"))?;
            Ok(result)
        })
    }

    /// Closes every idle connection (the store's `close`, so that the writer's connection is the last one).
    pub(super) fn close(&self) {
        self.idle().clear();
    }
}
