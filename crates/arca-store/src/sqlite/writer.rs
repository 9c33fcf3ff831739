//! The group-committing writer: one OS thread (`arca-sqlite-writer`) owns the only writable rusqlite connection,
//! receives write operations over a channel, and runs everything pending (up to `MAX_BATCH` operations, and those
//! that arrive while it runs) in ONE `BEGIN IMMEDIATE` transaction. Operations are applied directly; if one fails
//! (a conflict, say), the transaction is rolled back and the batch runs again with a savepoint per operation, so
//! the failing one is rolled back alone (`run_transaction`). Callers are answered (through a oneshot each) only
//! after `COMMIT` returns, so an acknowledged write is durable (`synchronous=FULL`) and concurrent writers share
//! one fsync. If the transaction as a whole fails, every operation in the batch gets the error. After deletes the
//! WAL is checkpointed once things go quiet, or every `CHECKPOINT_EVERY` deletes, so `secure_delete` reaches the
//! main file; under writes it is checkpointed every `WAL_RESET_EVERY` too, ending the read snapshots that `reads`
//! keeps open between reads first, so that the WAL restarts from its beginning instead of growing (see
//! `checkpoint`; SQLite's own automatic checkpoint, which would run inside a `COMMIT`, is off). Every batch moves
//! the content epoch (`reads::Epochs`), which tells `reads` that its open snapshots and the rows they have read are
//! stale — except a batch of audit appends alone, whose resulting state is certified to `reads` instead (see
//! `run_batch`); a checkpoint ends open snapshots but leaves the rows in use, since it changes no table. The thread
//! also opens, configures and migrates the connection, so no write (and no fsync) ever runs on the async runtime.
//! On shutdown it drains the queue, checkpoints, and closes the connection.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Weak;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use arca_core::{
    AccessKeyRecord, KekRow, SecretRecord, StoreError, StoredPayload, TokenRow, WrappedKeyRow,
};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use uuid::Uuid;

use super::acls::AclWrite;
use super::audit::{self, AuditAppend};
use super::codec::sql_err;
use super::kms::KmsWrite;
use super::orders::OrderWrite;
use super::quotas::QuotaWrite;
use super::reads::{Epochs, Reads};
use super::rotation::RotationWrite;
use super::{access_keys, keys, secrets, tokens};
use super::{consumers, containers, schema, secret_stores};
use arca_core::ContainerSecretRef;

/// Most operations run in one transaction.
const MAX_BATCH: usize = 256;
/// How long a batch keeps taking operations that arrive while it runs, before it commits those it has.
const GATHER_FOR: Duration = Duration::from_millis(2);
/// Operations that may wait for the writer before senders are made to wait.
const QUEUE_DEPTH: usize = 4096;
/// How long the writer waits for quiet after a delete before checkpointing the WAL.
const CHECKPOINT_DELAY: Duration = Duration::from_secs(1);
/// Deletes after which the WAL is checkpointed even if writes keep coming.
const CHECKPOINT_EVERY: u64 = 256;
/// How often, under writes, the writer checkpoints after ending idle read snapshots: the only checkpoints it runs
/// (SQLite's automatic one is off, see `open`), so this also bounds the WAL to what this long of writes adds. A
/// checkpoint that ran while reads still held snapshots from before it could not copy the whole WAL under steady
/// reads and writes, and the WAL would never restart from its beginning.
const WAL_RESET_EVERY: Duration = Duration::from_millis(100);
/// The same while only audit records are appended (the records of payload reads, a few hundred batches a second
/// under load): those batches leave read snapshots — and their page caches — in use (`run_batch`), and the
/// checkpoint's epoch move would end them every `WAL_RESET_EVERY`; they add ~3,000 frames (12 MiB) of WAL a second
/// at 27k payload reads a second.
const WAL_RESET_EVERY_AUDIT_ONLY: Duration = Duration::from_secs(1);
/// WAL pages added since the last checkpoint past which the writer copies them back between batches (in SQLite's
/// PASSIVE mode, which never waits for readers): SQLite's own automatic checkpoint mark, which a checkpoint every
/// `WAL_RESET_EVERY_AUDIT_ONLY` alone would overshoot ~4 times under payload reads, in one copy and `fsync` of ~50 ms
/// that stalled the queue of audit records behind it.
const CHECKPOINT_PAGES: i32 = 1000;
/// Tries of one checkpoint to copy the whole WAL, and the pause between them for readers to leave old snapshots.
const CHECKPOINT_ATTEMPTS: u32 = 4;
const CHECKPOINT_RETRY: Duration = Duration::from_micros(200);
/// Past this many frames in the WAL (16 MiB of 4 KiB pages) a checkpoint tries up to `CHECKPOINT_ATTEMPTS_LARGE_WAL`
/// times (about 6 ms of pauses at most) to leave the WAL restartable.
const LARGE_WAL_FRAMES: i64 = 4096;
const CHECKPOINT_ATTEMPTS_LARGE_WAL: u32 = 32;
/// Prepared statements the writer's connection keeps (every write statement has its own text).
const STATEMENT_CACHE: usize = 128;
/// The writer thread's name (as `top -H` and debuggers show it).
const THREAD_NAME: &str = "arca-sqlite-writer";

/// One write, with everything it needs owned so it can cross to the writer thread.
pub(super) enum WriteKind {
    InsertSystemKey {
        name: String,
        row: WrappedKeyRow,
    },
    InsertKek(KekRow),
    InsertToken(TokenRow),
    RevokeToken(String),
    InsertSecret {
        secret: SecretRecord,
        payload: Option<StoredPayload>,
    },
    AttachPayload {
        id: Uuid,
        payload: StoredPayload,
        updated: OffsetDateTime,
    },
    DeleteSecret(Uuid),
    ReplaceMetadata {
        id: Uuid,
        metadata: BTreeMap<String, String>,
    },
    InsertMetadatum {
        id: Uuid,
        key: String,
        value: String,
    },
    UpdateMetadatum {
        id: Uuid,
        key: String,
        value: String,
    },
    DeleteMetadatum {
        id: Uuid,
        key: String,
    },
    DeleteContainer(Uuid),
    AddContainerSecret {
        id: Uuid,
        reference: ContainerSecretRef,
        updated: OffsetDateTime,
    },
    RemoveContainerSecret {
        id: Uuid,
        reference: ContainerSecretRef,
        updated: OffsetDateTime,
    },
    DeleteContainerConsumer {
        id: Uuid,
        name: String,
        url: String,
    },
    DeleteSecretConsumer {
        id: Uuid,
        service: String,
        resource_type: String,
        resource_id: String,
    },
    SetPreferredSecretStore {
        project_id: String,
        store_id: Uuid,
        now: OffsetDateTime,
    },
    DeletePreferredSecretStore(String),
    SyncSecretStores(Vec<arca_core::SecretStoreRecord>),
    MovePayload {
        secret_id: Uuid,
        old: StoredPayload,
        new: StoredPayload,
        orphan: Option<arca_core::StoreOrphan>,
        now: OffsetDateTime,
    },
    DeleteStoreOrphan(i64),
    Acl(AclWrite),
    Order(OrderWrite),
    Quota(QuotaWrite),
    Audit(AuditAppend),
    /// A write and its audit record in one savepoint: `record.events[0]` when the write is done, `refused`
    /// when it answers `false`.
    Audited {
        write: Box<WriteKind>,
        record: AuditAppend,
        refused: Vec<u8>,
    },
    Kms(KmsWrite),
    Rotation(RotationWrite),
    InsertAccessKey(AccessKeyRecord),
    RevokeAccessKey(String),
}

impl WriteKind {
    /// Runs the operation on the writer's connection (inside its savepoint, which derefs to it). `Ok(false)` is the trait's "nothing
    /// done" answer (conflict, not found); operations without one answer `true`.
    fn apply(&self, conn: &Connection) -> Result<bool, StoreError> {
        match self {
            WriteKind::InsertSystemKey { name, row } => keys::insert_system_key(conn, name, row),
            WriteKind::InsertKek(row) => keys::insert_kek(conn, row),
            WriteKind::InsertToken(row) => tokens::insert(conn, row).map(|()| true),
            WriteKind::RevokeToken(id) => tokens::revoke(conn, id),
            WriteKind::InsertSecret { secret, payload } => {
                secrets::insert(conn, secret, payload.as_ref()).map(|()| true)
            }
            WriteKind::AttachPayload {
                id,
                payload,
                updated,
            } => secrets::attach_payload(conn, *id, payload, *updated),
            WriteKind::DeleteSecret(id) => secrets::delete(conn, *id),
            WriteKind::ReplaceMetadata { id, metadata } => {
                secrets::replace_metadata(conn, *id, metadata).map(|()| true)
            }
            WriteKind::InsertMetadatum { id, key, value } => {
                secrets::insert_metadatum(conn, *id, key, value)
            }
            WriteKind::UpdateMetadatum { id, key, value } => {
                secrets::update_metadatum(conn, *id, key, value)
            }
            WriteKind::DeleteMetadatum { id, key } => secrets::delete_metadatum(conn, *id, key),
            WriteKind::DeleteContainer(id) => containers::delete(conn, *id),
            WriteKind::AddContainerSecret {
                id,
                reference,
                updated,
            } => containers::add_secret(conn, *id, reference, *updated),
            WriteKind::RemoveContainerSecret {
                id,
                reference,
                updated,
            } => containers::remove_secret(conn, *id, reference, *updated),
            WriteKind::DeleteContainerConsumer { id, name, url } => {
                containers::delete_consumer(conn, *id, name, url)
            }
            WriteKind::DeleteSecretConsumer {
                id,
                service,
                resource_type,
                resource_id,
            } => consumers::delete(conn, *id, service, resource_type, resource_id),
            WriteKind::SetPreferredSecretStore {
                project_id,
                store_id,
                now,
            } => secret_stores::set_preferred(conn, project_id, *store_id, *now),
            WriteKind::DeletePreferredSecretStore(project_id) => {
                secret_stores::delete_preferred(conn, project_id)
            }
            WriteKind::SyncSecretStores(stores) => secret_stores::sync(conn, stores),
            WriteKind::MovePayload {
                secret_id,
                old,
                new,
                orphan,
                now,
            } => secret_stores::move_payload(conn, *secret_id, old, new, orphan.as_ref(), *now),
            WriteKind::DeleteStoreOrphan(id) => secret_stores::delete_orphan(conn, *id),
            WriteKind::Acl(write) => write.apply(conn),
            WriteKind::Order(write) => write.apply(conn),
            WriteKind::Quota(write) => write.apply(conn),
            WriteKind::Audit(append) => append.apply(conn),
            WriteKind::Audited {
                write,
                record,
                refused,
            } => {
                let done = write.apply(conn)?;
                if done {
                    record.apply(conn)?;
                } else {
                    record.apply_event(conn, refused)?;
                }
                Ok(done)
            }
            WriteKind::Kms(write) => write.apply(conn),
            WriteKind::Rotation(write) => write.apply(conn),
            WriteKind::InsertAccessKey(key) => access_keys::insert(conn, key).map(|()| true),
            WriteKind::RevokeAccessKey(id) => access_keys::revoke(conn, id),
        }
    }
}

/// A queued write, where its answer goes, and its place in the queue (released once answered).
struct WriteOp {
    kind: WriteKind,
    reply: oneshot::Sender<Result<bool, StoreError>>,
    _slot: OwnedSemaphorePermit,
}

/// Counters the writer keeps; read through `SqliteStore::commit_count` and friends.
#[derive(Debug, Default)]
pub(super) struct WriterStats {
    /// Transactions committed.
    pub(super) commits: AtomicU64,
    /// Operations acknowledged after a commit (successful or not).
    pub(super) ops: AtomicU64,
    /// What reads may keep (`reads::Epochs`): moved by every batch that may have changed more than the audit
    /// chain before any of its callers is answered, and around every checkpoint.
    pub(super) epochs: Arc<Epochs>,
}

/// The store's handle on the writer thread. Dropping it stops the thread once the queue is drained (without
/// waiting for it); [`shut_down`](Writer::shut_down) waits.
pub(super) struct Writer {
    tx: mpsc::Sender<WriteOp>,
    /// `QUEUE_DEPTH` permits: a sender waits (asynchronously) for one before queueing.
    slots: Arc<Semaphore>,
    pub(super) stats: Arc<WriterStats>,
    /// Resolves when the thread has closed its connection (an error if it panicked).
    done: oneshot::Receiver<()>,
}

impl Writer {
    /// Starts the writer thread, which opens (creating if missing) the database at `path`, configures the
    /// connection and applies migrations; resolves once it is ready to take operations, or with why it is not.
    /// Batches move `epochs`; idle snapshots of `reads` are ended before each checkpoint.
    pub(super) async fn start(
        path: &Path,
        busy_timeout: Duration,
        epochs: Arc<Epochs>,
        reads: Weak<Reads>,
    ) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let stats = Arc::new(WriterStats {
            epochs,
            ..WriterStats::default()
        });
        let thread_stats = Arc::clone(&stats);
        let path: PathBuf = path.to_path_buf();
        std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                let conn = match open(&path, busy_timeout) {
                    Ok(conn) => conn,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                run(conn, &rx, &thread_stats, &reads, busy_timeout);
                let _ = done_tx.send(());
            })
            .map_err(|e| StoreError(format!("SQLite store: starting the writer thread: {e}")))?;
        ready.await.map_err(|_| {
            StoreError("SQLite store: the writer thread stopped while opening the database".into())
        })??;
        Ok(Self {
            tx,
            slots: Arc::new(Semaphore::new(QUEUE_DEPTH)),
            stats,
            done,
        })
    }

    /// Queues a write and waits until its batch has committed (or failed).
    pub(super) async fn submit(&self, kind: WriteKind) -> Result<bool, StoreError> {
        let stopped = || StoreError("SQLite store: the writer thread has stopped".into());
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| stopped())?;
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(WriteOp {
                kind,
                reply,
                _slot: slot,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| {
            StoreError("SQLite store: the writer thread stopped before answering".into())
        })?
    }

    /// Stops accepting writes and waits for the thread to finish what is queued, checkpoint and close its
    /// connection.
    pub(super) async fn shut_down(self) {
        let Writer { tx, done, .. } = self;
        drop(tx);
        if done.await.is_err() {
            tracing::error!("SQLite writer thread failed");
        }
    }
}

/// Opens the writable connection on the `wal_gather` VFS (which relies on `synchronous=FULL`): WAL,
/// `synchronous=FULL`, foreign keys, `secure_delete`, in-memory statement journals, checkpoints by the writer
/// instead of inside commits, a busy timeout for other processes writing the same file; then migrations.
fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
    let shown = path.display();
    let failed = |e: rusqlite::Error| StoreError(format!("SQLite store: opening {shown}: {e}"));
    let vfs = super::wal_gather::register().map_err(StoreError)?;
    let mut conn =
        Connection::open_with_flags_and_vfs(path, OpenFlags::default(), vfs).map_err(failed)?;
    conn.busy_timeout(busy_timeout).map_err(failed)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(failed)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError(format!(
            "SQLite store: opening {shown}: the journal mode stays {mode:?}, not WAL"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(failed)?;
    super::codec::keep_plans(&conn)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(failed)?;
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(failed)?;
    // A savepoint (a batch run again after a failed operation) and a statement that may have to be undone alone
    // (foreign keys, triggers) keep the original images of the pages they change in a statement journal. By
    // default those spill to temporary files past 64 KiB (thousands of writes a second under load); they are
    // never needed after the batch, crash or not, so keep them in memory.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(failed)?;
    // SQLite's automatic checkpoint (every 1,000 WAL pages) runs inside the `COMMIT` that crosses the mark, and a
    // batch of audit appends is certified to `reads` only once its `COMMIT` returns: for the milliseconds the copy
    // takes, every reader that met the batch's state waited for the word and then gave up its snapshot. A WAL hook
    // of its own replaces it (SQLite keeps one per connection) and only notes the WAL's length; the writer copies
    // the WAL back between batches instead (`run`).
    conn.wal_hook(Some(note_wal_pages));
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    schema::migrate(&mut conn)?;
    Ok(conn)
}

thread_local! {
    /// Pages in the WAL after the writer's last commit, as SQLite's WAL hook reports them (the hook runs on the
    /// writer's own thread, inside `COMMIT`).
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// The writer connection's WAL hook: notes the WAL's length for `run`.
fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::ffi::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|noted| noted.set(pages));
    Ok(())
}

/// What happened since the last checkpoint, which decides when the next one is due.
struct SinceCheckpoint {
    at: Instant,
    deletes: u64,
    /// Whether any batch changed more than the audit chain.
    data: bool,
}

impl SinceCheckpoint {
    fn new() -> Self {
        Self {
            at: Instant::now(),
            deletes: 0,
            data: false,
        }
    }

    fn add(&mut self, batch: BatchDone) {
        self.deletes += batch.deleted;
        self.data |= !batch.audit_only;
    }

    /// Every `CHECKPOINT_EVERY` deletes, and every `WAL_RESET_EVERY` — or, while only audit records were appended
    /// (they do not end read snapshots, and they grow the WAL slowly), every `WAL_RESET_EVERY_AUDIT_ONLY`.
    fn due(&self) -> bool {
        let every = if self.data || self.deletes > 0 {
            WAL_RESET_EVERY
        } else {
            WAL_RESET_EVERY_AUDIT_ONLY
        };
        self.deletes >= CHECKPOINT_EVERY || self.at.elapsed() >= every
    }
}

/// The writer loop: runs until every sender is gone and the queue is empty, then checkpoints and closes.
fn run(
    mut conn: Connection,
    rx: &Receiver<WriteOp>,
    stats: &WriterStats,
    reads: &Weak<Reads>,
    busy_timeout: Duration,
) {
    let mut since = SinceCheckpoint::new();
    let mut foreign = ForeignCommits::default();
    // The WAL's length at the last checkpoint.
    let mut copied = 0;
    loop {
        let first = if since.deletes > 0 {
            match rx.recv_timeout(CHECKPOINT_DELAY) {
                Ok(op) => op,
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    checkpoint(&conn, stats, reads, busy_timeout);
                    since = SinceCheckpoint::new();
                    continue;
                }
            }
        } else {
            match rx.recv() {
                Ok(op) => op,
                Err(_) => break,
            }
        };
        since.add(run_batch(&mut conn, first, rx, stats, reads, &mut foreign));
        if since.due() {
            checkpoint(&conn, stats, reads, busy_timeout);
            since = SinceCheckpoint::new();
            copied = WAL_PAGES.with(|pages| pages.get());
        } else {
            let pages = WAL_PAGES.with(|pages| pages.get());
            // A WAL shorter than what was copied of it has restarted from its beginning.
            if pages < copied {
                copied = 0;
            }
            if pages - copied >= CHECKPOINT_PAGES {
                copy_back(&conn);
                copied = pages;
            }
        }
    }
    if since.deletes > 0 {
        checkpoint(&conn, stats, reads, busy_timeout);
    }
    if let Err((_, e)) = conn.close() {
        tracing::warn!(error = %e, "closing the SQLite writer connection");
    }
}

/// What a batch did, as far as checkpoints care.
struct BatchDone {
    /// Secrets (or KMS keys) it deleted.
    deleted: u64,
    /// Whether it appended audit records and did nothing else.
    audit_only: bool,
}

/// What the writer knows of commits by other connections (another process on the same file: an admin command).
/// `PRAGMA data_version` on the writer's own connection moves when, and only when, another connection has
/// committed, and the writer's is the only connection of this process that writes.
#[derive(Default)]
struct ForeignCommits {
    last_seen: Option<i64>,
}

impl ForeignCommits {
    /// Whether no other connection has committed since the last look; the first look, or one that fails, cannot
    /// tell and says no.
    fn none_since_last_look(&mut self, conn: &Connection) -> bool {
        let now = conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut statement| statement.query_row([], |row| row.get::<_, i64>(0)))
            .ok();
        let none = now.is_some() && now == self.last_seen;
        self.last_seen = now;
        none
    }
}

/// Runs `first` and whatever else is pending (up to `MAX_BATCH`) in one transaction and answers every caller;
/// returns what it did. The transaction is begun before the queue is drained, so operations that arrive while
/// `BEGIN IMMEDIATE` takes the write lock join this batch; so do operations that arrive while the batch's
/// operations are applied (`run_transaction`), until the queue is empty, `MAX_BATCH` is reached or the batch has
/// been gathering for `GATHER_FOR`. They would otherwise wait for this batch's commit and then pay a commit of
/// their own: every commit writes the last page of each B-tree it touched again, and fsyncs.
///
/// A batch that changed anything but the audit chain moves the epoch before anyone is answered, so that no read
/// begun after an acknowledged write reuses an older snapshot. A batch of audit appends alone (the records of
/// payload reads, every few milliseconds) leaves every other table as it was, so it does not: instead the state
/// it left is certified to `reads` (`Reads::certify_audit_commit`), whose open snapshots — and their page caches,
/// which SQLite drops whenever a connection begins a snapshot after any commit — then stay in use. That state is
/// read from the `-shm` file after the commit, and certified only if no other connection has committed since the
/// writer last looked (checked after the read, so one that slips in between is caught); if one has, the epoch
/// moves instead.
fn run_batch(
    conn: &mut Connection,
    first: WriteOp,
    rx: &Receiver<WriteOp>,
    stats: &WriterStats,
    reads: &Weak<Reads>,
    foreign: &mut ForeignCommits,
) -> BatchDone {
    let mut batch = Vec::with_capacity(8);
    batch.push(first);
    let mut audit_reads = None;
    let mut before_commit = |batch: &[WriteOp]| {
        // Decided just before `COMMIT`, when the batch is complete; readers cannot see it before then.
        audit_reads = reads.upgrade().filter(|_| appends_audit_only(batch));
        if let Some(reads) = &audit_reads {
            reads.audit_commit_pending();
        }
    };
    let mut outcome = begin(conn)
        .and_then(|tx| run_transaction(tx, &mut batch, Pass::Direct(rx), &mut before_commit));
    if matches!(outcome, Ok(Applied::OperationFailed)) {
        outcome = begin(conn)
            .and_then(|tx| run_transaction(tx, &mut batch, Pass::Savepoints, &mut before_commit));
    }
    let outcome = outcome.and_then(|applied| match applied {
        Applied::Committed(results) => Ok(results),
        // Only the direct pass stops at a failed operation.
        Applied::OperationFailed => Err(StoreError(
            "SQLite store: a write batch failed without savepoints".into(),
        )),
    });
    let count = batch.len() as u64;
    let audit_only = appends_audit_only(&batch);
    let certified = audit_reads.as_ref().and_then(|reads| {
        let probe = reads.probe_shm();
        (outcome.is_ok() && probe.is_some() && foreign.none_since_last_look(conn)).then_some(probe)
    });
    if certified.is_none() {
        stats.epochs.content_changed();
    }
    if let Some(reads) = &audit_reads {
        reads.certify_audit_commit(certified.flatten());
    }
    match outcome {
        Ok(results) => {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.ops.fetch_add(count, Ordering::Relaxed);
            let mut deleted = 0;
            for (op, result) in batch.into_iter().zip(results) {
                if matches!(
                    (&op.kind, &result),
                    (
                        WriteKind::DeleteSecret(_) | WriteKind::Kms(KmsWrite::DeleteKey(_)),
                        Ok(true)
                    )
                ) {
                    deleted += 1;
                }
                // A caller that gave up waiting still had its write committed; nobody to tell.
                let _ = op.reply.send(result);
            }
            BatchDone {
                deleted,
                audit_only,
            }
        }
        Err(e) => {
            tracing::error!(error = %e, ops = count, "SQLite write batch failed");
            for op in batch {
                let _ = op.reply.send(Err(StoreError(e.0.clone())));
            }
            BatchDone {
                deleted: 0,
                audit_only,
            }
        }
    }
}

/// Whether `batch` appends audit records and does nothing else.
fn appends_audit_only(batch: &[WriteOp]) -> bool {
    batch
        .iter()
        .all(|op| matches!(op.kind, WriteKind::Audit(_)))
}

/// `BEGIN IMMEDIATE` on the writer's connection.
fn begin(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err("starting a write transaction"))
}

/// How a batch's operations are applied.
enum Pass<'a> {
    /// Straight into the transaction, taking operations still queued on `rx` as it goes (see `run_batch`). A
    /// failing operation may have written part of what it meant to, so the first one ends the pass: the
    /// transaction is rolled back and the batch runs again with `Savepoints`.
    Direct(&'a Receiver<WriteOp>),
    /// A savepoint per operation, so a failing one is rolled back alone and the others commit.
    Savepoints,
}

/// How a pass ended.
enum Applied {
    /// Committed, with each operation's own outcome.
    Committed(Vec<Result<bool, StoreError>>),
    /// The direct pass met a failing operation and rolled everything back.
    OperationFailed,
}

/// Applies `batch` in `pass`, then `COMMIT`. Savepoints cost the writer ~10% of a secret's insert (SQLite copies
/// every page an operation first changes within its savepoint into a statement journal, which is most pages of a
/// batch again), and operations that fail are rare (a refusal is an `Ok(false)`, not a failure), so every batch
/// runs direct first. `before_commit` sees the whole batch just before `COMMIT`. The outer error fails the whole
/// batch. A transaction dropped on an error path, or after a failed operation, is rolled back by rusqlite.
fn run_transaction(
    mut tx: Transaction<'_>,
    batch: &mut Vec<WriteOp>,
    pass: Pass<'_>,
    before_commit: &mut dyn FnMut(&[WriteOp]),
) -> Result<Applied, StoreError> {
    let started = std::time::Instant::now();
    audit::forget_head();
    let gather = |batch: &mut Vec<WriteOp>, rx: &Receiver<WriteOp>| {
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
    };
    if let Pass::Direct(rx) = pass {
        gather(batch, rx);
    }
    let mut results = Vec::with_capacity(batch.len());
    let mut next = 0;
    loop {
        if next == batch.len() {
            let Pass::Direct(rx) = pass else { break };
            if started.elapsed() >= GATHER_FOR {
                break;
            }
            gather(batch, rx);
            if next == batch.len() {
                break;
            }
            continue;
        }
        let op = &batch[next];
        next += 1;
        let result = match pass {
            Pass::Direct(_) => {
                let result = op.kind.apply(&tx);
                if result.is_err() {
                    return Ok(Applied::OperationFailed);
                }
                result
            }
            Pass::Savepoints => {
                let savepoint = tx.savepoint().map_err(sql_err("opening a savepoint"))?;
                let result = op.kind.apply(&savepoint);
                if result.is_ok() {
                    savepoint
                        .commit()
                        .map_err(sql_err("releasing a savepoint"))?;
                } else {
                    // A savepoint finishes by rolling back to its start and releasing itself, and may take
                    // audit appends with it.
                    savepoint
                        .finish()
                        .map_err(sql_err("rolling back a savepoint"))?;
                    audit::forget_head();
                }
                result
            }
        };
        results.push(result);
    }
    before_commit(batch);
    tx.commit().map_err(sql_err("committing a write batch"))?;
    metrics::histogram!("arca_db_batch_duration_seconds").record(started.elapsed().as_secs_f64());
    Ok(Applied::Committed(results))
}

/// Copies what it can of the WAL into the main file without waiting for readers (SQLite's PASSIVE mode): no
/// snapshot needs to end, and no row changes.
fn copy_back(conn: &Connection) {
    let started = Instant::now();
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
    }
    metrics::histogram!("arca_db_checkpoint_duration_seconds")
        .record(started.elapsed().as_secs_f64());
}

/// A checkpoint that copies the WAL into the main file and, when it can, leaves no reader in the WAL, so the next
/// commit starts the WAL from its beginning again (SQLite's RESTART mode, without its busy handler: this thread
/// must not sleep for long). Reads keep their snapshots between calls (`reads`), so first the snapshot epoch moves
/// (no snapshot from before is reused; a read in flight ends its own when it finishes) and every idle snapshot is
/// ended; readers that begin once the WAL is copied read the main file. The content epoch stays: a checkpoint copies
/// pages without changing them, so the rows reads have kept stay in use. Tried a few times, briefly apart, then
/// left to the next round; the snapshot epoch moves again after it.
fn checkpoint(conn: &Connection, stats: &WriterStats, reads: &Weak<Reads>, busy_timeout: Duration) {
    let started = Instant::now();
    let let_readers_go = || {
        stats.epochs.snapshots_end();
        if let Some(reads) = reads.upgrade() {
            reads.end_idle_snapshots();
        }
    };
    let _ = conn.busy_timeout(Duration::ZERO);
    let mut attempts = CHECKPOINT_ATTEMPTS;
    let mut attempt = 0;
    while attempt < attempts {
        if attempt > 0 {
            std::thread::sleep(CHECKPOINT_RETRY);
        }
        attempt += 1;
        let_readers_go();
        let outcome = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
        });
        match outcome {
            Ok((0, _)) => break,
            // A large WAL (restarts kept failing, readers descheduled mid-read on a busy machine): try harder.
            Ok((_, frames)) if frames > LARGE_WAL_FRAMES => {
                attempts = CHECKPOINT_ATTEMPTS_LARGE_WAL
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
                break;
            }
        }
    }
    if let Err(e) = conn.busy_timeout(busy_timeout) {
        tracing::warn!(error = %e, "SQLite writer: restoring the busy timeout");
    }
    let_readers_go();
    metrics::histogram!("arca_db_checkpoint_duration_seconds")
        .record(started.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    //! `run_batch` on a real database file: the direct pass, and its fall-back to savepoints when an operation
    //! fails after writing part of what it meant to.

    use super::*;

    fn secret(content_type: &str) -> WriteKind {
        let (secret, payload) = crate::sqlite::test_secret::secret_with_payload(64, content_type);
        WriteKind::InsertSecret {
            secret,
            payload: Some(payload),
        }
    }

    fn id_of(kind: &WriteKind) -> String {
        match kind {
            WriteKind::InsertSecret { secret, .. } => secret.id.to_string(),
            _ => unreachable!("only inserts have an id to look up"),
        }
    }

    /// Queues `kinds` behind `first`, runs one batch, and returns each operation's answer, in order.
    fn run_one_batch(
        conn: &mut Connection,
        stats: &WriterStats,
        kinds: Vec<WriteKind>,
    ) -> Vec<Result<bool, StoreError>> {
        let slots = Arc::new(Semaphore::new(kinds.len()));
        let (tx, rx) = mpsc::channel();
        let mut answers = Vec::new();
        let mut ops = kinds.into_iter().map(|kind| {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            WriteOp {
                kind,
                reply,
                _slot: Arc::clone(&slots)
                    .try_acquire_owned()
                    .expect("a slot per op"),
            }
        });
        let first = ops.next().expect("at least one op");
        for op in ops {
            tx.send(op).expect("queued");
        }
        run_batch(
            conn,
            first,
            &rx,
            stats,
            &Weak::new(),
            &mut ForeignCommits::default(),
        );
        answers
            .into_iter()
            .map(|mut answer| answer.try_recv().expect("answered"))
            .collect()
    }

    fn stored(conn: &Connection, id: &str) -> bool {
        conn.query_row("SELECT COUNT(*) FROM secrets WHERE id = ?", [id], |row| {
            row.get::<_, i64>(0)
        })
        .expect("counted")
            == 1
    }

    #[test]
    fn a_batch_without_failures_commits_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn = open(&dir.path().join("arca.db"), Duration::ZERO).expect("opened");
        let stats = WriterStats::default();
        let kinds: Vec<_> = (0..5).map(|_| secret("text/plain")).collect();
        let ids: Vec<_> = kinds.iter().map(id_of).collect();
        let answers = run_one_batch(&mut conn, &stats, kinds);
        assert!(answers.iter().all(|a| matches!(a, Ok(true))));
        assert!(ids.iter().all(|id| stored(&conn, id)));
        assert_eq!(stats.commits.load(Ordering::Relaxed), 1);
        assert_eq!(stats.ops.load(Ordering::Relaxed), 5);
    }

    /// The failing operation replaces a secret's metadata: it deletes the old pairs and inserts the first new
    /// one, then its second is refused (by a trigger the test adds). The direct pass stops there, and the savepoint
    /// pass commits the inserts around it and leaves the old metadata as it was.
    #[test]
    fn an_operation_failing_after_a_write_is_undone_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn = open(&dir.path().join("arca.db"), Duration::ZERO).expect("opened");
        let target = secret("text/plain");
        let target_id = id_of(&target);
        let WriteKind::InsertSecret { secret: record, .. } = &target else {
            unreachable!("secret() makes an insert")
        };
        let id = record.id;
        let old = BTreeMap::from([("colour".to_owned(), "blue".to_owned())]);
        let setup = run_one_batch(
            &mut conn,
            &WriterStats::default(),
            vec![
                target,
                WriteKind::ReplaceMetadata {
                    id,
                    metadata: old.clone(),
                },
            ],
        );
        assert!(setup.iter().all(Result::is_ok), "{setup:?}");
        conn.execute_batch(
            "CREATE TEMP TRIGGER refuse_metadatum BEFORE INSERT ON secret_metadata \
             WHEN NEW.value = 'refused' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
        )
        .expect("trigger");
        let stats = WriterStats::default();
        let kinds = vec![
            secret("text/plain"),
            WriteKind::ReplaceMetadata {
                id,
                metadata: BTreeMap::from([
                    ("a".to_owned(), "accepted".to_owned()),
                    ("b".to_owned(), "refused".to_owned()),
                ]),
            },
            secret("text/plain"),
        ];
        let ids = [id_of(&kinds[0]), id_of(&kinds[2])];
        let answers = run_one_batch(&mut conn, &stats, kinds);
        assert!(matches!(answers[0], Ok(true)));
        let refused = answers[1]
            .as_ref()
            .expect_err("the refused metadatum fails its replacement");
        assert!(refused.0.contains("refused by the test"), "{refused}");
        assert!(matches!(answers[2], Ok(true)));
        assert!(stored(&conn, &ids[0]) && stored(&conn, &ids[1]) && stored(&conn, &target_id));
        assert_eq!(stats.commits.load(Ordering::Relaxed), 1);
        assert_eq!(
            secrets::get_metadata(&conn, id).expect("read"),
            old,
            "the failed replacement's delete and first insert are rolled back"
        );
    }

    fn appends(events: &[&[u8]]) -> WriteKind {
        WriteKind::Audit(AuditAppend {
            events: events.iter().map(|e| e.to_vec()).collect(),
            // A stand-in MAC that names its record, so the links can be read back.
            sealer: Arc::new(|seq, prev: &[u8], event: &[u8]| {
                (1, [&seq.to_be_bytes()[..], prev, event].concat())
            }),
            done: Arc::default(),
        })
    }

    /// The chain's head is carried from append to append within a pass (`audit::HEAD`): a batch whose direct pass
    /// appended and then met a failing operation runs again with savepoints, and the chain that commits starts from
    /// the head in the file, not from the direct pass's rolled-back appends.
    #[test]
    fn audit_appends_after_a_failed_pass_continue_the_committed_chain() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn = open(&dir.path().join("arca.db"), Duration::ZERO).expect("opened");
        let stored = secret("text/plain");
        let WriteKind::InsertSecret {
            secret: record,
            payload,
        } = &stored
        else {
            unreachable!("secret() makes an insert")
        };
        let again = WriteKind::InsertSecret {
            secret: record.clone(),
            payload: payload.clone(),
        };
        let first = run_one_batch(
            &mut conn,
            &WriterStats::default(),
            vec![stored, appends(&[b"a"])],
        );
        assert!(matches!(first[..], [Ok(true), Ok(true)]), "{first:?}");
        let answers = run_one_batch(
            &mut conn,
            &WriterStats::default(),
            vec![appends(&[b"b", b"c"]), again, appends(&[b"d"])],
        );
        assert!(
            matches!(answers[0], Ok(true)) && answers[1].is_err() && matches!(answers[2], Ok(true)),
            "{answers:?}"
        );
        let chain = super::audit::all(&conn).expect("read");
        let events: Vec<_> = chain.iter().map(|r| r.event.as_slice()).collect();
        assert_eq!(events, [&b"a"[..], b"b", b"c", b"d"]);
        for (n, record) in chain.iter().enumerate() {
            assert_eq!(record.seq, n as u64 + 1, "no gap in the sequence");
            let prev = n
                .checked_sub(1)
                .map_or(arca_core::GENESIS_MAC.to_vec(), |p| chain[p].mac.clone());
            assert_eq!(
                record.prev_mac, prev,
                "record {} links to its predecessor",
                record.seq
            );
        }
    }
}
