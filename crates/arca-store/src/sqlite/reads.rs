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
//!
//! Read transactions are reused: beginning and ending one takes SQLite's WAL-index locks (a process-wide mutex and
//! `fcntl` calls) — 12% of a metadata read in the profile (bench/README.md). A pooled connection keeps its read
//! transaction open after a read, and the next read on it runs in the same snapshot only while that snapshot is
//! still the newest state of the database: no batch of this process's writer has finished since it began (the
//! writer's `epoch`, bumped before any caller of the batch is answered, and after each checkpoint) and the
//! WAL-index header in the `-shm` file — which every commit of any process rewrites — has not changed (one
//! `pread`, where beginning a transaction costs several lock calls). So every read sees every commit made before it
//! began, by this process or another (an admin command on the same data directory), as before. One kind of commit
//! leaves snapshots in use: a batch of this process's audit appends and nothing else (the records of payload
//! reads, a few hundred a second under load). The writer does not move the epochs for it but certifies the
//! WAL-index state it left (`certify_audit_commit`, after checking that no other connection committed meanwhile),
//! and a snapshot whose probe no longer matches is kept if the new state is the certified one. This matters
//! because SQLite empties a connection's page cache whenever it begins a snapshot after any commit: without it,
//! every payload read went back to `pread` for its pages. Reads of the audit chain itself begin a fresh snapshot
//! (`run_fresh`). A background thread ends snapshots left idle past `IDLE_SNAPSHOT`, and the writer ends every idle
//! one before it checkpoints, so open snapshots do not keep the WAL from being copied back and restarted.
//!
//! Each connection also keeps the secret rows it has read (`SnapshotRows`, `run_with_rows`), tagged with the state
//! they hold: the writer's content epoch (`Epochs`) and a probe of the database in that state. They are used while
//! the database is still in that state — the probe matches, or the writer certified the new state as reached by
//! audit appends alone — and the content epoch has not moved, even across new snapshots: a checkpoint ends every
//! snapshot but changes no row, so it moves the snapshot epoch alone (and the probe leaves out the checkpoint's
//! counters). Any other state drops them. Rows unused for `IDLE_ROWS` are dropped by the background thread.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use arca_core::StoreError;
use rusqlite::{Connection, OpenFlags};

use super::codec::sql_err;
use super::snapshot_rows::SnapshotRows;

/// Idle read connections kept open; more are opened under load and closed when returned past this.
const KEEP_IDLE: usize = 8;
/// Prepared statements each read connection keeps (every read's SQL plus a few list shapes).
const STATEMENT_CACHE: usize = 64;
/// Each read connection's page cache, in KiB (SQLite's default is 2 MiB). Pages are allocated as they are read,
/// so an idle or lightly used connection stays small; the busiest ones (the pool hands out the most recently
/// returned connection first) keep a hot set of a few thousand secrets' B-tree pages instead of reading them
/// again with `pread` on every request.
const READ_CACHE_KIB: i64 = 16 * 1024;
/// Longest a read waits for the writer's word on an audit-only batch it is committing (`Reads::is_certified`). The
/// word comes microseconds after the commit, but a reader can meet the batch's state earlier: a commit that starts
/// the WAL from its beginning again (once after each checkpoint that emptied it) rewrites the WAL-index header
/// before it writes and syncs its frames, a few hundred microseconds. The wait holds a runtime thread, so past this
/// the read begins a new snapshot (and drops its rows) instead.
const CERTIFY_WAIT: Duration = Duration::from_millis(1);
/// How long a snapshot may sit unused on an idle connection before the background thread ends it.
const IDLE_SNAPSHOT: Duration = Duration::from_millis(5);
/// How long the rows a connection has read may sit unused before the background thread drops them (so an idle
/// server does not hold up to `KEEP_IDLE` connections' worth of rows).
const IDLE_ROWS: Duration = Duration::from_secs(1);
/// The background thread's pause when no idle connection held a snapshot at its last look (so one begun just
/// after may stay open this long; a held read snapshot delays no reader or writer, and the writer ends idle
/// snapshots itself before it checkpoints).
const QUIET_PAUSE: Duration = Duration::from_millis(250);
/// The part of the `-shm` file read to see whether the database changed: the two copies of the WAL-index header
/// (bytes 0..96: change counter, last valid frame, salts, checksums — rewritten by every commit), per SQLite's
/// documented WAL-index format. The checkpoint's counters that follow are left out: a checkpoint changes no row.
const SHM_PROBE: usize = 96;

/// A pooled connection, the read transaction it has open, if any, and the secret rows it has read.
struct Pooled {
    conn: Connection,
    open: Option<OpenSnapshot>,
    rows: KeptRows,
}

/// A read transaction left open: the snapshot epoch and the WAL-index probe, both read before it began, and when it
/// was last used.
struct OpenSnapshot {
    epoch: u64,
    probe: ShmProbe,
    used: Instant,
}

/// The secret rows a connection has read and the state they hold: the content epoch read before the first of them,
/// and the probe of a state they match — one they were read in, or one the writer certified as reached from it by
/// audit appends alone. They outlive the connection's snapshots (see the module docs).
struct KeptRows {
    content: u64,
    probe: ShmProbe,
    used: Instant,
    rows: SnapshotRows,
}

impl KeptRows {
    /// No rows yet, for the state of content epoch `content` that `probe` read.
    fn new(content: u64, probe: ShmProbe) -> Self {
        Self {
            content,
            probe,
            used: Instant::now(),
            rows: SnapshotRows::default(),
        }
    }
}

/// The writer's word to reads on what they may reuse. Both move before any caller of the batch that moves them is
/// answered, so a read that begins after an acknowledged write sees the move.
#[derive(Debug, Default)]
pub(super) struct Epochs {
    /// Moves when no open read snapshot may be reused: with `content`, and around every checkpoint (so that the WAL
    /// can restart).
    snapshots: AtomicU64,
    /// Moves when a table may have changed: after every batch but one of audit appends alone that the writer
    /// certified, which includes every batch in which the writer found another connection's commit.
    content: AtomicU64,
}

impl Epochs {
    /// A batch may have changed a table: no snapshot and no row read before is reused.
    pub(super) fn content_changed(&self) {
        self.content.fetch_add(1, Ordering::Release);
        self.snapshots.fetch_add(1, Ordering::Release);
    }

    /// Open snapshots must end, and no table changed (a checkpoint): rows already read stay in use.
    pub(super) fn snapshots_end(&self) {
        self.snapshots.fetch_add(1, Ordering::Release);
    }
}

/// What `SHM_PROBE` read, or `None` when it could not be read (then no snapshot is reused).
type ShmProbe = Option<[u8; SHM_PROBE]>;

/// A pool of read-only rusqlite connections to one database file.
pub(super) struct Reads {
    path: PathBuf,
    busy_timeout: Duration,
    /// The writer's epochs (`WriterStats::epochs`).
    epochs: Arc<Epochs>,
    /// The database's `-shm` file, opened on first need.
    shm: OnceLock<Option<File>>,
    /// Read transactions begun (each one's first page reads start from an empty page cache if the database
    /// changed since the connection's last).
    pub(super) snapshots_begun: AtomicU64,
    /// Secret rows read with SQL, not from the rows a connection has kept (`row_read`).
    pub(super) rows_read: AtomicU64,
    /// What the writer has said of its audit-only batches, and its signal when it has said it.
    audit_commits: Mutex<AuditCommits>,
    audit_commit_settled: Condvar,
    idle: Mutex<Vec<Pooled>>,
}

/// The writer's word on its audit-only batches (`Reads::certify_audit_commit`).
#[derive(Default)]
struct AuditCommits {
    /// The `-shm` probe of the state the last certified batch left.
    certified: ShmProbe,
    /// A batch of audit appends alone is being committed and has not been certified or refused yet.
    pending: bool,
}

impl Reads {
    /// The pool, and a thread that ends idle snapshots (it stops when the pool is dropped).
    pub(super) fn new(
        path: &Path,
        busy_timeout: Duration,
        epochs: Arc<Epochs>,
    ) -> Result<Arc<Self>, StoreError> {
        let reads = Arc::new(Self {
            path: path.to_path_buf(),
            busy_timeout,
            epochs,
            shm: OnceLock::new(),
            snapshots_begun: AtomicU64::new(0),
            rows_read: AtomicU64::new(0),
            audit_commits: Mutex::new(AuditCommits::default()),
            audit_commit_settled: Condvar::new(),
            idle: Mutex::new(Vec::new()),
        });
        let weak: Weak<Self> = Arc::downgrade(&reads);
        std::thread::Builder::new()
            .name("arca-sqlite-reads".to_owned())
            .spawn(move || {
                let mut pause = IDLE_SNAPSHOT;
                loop {
                    std::thread::sleep(pause);
                    let Some(reads) = weak.upgrade() else {
                        return;
                    };
                    // A quiet server is looked at a few times a second, not every few milliseconds.
                    pause = if reads.end_stale_snapshots() {
                        IDLE_SNAPSHOT
                    } else {
                        QUIET_PAUSE
                    };
                }
            })
            .map_err(|e| StoreError(format!("SQLite store: starting the snapshot thread: {e}")))?;
        Ok(reads)
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Pooled>> {
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
        conn.pragma_update(None, "cache_size", -READ_CACHE_KIB)
            .map_err(sql_err("sizing the page cache"))?;
        super::codec::keep_plans(&conn)?;
        Ok(conn)
    }

    /// Runs `read` on a pooled connection (opened on demand; at most `KEEP_IDLE` kept), in a snapshot that holds
    /// every write acknowledged before the call.
    pub(super) fn run<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run_in_snapshot(false, |conn, _| read(conn))
    }

    /// As `run`, with the rows the snapshot has already answered (`SnapshotRows`), for reads of one row by key.
    pub(super) fn run_with_rows<T>(
        &self,
        read: impl FnOnce(&Connection, &mut SnapshotRows) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run_in_snapshot(false, read)
    }

    /// As `run`, in a snapshot begun for this read whatever the checks say.
    pub(super) fn run_fresh<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run_in_snapshot(true, |conn, _| read(conn))
    }

    /// Runs `read` in one read transaction, so its statements see one snapshot (every read does).
    pub(super) fn snapshot<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.run(read)
    }

    fn run_in_snapshot<T>(
        &self,
        fresh: bool,
        read: impl FnOnce(&Connection, &mut SnapshotRows) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let popped = self.idle().pop();
        let mut pooled = match popped {
            Some(pooled) => pooled,
            None => Pooled {
                conn: self.connect()?,
                open: None,
                rows: KeptRows::new(0, None),
            },
        };
        // The epochs, then the `-shm` probe, all read before the snapshot begins: a commit after them makes the
        // snapshot and the rows read in it stale next time. The probe is read only when something may be reused.
        let epoch = self.epochs.snapshots.load(Ordering::Acquire);
        let content = self.epochs.content.load(Ordering::Acquire);
        let kept = pooled
            .open
            .as_ref()
            .filter(|open| !fresh && open.epoch == epoch);
        let rows_kept = !fresh && !pooled.rows.rows.is_empty() && pooled.rows.content == content;
        let mut probe = if kept.is_some() || rows_kept {
            self.probe_shm()
        } else {
            None
        };
        let snapshot_same = kept.is_some_and(|open| open.probe == probe);
        let rows_same = rows_kept && pooled.rows.probe == probe;
        // A state that neither has seen may be one the writer's audit appends alone reached (asked once: the
        // answer may be waited for). A certified state is only as good as the epochs: the writer moves them (before
        // it certifies anything later) when it finds another connection's commit, which may have come after they
        // were read above.
        let certified = if probe.is_some()
            && ((kept.is_some() && !snapshot_same) || (rows_kept && !rows_same))
        {
            self.certified_state(&probe)
        } else {
            None
        };
        let snapshot_reusable = probe.is_some()
            && kept.is_some()
            && (snapshot_same
                || (certified.is_some() && self.epochs.snapshots.load(Ordering::Acquire) == epoch));
        let rows_reusable = probe.is_some()
            && rows_kept
            && (rows_same
                || (certified.is_some() && self.epochs.content.load(Ordering::Acquire) == content));
        // What is kept below is tagged with the epochs read above, so a move after them still ends it next time.
        if certified.is_some() {
            probe = certified;
        }
        if snapshot_reusable {
            if let Some(open) = pooled.open.as_mut() {
                open.used = Instant::now();
                open.probe = probe;
            }
        } else {
            if pooled.open.take().is_some() {
                end_snapshot(&pooled.conn)?;
            }
            probe = probe.or_else(|| self.probe_shm());
            pooled
                .conn
                .execute_batch("BEGIN")
                .map_err(sql_err("starting a read transaction"))?;
            self.snapshots_begun.fetch_add(1, Ordering::Relaxed);
            pooled.open = Some(OpenSnapshot {
                epoch,
                probe,
                used: Instant::now(),
            });
        }
        let result = if fresh {
            // Rows are neither used nor checked: they stay as they were for the next read to judge.
            read(&pooled.conn, &mut SnapshotRows::default())
        } else {
            if rows_reusable {
                pooled.rows.probe = probe;
                pooled.rows.used = Instant::now();
            } else {
                pooled.rows = KeptRows::new(content, probe);
            }
            read(&pooled.conn, &mut pooled.rows.rows)
        };
        // A snapshot that a batch or a checkpoint made stale while it was read is ended now rather than kept idle,
        // where it would keep the WAL from restarting. Whatever failed, the next read also starts a new snapshot (a
        // connection that cannot end its snapshot is dropped).
        if result.is_err() || self.epochs.snapshots.load(Ordering::Acquire) != epoch {
            pooled.open = None;
            if end_snapshot(&pooled.conn).is_err() {
                return result;
            }
        }
        let mut idle = self.idle();
        if idle.len() < KEEP_IDLE {
            idle.push(pooled);
        }
        result
    }

    /// Runs `read`, the SQL read of a row that a connection's kept rows did not have, and counts it.
    pub(super) fn row_read<T>(&self, read: impl FnOnce() -> T) -> T {
        self.rows_read.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("arca_db_secret_rows_read_total").increment(1);
        read()
    }

    /// The probe of the state the writer's last audit-only batch left (see `certify_audit_commit`) if the database
    /// is in it: `probe` is that state, or — when the writer was committing such a batch — a look after its word
    /// finds it. A reader that met a state it does not know while a batch is being committed waits for the word (at
    /// most `CERTIFY_WAIT`) rather than begin a new snapshot, losing its page cache and rows; the state it met may be
    /// one the commit passed through (see `CERTIFY_WAIT`), hence the second look. `None`: not certified.
    fn certified_state(&self, probe: &ShmProbe) -> ShmProbe {
        probe.as_ref()?;
        let commits = self
            .audit_commits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if commits.certified == *probe {
            return *probe;
        }
        if !commits.pending {
            return None;
        }
        let (commits, _) = self
            .audit_commit_settled
            .wait_timeout_while(commits, CERTIFY_WAIT, |commits| commits.pending)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if commits.pending {
            return None;
        }
        let certified = commits.certified;
        drop(commits);
        let now = self.probe_shm();
        now.filter(|_| now == certified)
    }

    /// The writer is about to commit a batch of audit appends alone; `certify_audit_commit` follows.
    pub(super) fn audit_commit_pending(&self) {
        self.audit_commits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pending = true;
    }

    /// The writer's word on the audit-only batch it just committed: `Some(probe)` says `probe` is the state that
    /// batch left, and no other connection has committed since the epoch last moved, so a snapshot taken since
    /// then still answers every read but the audit chain's exactly as a new one would. `None` says nothing (the
    /// writer moved the epoch instead).
    pub(super) fn certify_audit_commit(&self, probe: ShmProbe) {
        let mut commits = self
            .audit_commits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if probe.is_some() {
            commits.certified = probe;
        }
        commits.pending = false;
        drop(commits);
        self.audit_commit_settled.notify_all();
    }

    /// Reads the WAL-index header and checkpoint counter from the `-shm` file (see `SHM_PROBE`).
    pub(super) fn probe_shm(&self) -> ShmProbe {
        let shm = self.shm.get_or_init(|| {
            let mut name = self.path.clone().into_os_string();
            name.push("-shm");
            File::open(name).ok()
        });
        let mut bytes = [0u8; SHM_PROBE];
        shm.as_ref()?.read_exact_at(&mut bytes, 0).ok()?;
        Some(bytes)
    }

    /// Ends the snapshots of connections idle for `IDLE_SNAPSHOT` and drops rows unused for `IDLE_ROWS` (the
    /// background thread's job); whether any idle connection still holds a snapshot.
    fn end_stale_snapshots(&self) -> bool {
        self.end_idle_snapshots_where(|open| open.used.elapsed() >= IDLE_SNAPSHOT);
        // Freed after the pool's lock is released: readers wait on that lock.
        let mut forgotten = Vec::new();
        for pooled in self.idle().iter_mut() {
            if !pooled.rows.rows.is_empty() && pooled.rows.used.elapsed() >= IDLE_ROWS {
                forgotten.push(std::mem::replace(&mut pooled.rows, KeptRows::new(0, None)));
            }
        }
        drop(forgotten);
        self.idle().iter().any(|pooled| pooled.open.is_some())
    }

    /// Ends the snapshot of every idle connection: the writer does this before it checkpoints, so that only reads
    /// running at that moment can hold the checkpoint back. Their rows stay.
    pub(super) fn end_idle_snapshots(&self) {
        self.end_idle_snapshots_where(|_| true);
    }

    fn end_idle_snapshots_where(&self, stale: impl Fn(&OpenSnapshot) -> bool) {
        self.idle().retain_mut(|pooled| match &pooled.open {
            Some(open) if stale(open) => {
                pooled.open = None;
                end_snapshot(&pooled.conn).is_ok()
            }
            _ => true,
        });
    }

    /// Closes every idle connection (the store's `close`, so that the writer's connection is the last one).
    pub(super) fn close(&self) {
        self.idle().clear();
    }
}

/// Ends a connection's read transaction, if it has one.
fn end_snapshot(conn: &Connection) -> Result<(), StoreError> {
    if conn.is_autocommit() {
        return Ok(());
    }
    conn.execute_batch("COMMIT")
        .map_err(sql_err("ending a read transaction"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    /// A pooled read connection keeps a page cache of `READ_CACHE_KIB`, not SQLite's 2 MiB default.
    #[test]
    fn read_connections_have_the_larger_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("arca.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (x INTEGER);")
            .unwrap();
        let reads = super::Reads::new(
            &path,
            Duration::from_secs(1),
            Arc::new(super::Epochs::default()),
        )
        .unwrap();
        let size: i64 = reads
            .run(|conn| {
                conn.pragma_query_value(None, "cache_size", |row| row.get(0))
                    .map_err(super::sql_err("reading cache_size"))
            })
            .unwrap();
        assert_eq!(size, -super::READ_CACHE_KIB);
    }
}
