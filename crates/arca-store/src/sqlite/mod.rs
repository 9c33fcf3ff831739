//! `SqliteStore`: the embedded `Store` on one SQLite file. Opening configures the connections (WAL,
//! `synchronous=FULL`, `foreign_keys`, `secure_delete`, a busy timeout for other processes writing the same file),
//! applies migrations, starts the group-committing writer task and opens a pool of read-only connections. The
//! trait methods delegate to one file per area: `secrets`, `keys`, `tokens`, `list`; writes go through `writer`.

mod codec;
mod keys;
mod list;
mod schema;
mod secrets;
mod tokens;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arca_core::{
    KekRow, SecretPage, SecretQuery, SecretRecord, Store, StoreError, StoredPayload, TokenRow,
    WrappedKeyRow,
};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use writer::{WriteKind, Writer};

/// How long a connection waits for a lock held by another connection or process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read-only connections in the pool.
const READ_CONNECTIONS: u32 = 4;

/// The SQLite `Store`. All writes are serialised through one writer task that group-commits them; reads use a
/// pool of read-only connections and see every acknowledged write.
pub struct SqliteStore {
    reads: SqlitePool,
    writer: Writer,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("commits", &self.commit_count())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path`, applies migrations and starts the writer task.
    /// Must be called within a Tokio runtime.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let base = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("secure_delete", "ON");
        let shown = path.display();

        let mut conn: SqliteConnection = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .connect()
            .await
            .map_err(|e| StoreError(format!("SQLite store: opening {shown}: {e}")))?;
        schema::migrate(&mut conn).await?;

        let reads = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(base.read_only(true))
            .await
            .map_err(|e| {
                StoreError(format!(
                    "SQLite store: opening read connections to {shown}: {e}"
                ))
            })?;
        Ok(SqliteStore {
            reads,
            writer: Writer::spawn(conn),
        })
    }

    /// Write transactions committed since `open`. Under concurrent writes this grows more slowly than
    /// [`write_count`](Self::write_count): that is group commit at work.
    pub fn commit_count(&self) -> u64 {
        self.writer.stats.commits.load(Ordering::Relaxed)
    }

    /// Write operations committed since `open` (each acknowledged only after its transaction committed).
    pub fn write_count(&self) -> u64 {
        self.writer.stats.ops.load(Ordering::Relaxed)
    }

    /// Shuts down cleanly: closes the read connections, waits for queued writes to commit, then closes the writer.
    /// The writer closes last so that, when no other process has the file open, SQLite checkpoints the whole WAL
    /// into the main file and removes it. Dropping the store also stops the writer once its queue is drained,
    /// but without waiting for it.
    pub async fn close(self) {
        let SqliteStore { reads, writer } = self;
        reads.close().await;
        writer.shut_down().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn get_system_key(&self, name: &str) -> Result<Option<WrappedKeyRow>, StoreError> {
        keys::get_system_key(&self.reads, name).await
    }

    async fn insert_system_key(&self, name: &str, row: &WrappedKeyRow) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::InsertSystemKey {
                name: name.to_owned(),
                row: row.clone(),
            })
            .await
    }

    async fn get_active_kek(&self, project_id: &str) -> Result<Option<KekRow>, StoreError> {
        keys::get_active_kek(&self.reads, project_id).await
    }

    async fn get_kek(
        &self,
        project_id: &str,
        pkek_version: u32,
    ) -> Result<Option<KekRow>, StoreError> {
        keys::get_kek(&self.reads, project_id, pkek_version).await
    }

    async fn insert_kek(&self, row: &KekRow) -> Result<bool, StoreError> {
        self.writer.submit(WriteKind::InsertKek(row.clone())).await
    }

    async fn insert_token(&self, row: &TokenRow) -> Result<(), StoreError> {
        self.writer
            .submit(WriteKind::InsertToken(row.clone()))
            .await
            .map(|_| ())
    }

    async fn get_token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        tokens::get(&self.reads, id).await
    }

    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::RevokeToken(id.to_owned()))
            .await
    }

    async fn insert_secret(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
    ) -> Result<(), StoreError> {
        let op = WriteKind::InsertSecret {
            secret: secret.clone(),
            payload: payload.cloned(),
        };
        self.writer.submit(op).await.map(|_| ())
    }

    async fn attach_payload(
        &self,
        id: Uuid,
        payload: &StoredPayload,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::AttachPayload {
                id,
                payload: payload.clone(),
                updated,
            })
            .await
    }

    async fn get_secret(&self, id: Uuid) -> Result<Option<SecretRecord>, StoreError> {
        secrets::get(&self.reads, id).await
    }

    async fn get_payload(&self, id: Uuid) -> Result<Option<StoredPayload>, StoreError> {
        secrets::get_payload(&self.reads, id).await
    }

    async fn list_secrets(&self, query: &SecretQuery) -> Result<SecretPage, StoreError> {
        list::list(&self.reads, query).await
    }

    async fn delete_secret(&self, id: Uuid) -> Result<bool, StoreError> {
        self.writer.submit(WriteKind::DeleteSecret(id)).await
    }

    async fn get_secret_metadata(&self, id: Uuid) -> Result<BTreeMap<String, String>, StoreError> {
        secrets::get_metadata(&self.reads, id).await
    }

    async fn replace_secret_metadata(
        &self,
        id: Uuid,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.writer
            .submit(WriteKind::ReplaceMetadata {
                id,
                metadata: metadata.clone(),
            })
            .await
            .map(|_| ())
    }

    async fn insert_secret_metadatum(
        &self,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::InsertMetadatum {
            id,
            key: key.to_owned(),
            value: value.to_owned(),
        };
        self.writer.submit(op).await
    }

    async fn update_secret_metadatum(
        &self,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::UpdateMetadatum {
            id,
            key: key.to_owned(),
            value: value.to_owned(),
        };
        self.writer.submit(op).await
    }

    async fn delete_secret_metadatum(&self, id: Uuid, key: &str) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::DeleteMetadatum {
                id,
                key: key.to_owned(),
            })
            .await
    }
}
