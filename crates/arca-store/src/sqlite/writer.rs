//! The group-committing writer: one task owns the only writable connection, receives write operations over a
//! channel, and runs everything pending (up to `MAX_BATCH` operations) in ONE `BEGIN IMMEDIATE` transaction with a
//! savepoint per operation, so a failing operation (a conflict, say) is rolled back alone. Callers are answered
//! only after `COMMIT` returns, so an acknowledged write is durable (`synchronous=FULL`) and concurrent writers
//! share one fsync. If the transaction as a whole fails, every operation in the batch gets the error. After
//! deletes the WAL is checkpointed (PASSIVE) once things go quiet, so `secure_delete` reaches the main file.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arca_core::{KekRow, SecretRecord, StoreError, StoredPayload, TokenRow, WrappedKeyRow};
use sqlx::{Connection, SqliteConnection};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::acls::AclWrite;
use super::codec::db_err;
use super::orders::OrderWrite;
use super::quotas::QuotaWrite;
use super::{consumers, containers, secret_stores};
use super::{keys, secrets, tokens};
use arca_core::{ContainerConsumer, ContainerRecord, ContainerSecretRef, SecretConsumer};

/// Most operations run in one transaction.
const MAX_BATCH: usize = 256;
/// Operations that may wait in the channel before senders are made to wait.
const QUEUE_DEPTH: usize = 4096;
/// How long the writer waits for quiet after a delete before checkpointing the WAL.
const CHECKPOINT_DELAY: Duration = Duration::from_secs(1);
/// Deletes after which the WAL is checkpointed even if writes keep coming.
const CHECKPOINT_EVERY: u64 = 256;

/// One write, with everything it needs owned so it can cross to the writer task.
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
    InsertContainer(ContainerRecord),
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
    UpsertContainerConsumer {
        id: Uuid,
        consumer: ContainerConsumer,
    },
    DeleteContainerConsumer {
        id: Uuid,
        name: String,
        url: String,
    },
    UpsertSecretConsumer {
        id: Uuid,
        consumer: SecretConsumer,
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
    Acl(AclWrite),
    Order(OrderWrite),
    Quota(QuotaWrite),
}

impl WriteKind {
    /// Runs the operation on the writer's connection (inside its savepoint). `Ok(false)` is the trait's "nothing
    /// done" answer (conflict, not found); operations without one answer `true`.
    async fn apply(&self, conn: &mut SqliteConnection) -> Result<bool, StoreError> {
        match self {
            WriteKind::InsertSystemKey { name, row } => {
                keys::insert_system_key(conn, name, row).await
            }
            WriteKind::InsertKek(row) => keys::insert_kek(conn, row).await,
            WriteKind::InsertToken(row) => tokens::insert(conn, row).await.map(|()| true),
            WriteKind::RevokeToken(id) => tokens::revoke(conn, id).await,
            WriteKind::InsertSecret { secret, payload } => {
                secrets::insert(conn, secret, payload.as_ref())
                    .await
                    .map(|()| true)
            }
            WriteKind::AttachPayload {
                id,
                payload,
                updated,
            } => secrets::attach_payload(conn, *id, payload, *updated).await,
            WriteKind::DeleteSecret(id) => secrets::delete(conn, *id).await,
            WriteKind::ReplaceMetadata { id, metadata } => {
                secrets::replace_metadata(conn, *id, metadata)
                    .await
                    .map(|()| true)
            }
            WriteKind::InsertMetadatum { id, key, value } => {
                secrets::insert_metadatum(conn, *id, key, value).await
            }
            WriteKind::UpdateMetadatum { id, key, value } => {
                secrets::update_metadatum(conn, *id, key, value).await
            }
            WriteKind::DeleteMetadatum { id, key } => {
                secrets::delete_metadatum(conn, *id, key).await
            }
            WriteKind::InsertContainer(container) => containers::insert(conn, container).await,
            WriteKind::DeleteContainer(id) => containers::delete(conn, *id).await,
            WriteKind::AddContainerSecret {
                id,
                reference,
                updated,
            } => containers::add_secret(conn, *id, reference, *updated).await,
            WriteKind::RemoveContainerSecret {
                id,
                reference,
                updated,
            } => containers::remove_secret(conn, *id, reference, *updated).await,
            WriteKind::UpsertContainerConsumer { id, consumer } => {
                containers::upsert_consumer(conn, *id, consumer).await
            }
            WriteKind::DeleteContainerConsumer { id, name, url } => {
                containers::delete_consumer(conn, *id, name, url).await
            }
            WriteKind::UpsertSecretConsumer { id, consumer } => {
                consumers::upsert(conn, *id, consumer).await
            }
            WriteKind::DeleteSecretConsumer {
                id,
                service,
                resource_type,
                resource_id,
            } => consumers::delete(conn, *id, service, resource_type, resource_id).await,
            WriteKind::SetPreferredSecretStore {
                project_id,
                store_id,
                now,
            } => secret_stores::set_preferred(conn, project_id, *store_id, *now).await,
            WriteKind::DeletePreferredSecretStore(project_id) => {
                secret_stores::delete_preferred(conn, project_id).await
            }
            WriteKind::Acl(write) => write.apply(conn).await,
            WriteKind::Order(write) => write.apply(conn).await,
            WriteKind::Quota(write) => write.apply(conn).await,
        }
    }
}

/// A queued write and where its answer goes.
struct WriteOp {
    kind: WriteKind,
    reply: oneshot::Sender<Result<bool, StoreError>>,
}

/// Counters the writer keeps; read through `SqliteStore::commit_count` and friends.
#[derive(Debug, Default)]
pub(super) struct WriterStats {
    /// Transactions committed.
    pub(super) commits: AtomicU64,
    /// Operations acknowledged after a commit (successful or not).
    pub(super) ops: AtomicU64,
}

/// The store's handle on the writer task.
pub(super) struct Writer {
    tx: mpsc::Sender<WriteOp>,
    pub(super) stats: Arc<WriterStats>,
    task: JoinHandle<()>,
}

impl Writer {
    /// Starts the writer task on an open, migrated connection.
    pub(super) fn spawn(conn: SqliteConnection) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let stats = Arc::new(WriterStats::default());
        let task = tokio::spawn(run(conn, rx, Arc::clone(&stats)));
        Self { tx, stats, task }
    }

    /// Queues a write and waits until its batch has committed (or failed).
    pub(super) async fn submit(&self, kind: WriteKind) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(WriteOp { kind, reply })
            .await
            .map_err(|_| StoreError("SQLite store: the writer task has stopped".into()))?;
        answer.await.map_err(|_| {
            StoreError("SQLite store: the writer task stopped before answering".into())
        })?
    }

    /// Stops accepting writes, lets the task finish what is queued, checkpoint and close its connection.
    pub(super) async fn shut_down(self) {
        let Writer { tx, task, .. } = self;
        drop(tx);
        if let Err(e) = task.await {
            tracing::error!(error = %e, "SQLite writer task failed");
        }
    }
}

/// The writer loop: runs until every sender is gone, then checkpoints and closes the connection.
async fn run(mut conn: SqliteConnection, mut rx: mpsc::Receiver<WriteOp>, stats: Arc<WriterStats>) {
    let mut deletes_since_checkpoint: u64 = 0;
    loop {
        let first = if deletes_since_checkpoint > 0 {
            match tokio::time::timeout(CHECKPOINT_DELAY, rx.recv()).await {
                Ok(Some(op)) => op,
                Ok(None) => break,
                Err(_quiet) => {
                    checkpoint(&mut conn).await;
                    deletes_since_checkpoint = 0;
                    continue;
                }
            }
        } else {
            match rx.recv().await {
                Some(op) => op,
                None => break,
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        deletes_since_checkpoint += run_batch(&mut conn, batch, &stats).await;
        if deletes_since_checkpoint >= CHECKPOINT_EVERY {
            checkpoint(&mut conn).await;
            deletes_since_checkpoint = 0;
        }
    }
    if deletes_since_checkpoint > 0 {
        checkpoint(&mut conn).await;
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the SQLite writer connection");
    }
}

/// Runs one batch in one transaction and answers every caller; returns how many secrets it deleted.
async fn run_batch(conn: &mut SqliteConnection, batch: Vec<WriteOp>, stats: &WriterStats) -> u64 {
    let count = batch.len() as u64;
    match run_transaction(conn, &batch).await {
        Ok(results) => {
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.ops.fetch_add(count, Ordering::Relaxed);
            let mut deleted = 0;
            for (op, result) in batch.into_iter().zip(results) {
                if matches!((&op.kind, &result), (WriteKind::DeleteSecret(_), Ok(true))) {
                    deleted += 1;
                }
                // A caller that gave up waiting still had its write committed; nobody to tell.
                let _ = op.reply.send(result);
            }
            deleted
        }
        Err(e) => {
            tracing::error!(error = %e, ops = count, "SQLite write batch failed");
            for op in batch {
                let _ = op.reply.send(Err(StoreError(e.0.clone())));
            }
            0
        }
    }
}

/// `BEGIN IMMEDIATE`, a savepoint per operation, `COMMIT`. The outer error fails the whole batch; the inner
/// results are each operation's own outcome. A transaction dropped on an error path is rolled back by sqlx.
async fn run_transaction(
    conn: &mut SqliteConnection,
    batch: &[WriteOp],
) -> Result<Vec<Result<bool, StoreError>>, StoreError> {
    let mut tx = conn
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(db_err("starting a write transaction"))?;
    let mut results = Vec::with_capacity(batch.len());
    for op in batch {
        let mut savepoint = tx.begin().await.map_err(db_err("opening a savepoint"))?;
        let result = op.kind.apply(&mut savepoint).await;
        if result.is_ok() {
            savepoint
                .commit()
                .await
                .map_err(db_err("releasing a savepoint"))?;
        } else {
            savepoint
                .rollback()
                .await
                .map_err(db_err("rolling back a savepoint"))?;
        }
        results.push(result);
    }
    tx.commit()
        .await
        .map_err(db_err("committing a write batch"))?;
    Ok(results)
}

/// A PASSIVE WAL checkpoint: copies what it can into the main file without waiting for readers.
async fn checkpoint(conn: &mut SqliteConnection) {
    if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(&mut *conn)
        .await
    {
        tracing::warn!(error = %e, "SQLite WAL checkpoint failed");
    }
}
