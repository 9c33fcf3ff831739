//! `SqliteStore`: the embedded `Store` on one SQLite file, on rusqlite. Opening starts the writer thread (which
//! opens the file, configures the connection — WAL, `synchronous=FULL`, `foreign_keys`, `secure_delete`, a busy
//! timeout for other processes writing the same file — and applies migrations) and sets up the pool of read-only
//! connections. The trait methods delegate to one file per area: `secrets`, `keys`, `tokens`, `list`,
//! `containers`, `consumers`, `secret_stores`, `acls`, `orders`, `quotas`, `kms`, `access_keys`; snapshots for backups in `backup`; reads run in place on `reads`, writes
//! go through `writer`.

mod access_keys;
mod acls;
mod audit;
mod backup;
mod codec;
mod consumers;
mod containers;
mod keys;
mod kms;
mod list;
mod orders;
mod quotas;
mod reads;
mod rotation;
mod schema;
mod secret_stores;
mod secrets;
mod snapshot_rows;
#[cfg(test)]
mod test_secret;
mod tokens;
mod wal_gather;
mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use arca_core::{AccessKeyRecord, KmsAlias, KmsKeyRow, KmsKeyVersionRow, NewKmsKey};
use arca_core::{
    KekRow, SecretPage, SecretQuery, SecretRecord, Store, StoreError, StoredPayload, TokenRow,
    WrappedKeyRow,
};
use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

pub use backup::SnapshotFacts;
use reads::Reads;
use writer::{WriteKind, Writer};

use acls::AclWrite;
use arca_core::{
    Acl, AclChange, AclTarget, OrderPage, OrderRecord, ProjectQuotasPage, ProjectQuotasRecord,
    QuotaCheck,
};
use kms::KmsWrite;
use orders::OrderWrite;
use quotas::QuotaWrite;

use arca_core::{
    ContainerConsumer, ContainerConsumerPage, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, SecretConsumer, SecretConsumerPage, SecretStoreRecord,
};

/// How long a connection waits for a lock held by another connection or process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite `Store`. All writes are serialised through one writer thread that group-commits them; reads use a
/// pool of read-only connections and see every acknowledged write.
pub struct SqliteStore {
    reads: Arc<Reads>,
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
    /// Opens (creating if missing) the database file at `path`, applies migrations and starts the writer thread.
    /// Must be called within a Tokio runtime.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let epochs = Arc::new(reads::Epochs::default());
        let reads = Reads::new(path, BUSY_TIMEOUT, Arc::clone(&epochs))?;
        let writer = Writer::start(path, BUSY_TIMEOUT, epochs, Arc::downgrade(&reads)).await?;
        Ok(SqliteStore { reads, writer })
    }

    /// Write transactions committed since `open`. Under concurrent writes this grows more slowly than
    /// [`write_count`](Self::write_count): that is group commit at work.
    pub fn commit_count(&self) -> u64 {
        self.writer.stats.commits.load(Ordering::Relaxed)
    }

    /// Read transactions begun since `open`. Reads reuse an open one while nothing but this store's audit
    /// appends has been committed since it began, so under steady reads this grows with writes, not reads.
    pub fn read_snapshots_begun(&self) -> u64 {
        self.reads.snapshots_begun.load(Ordering::Relaxed)
    }

    /// Reads of a secret by id that ran SQL since `open`. A connection keeps the rows it has read while the
    /// database holds them unchanged, and answers those reads from them (`reads.rs`), so under steady reads of a
    /// hot set this grows with the writes that change them, not with the reads.
    pub fn secret_rows_read(&self) -> u64 {
        self.reads.rows_read.load(Ordering::Relaxed)
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
        reads.close();
        drop(reads);
        writer.shut_down().await;
    }
}

impl SqliteStore {
    /// Runs one rotation write (one writer operation, so one transaction); how many rows it changed.
    async fn rotation_write(&self, op: rotation::RotationOp) -> Result<u64, StoreError> {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        self.writer
            .submit(WriteKind::Rotation(rotation::RotationWrite {
                op,
                done: done.clone(),
            }))
            .await?;
        Ok(done.load(Ordering::Relaxed))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn append_audit(
        &self,
        event: Vec<u8>,
        sealer: arca_core::AuditSealer,
    ) -> Result<arca_core::AuditRecord, StoreError> {
        let mut records = self.append_audit_batch(vec![event], sealer).await?;
        records
            .pop()
            .ok_or_else(|| StoreError("SQLite store: the audit append made no record".into()))
    }

    async fn append_audit_batch(
        &self,
        events: Vec<Vec<u8>>,
        sealer: arca_core::AuditSealer,
    ) -> Result<Vec<arca_core::AuditRecord>, StoreError> {
        let expected = events.len();
        let done = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        self.writer
            .submit(WriteKind::Audit(audit::AuditAppend {
                events,
                sealer,
                done: done.clone(),
            }))
            .await?;
        let records = std::mem::take(
            &mut *done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if records.len() != expected {
            return Err(StoreError(
                "SQLite store: the audit append made fewer records than asked".into(),
            ));
        }
        Ok(records)
    }

    async fn audit_records(&self) -> Result<Vec<arca_core::AuditRecord>, StoreError> {
        // Fresh: a reused snapshot may predate audit-only commits (`reads`).
        self.reads.run_fresh(audit::all)
    }

    async fn get_system_key(&self, name: &str) -> Result<Option<WrappedKeyRow>, StoreError> {
        self.reads.run(|c| keys::get_system_key(c, name))
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
        self.reads.run(|c| keys::get_active_kek(c, project_id))
    }

    async fn get_kek(
        &self,
        project_id: &str,
        pkek_version: u32,
    ) -> Result<Option<KekRow>, StoreError> {
        self.reads
            .run(|c| keys::get_kek(c, project_id, pkek_version))
    }

    async fn insert_kek(&self, row: &KekRow) -> Result<bool, StoreError> {
        self.writer.submit(WriteKind::InsertKek(row.clone())).await
    }

    async fn keks_below_rk(&self, rk_version: u32, limit: u32) -> Result<Vec<KekRow>, StoreError> {
        self.reads
            .run(|c| keys::keks_below_rk(c, rk_version, limit))
    }

    async fn system_keys_below_rk(
        &self,
        rk_version: u32,
    ) -> Result<Vec<(String, WrappedKeyRow)>, StoreError> {
        self.reads
            .run(|c| keys::system_keys_below_rk(c, rk_version))
    }

    async fn count_keys_below_rk(&self, rk_version: u32) -> Result<u64, StoreError> {
        self.reads.run(|c| keys::count_keys_below_rk(c, rk_version))
    }

    async fn count_keys_under_rk(&self, rk_version: u32) -> Result<u64, StoreError> {
        self.reads.run(|c| keys::count_keys_under_rk(c, rk_version))
    }

    async fn rewrap_keys(&self, rows: &[arca_core::RewrappedKey]) -> Result<u64, StoreError> {
        self.rotation_write(rotation::RotationOp::Rewrap(rows.to_vec()))
            .await
    }

    async fn rotate_kek(&self, row: &KekRow, now: OffsetDateTime) -> Result<bool, StoreError> {
        let op = rotation::RotationOp::RotateKek {
            row: row.clone(),
            now,
        };
        Ok(self.rotation_write(op).await? > 0)
    }

    async fn pending_rewraps(
        &self,
        limit: u32,
    ) -> Result<Vec<arca_core::PendingRewrap>, StoreError> {
        self.reads.run(|c| rotation::pending_rewraps(c, limit))
    }

    async fn stale_sealed(
        &self,
        project_id: &str,
        pkek_version: u32,
        limit: u32,
    ) -> Result<Vec<arca_core::StaleSealed>, StoreError> {
        self.reads
            .run(|c| rotation::stale_sealed(c, project_id, pkek_version, limit))
    }

    async fn reseal(&self, objects: &[arca_core::Resealed]) -> Result<u64, StoreError> {
        self.rotation_write(rotation::RotationOp::Reseal(objects.to_vec()))
            .await
    }

    async fn finish_rewrap(&self, project_id: &str, pkek_version: u32) -> Result<bool, StoreError> {
        let op = rotation::RotationOp::FinishRewrap {
            project_id: project_id.to_owned(),
            pkek_version,
        };
        Ok(self.rotation_write(op).await? > 0)
    }

    async fn keks_created_before(
        &self,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        self.reads
            .run(|c| keys::keks_created_before(c, cutoff, limit))
    }

    async fn insert_token(&self, row: &TokenRow) -> Result<(), StoreError> {
        self.writer
            .submit(WriteKind::InsertToken(row.clone()))
            .await
            .map(|_| ())
    }

    async fn get_token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        self.reads.run(|c| tokens::get(c, id))
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
        self.reads.run_with_rows(|c, rows| {
            rows.secret(id, || self.reads.row_read(|| secrets::get(c, id)))
        })
    }

    async fn get_secret_with_payload(
        &self,
        id: Uuid,
    ) -> Result<Option<(SecretRecord, Option<StoredPayload>)>, StoreError> {
        self.reads.run_with_rows(|c, rows| {
            rows.secret_with_payload(id, || {
                self.reads.row_read(|| secrets::get_with_payload(c, id))
            })
        })
    }

    async fn get_payload(&self, id: Uuid) -> Result<Option<StoredPayload>, StoreError> {
        // A fresh snapshot: this is the re-read after an external store reported the payload gone.
        self.reads.run_fresh(|c| secrets::get_payload(c, id))
    }

    async fn list_secrets(&self, query: &SecretQuery) -> Result<SecretPage, StoreError> {
        self.reads.run(|c| list::list(c, query))
    }

    async fn delete_secret(&self, id: Uuid) -> Result<bool, StoreError> {
        self.writer.submit(WriteKind::DeleteSecret(id)).await
    }

    async fn secret_expiry_counts(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<arca_core::ExpiryCounts, StoreError> {
        self.reads.run(|c| secrets::expiry_counts(c, now, until))
    }

    async fn secrets_expiring_before(
        &self,
        until: OffsetDateTime,
    ) -> Result<Vec<SecretRecord>, StoreError> {
        self.reads.run(|c| secrets::expiring_before(c, until))
    }

    async fn secrets_without_expiration(&self) -> Result<Vec<SecretRecord>, StoreError> {
        self.reads.run(secrets::without_expiration)
    }

    async fn get_secret_metadata(&self, id: Uuid) -> Result<BTreeMap<String, String>, StoreError> {
        self.reads.run(|c| secrets::get_metadata(c, id))
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

    async fn insert_container(
        &self,
        container: &ContainerRecord,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        let op = QuotaWrite::InsertContainer {
            container: container.clone(),
            check,
        };
        self.writer.submit(WriteKind::Quota(op)).await
    }

    async fn get_container(&self, id: Uuid) -> Result<Option<ContainerRecord>, StoreError> {
        self.reads.snapshot(|c| containers::get(c, id))
    }

    async fn list_containers(&self, query: &ContainerQuery) -> Result<ContainerPage, StoreError> {
        self.reads.snapshot(|c| containers::list(c, query))
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
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        let op = QuotaWrite::UpsertContainerConsumer {
            id,
            consumer: consumer.clone(),
            check,
        };
        self.writer.submit(WriteKind::Quota(op)).await
    }

    async fn list_container_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<ContainerConsumerPage, StoreError> {
        self.reads
            .snapshot(|c| containers::list_consumers(c, id, limit, offset))
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
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        let op = QuotaWrite::UpsertSecretConsumer {
            id,
            consumer: consumer.clone(),
            check,
        };
        self.writer.submit(WriteKind::Quota(op)).await
    }

    async fn list_secret_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<SecretConsumerPage, StoreError> {
        self.reads
            .snapshot(|c| consumers::list(c, id, limit, offset))
    }

    async fn secret_consumers_of(
        &self,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, StoreError> {
        self.reads.run(|c| consumers::of(c, ids))
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
        self.reads.run(secret_stores::list)
    }

    async fn get_preferred_secret_store(
        &self,
        project_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        self.reads
            .run(|c| secret_stores::get_preferred(c, project_id))
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

    async fn sync_secret_stores(
        &self,
        configured: &[SecretStoreRecord],
    ) -> Result<Vec<SecretStoreRecord>, StoreError> {
        self.writer
            .submit(WriteKind::SyncSecretStores(configured.to_vec()))
            .await?;
        self.reads.run(secret_stores::list)
    }

    async fn payloads_in_store(
        &self,
        store_id: Uuid,
        project_id: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<arca_core::PlacedPayload>, StoreError> {
        self.reads
            .run(|c| secret_stores::payloads_in_store(c, store_id, project_id, after, limit))
    }

    async fn count_payloads_in_store(
        &self,
        store_id: Uuid,
        project_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        self.reads
            .run(|c| secret_stores::count_payloads_in_store(c, store_id, project_id))
    }

    async fn move_payload(
        &self,
        secret_id: Uuid,
        old: &StoredPayload,
        new: &StoredPayload,
        orphan: Option<&arca_core::StoreOrphan>,
    ) -> Result<bool, StoreError> {
        let op = WriteKind::MovePayload {
            secret_id,
            old: old.clone(),
            new: new.clone(),
            orphan: orphan.cloned(),
            now: OffsetDateTime::now_utc(),
        };
        self.writer.submit(op).await
    }

    async fn store_orphans(
        &self,
        store_id: Uuid,
    ) -> Result<Vec<arca_core::StoreOrphan>, StoreError> {
        self.reads.run(|c| secret_stores::orphans(c, store_id))
    }

    async fn delete_store_orphan(&self, id: i64) -> Result<(), StoreError> {
        self.writer
            .submit(WriteKind::DeleteStoreOrphan(id))
            .await
            .map(|_| ())
    }

    async fn get_acl(&self, target: AclTarget, id: Uuid) -> Result<Option<Acl>, StoreError> {
        self.reads.snapshot(|c| acls::get(c, target, id))
    }

    async fn put_acl(&self, target: AclTarget, id: Uuid, acl: &Acl) -> Result<bool, StoreError> {
        let op = AclWrite::Put {
            owner: target,
            id,
            acl: acl.clone(),
        };
        self.writer.submit(WriteKind::Acl(op)).await
    }

    async fn delete_acl(&self, target: AclTarget, id: Uuid) -> Result<bool, StoreError> {
        let op = AclWrite::Delete { owner: target, id };
        self.writer.submit(WriteKind::Acl(op)).await
    }

    async fn change_acl(
        &self,
        target: AclTarget,
        id: Uuid,
        change: &AclChange,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = AclWrite::Change {
            owner: target,
            id,
            change: change.clone(),
            now,
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

    async fn insert_secret_within_quota_audited(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
        check: QuotaCheck,
        audit: arca_core::AuditedWrite,
    ) -> Result<(bool, arca_core::AuditRecord), StoreError> {
        let done = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let write = WriteKind::Quota(QuotaWrite::InsertSecret {
            secret: secret.clone(),
            payload: payload.cloned(),
            check,
        });
        let inserted = self
            .writer
            .submit(WriteKind::Audited {
                write: Box::new(write),
                record: audit::AuditAppend {
                    events: vec![audit.accepted],
                    sealer: audit.sealer,
                    done: done.clone(),
                },
                refused: audit.refused,
            })
            .await?;
        let record = done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
            .ok_or_else(|| StoreError("SQLite store: the audited write made no record".into()))?;
        Ok((inserted, record))
    }

    async fn get_project_quotas(
        &self,
        project_id: &str,
    ) -> Result<Option<ProjectQuotasRecord>, StoreError> {
        self.reads.run(|c| quotas::get(c, project_id))
    }

    async fn list_project_quotas(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<ProjectQuotasPage, StoreError> {
        self.reads.snapshot(|c| quotas::list(c, limit, offset))
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
        self.reads.run(|c| orders::get(c, id))
    }

    async fn list_orders(
        &self,
        project_id: &str,
        limit: u32,
        offset: u32,
    ) -> Result<OrderPage, StoreError> {
        self.reads
            .snapshot(|c| orders::list(c, project_id, limit, offset))
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

    async fn fail_pending_orders(
        &self,
        code: u16,
        reason: &str,
        created_before: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let op = OrderWrite::FailPending {
            code,
            reason: reason.to_owned(),
            created_before,
            at,
        };
        self.writer.submit(WriteKind::Order(op)).await
    }

    async fn delete_order(&self, id: Uuid) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Order(OrderWrite::Delete(id)))
            .await
    }

    async fn insert_kms_key(&self, key: &NewKmsKey) -> Result<(), StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::InsertKey(Box::new(key.clone()))))
            .await
            .map(|_| ())
    }

    async fn get_kms_key(&self, id: Uuid) -> Result<Option<KmsKeyRow>, StoreError> {
        self.reads.run(|c| kms::get_key(c, id))
    }

    async fn list_kms_keys(
        &self,
        project_id: &str,
        limit: u32,
        after: Option<Uuid>,
    ) -> Result<Vec<KmsKeyRow>, StoreError> {
        self.reads
            .run(|c| kms::list_keys(c, project_id, limit, after))
    }

    async fn update_kms_key(&self, key: &KmsKeyRow) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::UpdateKey(Box::new(key.clone()))))
            .await
    }

    async fn rotate_kms_key(
        &self,
        version: &KmsKeyVersionRow,
        next_rotation: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::Rotate {
                version: version.clone(),
                next_rotation,
            }))
            .await
    }

    async fn get_kms_key_version(
        &self,
        key_id: Uuid,
        version: u32,
    ) -> Result<Option<KmsKeyVersionRow>, StoreError> {
        self.reads.run(|c| kms::get_version(c, key_id, version))
    }

    async fn list_kms_key_versions(
        &self,
        key_id: Uuid,
        limit: u32,
        after: u32,
    ) -> Result<Vec<KmsKeyVersionRow>, StoreError> {
        self.reads
            .run(|c| kms::list_versions(c, key_id, limit, after))
    }

    async fn delete_kms_key(&self, id: Uuid) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::DeleteKey(id)))
            .await
    }

    async fn kms_keys_due_for_deletion(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<KmsKeyRow>, StoreError> {
        self.reads
            .run(|c| kms::keys_due_for_deletion(c, now, limit))
    }

    async fn kms_keys_due_for_rotation(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<KmsKeyRow>, StoreError> {
        self.reads
            .run(|c| kms::keys_due_for_rotation(c, now, limit))
    }

    async fn insert_kms_alias(&self, alias: &KmsAlias) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::InsertAlias(alias.clone())))
            .await
    }

    async fn update_kms_alias(
        &self,
        project_id: &str,
        name: &str,
        key_id: Uuid,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::UpdateAlias {
                project_id: project_id.to_owned(),
                name: name.to_owned(),
                key_id,
                updated,
            }))
            .await
    }

    async fn delete_kms_alias(&self, project_id: &str, name: &str) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::DeleteAlias {
                project_id: project_id.to_owned(),
                name: name.to_owned(),
            }))
            .await
    }

    async fn get_kms_alias(
        &self,
        project_id: &str,
        name: &str,
    ) -> Result<Option<KmsAlias>, StoreError> {
        self.reads.run(|c| kms::get_alias(c, project_id, name))
    }

    async fn list_kms_aliases(
        &self,
        project_id: &str,
        key_id: Option<Uuid>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Vec<KmsAlias>, StoreError> {
        self.reads
            .run(|c| kms::list_aliases(c, project_id, key_id, limit, after))
    }

    async fn put_kms_tags(
        &self,
        key_id: Uuid,
        tags: &[(String, String)],
        max_tags: u32,
    ) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::PutTags {
                key_id,
                tags: tags.to_vec(),
                max: max_tags,
            }))
            .await
    }

    async fn delete_kms_tags(&self, key_id: Uuid, tag_keys: &[String]) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::Kms(KmsWrite::DeleteTags {
                key_id,
                keys: tag_keys.to_vec(),
            }))
            .await
    }

    async fn list_kms_tags(&self, key_id: Uuid) -> Result<Vec<(String, String)>, StoreError> {
        self.reads.run(|c| kms::list_tags(c, key_id))
    }

    async fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        self.writer
            .submit(WriteKind::InsertAccessKey(key.clone()))
            .await
            .map(|_| ())
    }

    async fn get_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        self.reads.run(|c| access_keys::get(c, id))
    }

    async fn revoke_access_key(&self, id: &str) -> Result<bool, StoreError> {
        self.writer
            .submit(WriteKind::RevokeAccessKey(id.to_owned()))
            .await
    }
}
