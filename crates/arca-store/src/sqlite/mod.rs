//! `SqliteStore`: the embedded `Store` on one SQLite file. Opening configures the connections (WAL,
//! `synchronous=FULL`, `foreign_keys`, `secure_delete`, a busy timeout for other processes writing the same file),
//! applies migrations, starts the group-committing writer task and opens a pool of read-only connections. The
//! trait methods delegate to one file per area: `secrets`, `keys`, `tokens`, `list`, `containers`,
//! `consumers`, `secret_stores`, `acls`, `orders`, `quotas`; writes go through `writer`.

mod acls;
mod codec;
mod consumers;
mod containers;
mod hot_reads;
mod keys;
mod list;
mod orders;
mod quotas;
mod schema;
mod secret_stores;
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

use acls::{AclOwner, AclWrite};
use arca_core::{Acl, OrderPage, OrderRecord, ProjectQuotasPage, ProjectQuotasRecord, QuotaCheck};
use orders::OrderWrite;
use quotas::QuotaWrite;

use arca_core::{
    ContainerConsumer, ContainerConsumerPage, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, SecretConsumer, SecretConsumerPage, SecretStoreRecord,
};

/// How long a connection waits for a lock held by another connection or process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read-only connections in the pool.
const READ_CONNECTIONS: u32 = 4;

/// The SQLite `Store`. All writes are serialised through one writer task that group-commits them; reads use a
/// pool of read-only connections and see every acknowledged write.
pub struct SqliteStore {
    reads: SqlitePool,
    hot: hot_reads::HotReads,
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
            hot: hot_reads::HotReads::new(path, BUSY_TIMEOUT),
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
        let SqliteStore { reads, writer, .. } = self;
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
        self.hot.token(id).await
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
        self.hot.secret(id).await
    }

    async fn get_secret_with_payload(
        &self,
        id: Uuid,
    ) -> Result<Option<(SecretRecord, Option<StoredPayload>)>, StoreError> {
        self.hot.secret_with_payload(id).await
    }

    async fn get_payload(&self, id: Uuid) -> Result<Option<StoredPayload>, StoreError> {
        secrets::get_payload(&self.reads, id).await
    }

    async fn list_secrets(&self, query: &SecretQuery) -> Result<SecretPage, StoreError> {
        list::list(&self.hot, query).await
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

    async fn insert_container(&self, container: &ContainerRecord) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::InsertContainer(container.clone()))
            .await
    }

    async fn get_container(&self, id: Uuid) -> Result<Option<ContainerRecord>, StoreError> {
        containers::get(&self.reads, id).await
    }

    async fn list_containers(&self, query: &ContainerQuery) -> Result<ContainerPage, StoreError> {
        containers::list(&self.reads, query).await
    }

    async fn delete_container(&self, id: Uuid) -> Result<bool, StoreError> {
        self.writer.submit(WriteKind::DeleteContainer(id)).await
    }

    async fn add_container_secret(
        &self,
        id: Uuid,
        secret: &ContainerSecretRef,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::AddContainerSecret {
            id,
            reference: secret.clone(),
            updated,
        };
        self.writer.submit(op).await
    }

    async fn remove_container_secret(
        &self,
        id: Uuid,
        secret: &ContainerSecretRef,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::RemoveContainerSecret {
            id,
            reference: secret.clone(),
            updated,
        };
        self.writer.submit(op).await
    }

    async fn upsert_container_consumer(
        &self,
        id: Uuid,
        consumer: &ContainerConsumer,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::UpsertContainerConsumer {
            id,
            consumer: consumer.clone(),
        };
        self.writer.submit(op).await
    }

    async fn list_container_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<ContainerConsumerPage, StoreError> {
        containers::list_consumers(&self.reads, id, limit, offset).await
    }

    async fn delete_container_consumer(
        &self,
        id: Uuid,
        name: &str,
        url: &str,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::DeleteContainerConsumer {
            id,
            name: name.to_owned(),
            url: url.to_owned(),
        };
        self.writer.submit(op).await
    }

    async fn upsert_secret_consumer(
        &self,
        id: Uuid,
        consumer: &SecretConsumer,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::UpsertSecretConsumer {
            id,
            consumer: consumer.clone(),
        };
        self.writer.submit(op).await
    }

    async fn list_secret_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<SecretConsumerPage, StoreError> {
        consumers::list(&self.reads, id, limit, offset).await
    }

    async fn secret_consumers_of(
        &self,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, StoreError> {
        consumers::of(&self.reads, ids).await
    }

    async fn delete_secret_consumer(
        &self,
        id: Uuid,
        service: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::DeleteSecretConsumer {
            id,
            service: service.to_owned(),
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
        };
        self.writer.submit(op).await
    }

    async fn list_secret_stores(&self) -> Result<Vec<SecretStoreRecord>, StoreError> {
        secret_stores::list(&self.reads).await
    }

    async fn get_preferred_secret_store(
        &self,
        project_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        secret_stores::get_preferred(&self.reads, project_id).await
    }

    async fn set_preferred_secret_store(
        &self,
        project_id: &str,
        store_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::SetPreferredSecretStore {
            project_id: project_id.to_owned(),
            store_id,
            now,
        };
        self.writer.submit(op).await
    }

    async fn delete_preferred_secret_store(&self, project_id: &str) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::DeletePreferredSecretStore(project_id.to_owned()))
            .await
    }
    async fn get_secret_acl(&self, id: Uuid) -> Result<Option<Acl>, StoreError> {
        acls::get(&self.reads, AclOwner::Secret, id).await
    }

    async fn put_secret_acl(&self, id: Uuid, acl: &Acl) -> Result<bool, StoreError> {
        let op = AclWrite::Put {
            owner: AclOwner::Secret,
            id,
            acl: acl.clone(),
        };
        self.writer.submit(WriteKind::Acl(op)).await
    }

    async fn delete_secret_acl(&self, id: Uuid) -> Result<bool, StoreError> {
        let op = AclWrite::Delete {
            owner: AclOwner::Secret,
            id,
        };
        self.writer.submit(WriteKind::Acl(op)).await
    }

    async fn get_container_acl(&self, id: Uuid) -> Result<Option<Acl>, StoreError> {
        acls::get(&self.reads, AclOwner::Container, id).await
    }

    async fn put_container_acl(&self, id: Uuid, acl: &Acl) -> Result<bool, StoreError> {
        let op = AclWrite::Put {
            owner: AclOwner::Container,
            id,
            acl: acl.clone(),
        };
        self.writer.submit(WriteKind::Acl(op)).await
    }

    async fn delete_container_acl(&self, id: Uuid) -> Result<bool, StoreError> {
        let op = AclWrite::Delete {
            owner: AclOwner::Container,
            id,
        };
        self.writer.submit(WriteKind::Acl(op)).await
    }

    async fn insert_secret_within_quota(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        let op = QuotaWrite::InsertSecret {
            secret: secret.clone(),
            payload: payload.cloned(),
            check,
        };
        self.writer.submit(WriteKind::Quota(op)).await
    }

    async fn get_project_quotas(
        &self,
        project_id: &str,
    ) -> Result<Option<ProjectQuotasRecord>, StoreError> {
        quotas::get(&self.reads, project_id).await
    }

    async fn list_project_quotas(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<ProjectQuotasPage, StoreError> {
        quotas::list(&self.reads, limit, offset).await
    }

    async fn set_project_quotas(&self, record: &ProjectQuotasRecord) -> Result<(), StoreError> {
        self.writer
            .submit(WriteKind::Quota(QuotaWrite::Set(record.clone())))
            .await
            .map(|_| ())
    }

    async fn delete_project_quotas(&self, project_id: &str) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Quota(QuotaWrite::Delete(project_id.to_owned())))
            .await
    }

    async fn insert_order(
        &self,
        order: &OrderRecord,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        let op = OrderWrite::Insert {
            order: order.clone(),
            check,
        };
        self.writer.submit(WriteKind::Order(op)).await
    }

    async fn get_order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        orders::get(&self.reads, id).await
    }

    async fn list_orders(
        &self,
        project_id: &str,
        limit: u32,
        offset: u32,
    ) -> Result<OrderPage, StoreError> {
        orders::list(&self.reads, project_id, limit, offset).await
    }

    async fn complete_key_order(
        &self,
        order_id: Uuid,
        secret: &SecretRecord,
        payload: &StoredPayload,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = OrderWrite::CompleteKey {
            order_id,
            secret: secret.clone(),
            payload: payload.clone(),
            at,
        };
        self.writer.submit(WriteKind::Order(op)).await
    }

    async fn complete_asymmetric_order(
        &self,
        order_id: Uuid,
        secrets: &[(SecretRecord, StoredPayload)],
        container: &ContainerRecord,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = OrderWrite::CompleteAsymmetric {
            order_id,
            secrets: secrets.to_vec(),
            container: container.clone(),
            at,
        };
        self.writer.submit(WriteKind::Order(op)).await
    }

    async fn fail_order(
        &self,
        order_id: Uuid,
        code: u16,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = OrderWrite::Fail {
            order_id,
            code,
            reason: reason.to_owned(),
            at,
        };
        self.writer.submit(WriteKind::Order(op)).await
    }

    async fn delete_order(&self, id: Uuid) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Order(OrderWrite::Delete(id)))
            .await
    }
}
