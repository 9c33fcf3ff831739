//! `PostgresStore`: the `Store` on PostgreSQL 15 for several stateless Arca nodes sharing one database. Every
//! method runs on a pooled connection (sqlx); multi-statement writes run in one transaction, and quota-checked
//! inserts lock the project's row in `project_locks` before counting, so limits hold across connections and
//! nodes. Nothing is cached in the store: all shared state is in the database. Connecting applies the migrations
//! of `migrations-postgres/` (see `schema`). The trait methods delegate to one file per area: `keys`, `tokens`,
//! `secrets` (payloads, metadata, expiry), `list`, `containers`, `consumers`, `secret_stores`, `acls`, `quotas`,
//! `orders`, and `audit`, `kms`, `access_keys`, `rotation` (root and project KEK rotation); failures map to
//! `StoreError` in `error`, where an unreachable database becomes [`StoreError::unavailable`].

mod access_keys;
mod acls;
mod audit;
mod consumers;
mod containers;
mod error;
mod keys;
mod kms;
mod list;
mod orders;
mod quotas;
mod rotation;
mod schema;
mod secret_stores;
mod secrets;
pub mod testing;
mod tokens;

use std::collections::BTreeMap;
use std::time::Duration;

use arca_core::{
    AccessKeyRecord, Acl, AclChange, AclTarget, AuditRecord, AuditSealer, AuditedWrite,
    ContainerConsumer, ContainerConsumerPage, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, ExpiryCounts, KekRow, KmsAlias, KmsKeyRow, KmsKeyVersionRow, NewKmsKey,
    OrderPage, OrderRecord, PendingRewrap, ProjectQuotasPage, ProjectQuotasRecord, QuotaCheck,
    Resealed, RewrappedKey, SecretConsumer, SecretConsumerPage, SecretPage, SecretQuery,
    SecretRecord, SecretStoreRecord, StaleSealed, Store, StoreError, StoredPayload, TokenRow,
    WrappedKeyRow,
};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use error::err;

/// Starts a read-only REPEATABLE READ transaction: the statements of a page and its total (or of an object and
/// its children) see one snapshot.
async fn snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
        .map_err(err("starting a read"))
}

/// One page of the rows `page_sql` selects for `id` (its `$2` is the limit, `$3` the offset) and the total
/// `count_sql` counts for it, read in one snapshot so the two agree; `what` names them in errors.
async fn page_with_total(
    pool: &PgPool,
    page_sql: &'static str,
    count_sql: &'static str,
    id: &str,
    (limit, offset): (u32, u32),
    what: &'static str,
) -> Result<(Vec<sqlx::postgres::PgRow>, u64), StoreError> {
    let mut tx = snapshot(pool).await?;
    let rows = sqlx::query(page_sql)
        .bind(id)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(err(what))?;
    let total: i64 = sqlx::query_scalar(count_sql)
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(err(what))?;
    tx.commit().await.map_err(err("ending a read"))?;
    Ok((rows, error::to_count(total)?))
}

/// Connection settings of a [`PostgresStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Connections in the pool (per node).
    pub max_connections: u32,
    /// How long a request waits for a pooled connection (including opening one) before failing as
    /// "database unavailable".
    pub acquire_timeout: Duration,
    /// How long [`PostgresStore::connect`] waits for the first connection and the migrations (including another
    /// node's migration in progress).
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> PostgresOptions {
        PostgresOptions {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The PostgreSQL `Store`.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// This node's single audit appends being combined into shared transactions (see `audit`).
    audit: std::sync::Arc<audit::AuditGroup>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?sslmode=…`), applies the
    /// migrations (serialised between nodes by an advisory lock) and returns the store.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<PostgresStore, StoreError> {
        let connect: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError(format!("PostgreSQL store: invalid database URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            // A connection that broke (server restarted) is found out before use rather than failing a request.
            .test_before_acquire(true)
            .connect_lazy_with(connect);
        let store = PostgresStore {
            pool,
            audit: std::sync::Arc::default(),
        };
        match tokio::time::timeout(options.connect_timeout, schema::migrate(&store.pool)).await {
            Ok(migrated) => migrated?,
            Err(_) => {
                return Err(StoreError::unavailable(format!(
                    "PostgreSQL store: no connection (or migrations not done) within {:?}",
                    options.connect_timeout
                )));
            }
        }
        Ok(store)
    }

    /// The connection pool (for tests and tools that need raw SQL).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool: waits for connections in use to be returned, then closes them all.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn is_shared(&self) -> bool {
        true
    }

    // --- system keys and project KEKs ---
    async fn get_system_key(&self, name: &str) -> Result<Option<WrappedKeyRow>, StoreError> {
        keys::get_system_key(&self.pool, name).await
    }

    async fn insert_system_key(&self, name: &str, row: &WrappedKeyRow) -> Result<bool, StoreError> {
        keys::insert_system_key(&self.pool, name, row).await
    }

    async fn get_active_kek(&self, project_id: &str) -> Result<Option<KekRow>, StoreError> {
        keys::get_active_kek(&self.pool, project_id).await
    }

    async fn get_kek(
        &self,
        project_id: &str,
        pkek_version: u32,
    ) -> Result<Option<KekRow>, StoreError> {
        keys::get_kek(&self.pool, project_id, pkek_version).await
    }

    async fn insert_kek(&self, row: &KekRow) -> Result<bool, StoreError> {
        keys::insert_kek(&self.pool, row).await
    }

    // --- root key rotation (helper B: rotation.rs) ---
    async fn keks_below_rk(&self, rk_version: u32, limit: u32) -> Result<Vec<KekRow>, StoreError> {
        rotation::keks_below_rk(&self.pool, rk_version, limit).await
    }

    async fn system_keys_below_rk(
        &self,
        rk_version: u32,
    ) -> Result<Vec<(String, WrappedKeyRow)>, StoreError> {
        rotation::system_keys_below_rk(&self.pool, rk_version).await
    }

    async fn count_keys_below_rk(&self, rk_version: u32) -> Result<u64, StoreError> {
        rotation::count_keys_below_rk(&self.pool, rk_version).await
    }

    async fn count_keys_under_rk(&self, rk_version: u32) -> Result<u64, StoreError> {
        rotation::count_keys_under_rk(&self.pool, rk_version).await
    }

    async fn rewrap_keys(&self, rows: &[RewrappedKey]) -> Result<u64, StoreError> {
        rotation::rewrap_keys(&self.pool, rows).await
    }

    // --- project KEK rotation (helper B: rotation.rs) ---
    async fn rotate_kek(&self, row: &KekRow, now: OffsetDateTime) -> Result<bool, StoreError> {
        rotation::rotate_kek(&self.pool, row, now).await
    }

    async fn pending_rewraps(&self, limit: u32) -> Result<Vec<PendingRewrap>, StoreError> {
        rotation::pending_rewraps(&self.pool, limit).await
    }

    async fn stale_sealed(
        &self,
        project_id: &str,
        pkek_version: u32,
        limit: u32,
    ) -> Result<Vec<StaleSealed>, StoreError> {
        rotation::stale_sealed(&self.pool, project_id, pkek_version, limit).await
    }

    async fn reseal(&self, objects: &[Resealed]) -> Result<u64, StoreError> {
        rotation::reseal(&self.pool, objects).await
    }

    async fn finish_rewrap(&self, project_id: &str, pkek_version: u32) -> Result<bool, StoreError> {
        rotation::finish_rewrap(&self.pool, project_id, pkek_version).await
    }

    async fn keks_created_before(
        &self,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        rotation::keks_created_before(&self.pool, cutoff, limit).await
    }

    // --- tokens ---
    async fn insert_token(&self, row: &TokenRow) -> Result<(), StoreError> {
        tokens::insert(&self.pool, row).await
    }

    async fn get_token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        tokens::get(&self.pool, id).await
    }

    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError> {
        tokens::revoke(&self.pool, id).await
    }

    // --- audit (helper B: audit.rs) ---
    async fn append_audit(
        &self,
        event: Vec<u8>,
        sealer: AuditSealer,
    ) -> Result<AuditRecord, StoreError> {
        audit::append_audit(&self.pool, &self.audit, event, sealer).await
    }

    async fn append_audit_batch(
        &self,
        events: Vec<Vec<u8>>,
        sealer: AuditSealer,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        audit::append_audit_batch(&self.pool, events, sealer).await
    }

    async fn audit_records(&self) -> Result<Vec<AuditRecord>, StoreError> {
        audit::audit_records(&self.pool).await
    }

    // --- secrets ---
    async fn insert_secret(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
    ) -> Result<(), StoreError> {
        secrets::insert_alone(&self.pool, secret, payload).await
    }

    async fn attach_payload(
        &self,
        id: Uuid,
        payload: &StoredPayload,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        secrets::attach_payload(&self.pool, id, payload, updated).await
    }

    async fn get_secret(&self, id: Uuid) -> Result<Option<SecretRecord>, StoreError> {
        secrets::get(&self.pool, id).await
    }

    async fn get_secret_with_payload(
        &self,
        id: Uuid,
    ) -> Result<Option<(SecretRecord, Option<StoredPayload>)>, StoreError> {
        secrets::get_with_payload(&self.pool, id).await
    }

    async fn get_payload(&self, id: Uuid) -> Result<Option<StoredPayload>, StoreError> {
        secrets::get_payload(&self.pool, id).await
    }

    async fn list_secrets(&self, query: &SecretQuery) -> Result<SecretPage, StoreError> {
        list::list(&self.pool, query).await
    }

    async fn delete_secret(&self, id: Uuid) -> Result<bool, StoreError> {
        secrets::delete(&self.pool, id).await
    }

    // --- expiry ---
    async fn secret_expiry_counts(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<ExpiryCounts, StoreError> {
        secrets::expiry_counts(&self.pool, now, until).await
    }

    async fn secrets_expiring_before(
        &self,
        until: OffsetDateTime,
    ) -> Result<Vec<SecretRecord>, StoreError> {
        secrets::expiring_before(&self.pool, until).await
    }

    async fn secrets_without_expiration(&self) -> Result<Vec<SecretRecord>, StoreError> {
        secrets::without_expiration(&self.pool).await
    }

    // --- secret metadata ---
    async fn get_secret_metadata(&self, id: Uuid) -> Result<BTreeMap<String, String>, StoreError> {
        secrets::get_metadata(&self.pool, id).await
    }

    async fn replace_secret_metadata(
        &self,
        id: Uuid,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        secrets::replace_metadata(&self.pool, id, metadata).await
    }

    async fn insert_secret_metadatum(
        &self,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        secrets::insert_metadatum(&self.pool, id, key, value).await
    }

    async fn update_secret_metadatum(
        &self,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<bool, StoreError> {
        secrets::update_metadatum(&self.pool, id, key, value).await
    }

    async fn delete_secret_metadatum(&self, id: Uuid, key: &str) -> Result<bool, StoreError> {
        secrets::delete_metadatum(&self.pool, id, key).await
    }

    // --- containers and their consumers ---
    async fn insert_container(
        &self,
        container: &ContainerRecord,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        containers::insert(&self.pool, container, check).await
    }

    async fn get_container(&self, id: Uuid) -> Result<Option<ContainerRecord>, StoreError> {
        containers::get(&self.pool, id).await
    }

    async fn list_containers(&self, query: &ContainerQuery) -> Result<ContainerPage, StoreError> {
        containers::list(&self.pool, query).await
    }

    async fn delete_container(&self, id: Uuid) -> Result<bool, StoreError> {
        containers::delete(&self.pool, id).await
    }

    async fn add_container_secret(
        &self,
        id: Uuid,
        secret: &ContainerSecretRef,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        containers::add_secret(&self.pool, id, secret, updated).await
    }

    async fn remove_container_secret(
        &self,
        id: Uuid,
        secret: &ContainerSecretRef,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        containers::remove_secret(&self.pool, id, secret, updated).await
    }

    async fn upsert_container_consumer(
        &self,
        id: Uuid,
        consumer: &ContainerConsumer,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        containers::upsert_consumer(&self.pool, id, consumer, check).await
    }

    async fn list_container_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<ContainerConsumerPage, StoreError> {
        containers::list_consumers(&self.pool, id, limit, offset).await
    }

    async fn delete_container_consumer(
        &self,
        id: Uuid,
        name: &str,
        url: &str,
    ) -> Result<bool, StoreError> {
        containers::delete_consumer(&self.pool, id, name, url).await
    }

    // --- secret consumers ---
    async fn upsert_secret_consumer(
        &self,
        id: Uuid,
        consumer: &SecretConsumer,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        consumers::upsert(&self.pool, id, consumer, check).await
    }

    async fn list_secret_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<SecretConsumerPage, StoreError> {
        consumers::list(&self.pool, id, limit, offset).await
    }

    async fn secret_consumers_of(
        &self,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, StoreError> {
        consumers::of(&self.pool, ids).await
    }

    async fn delete_secret_consumer(
        &self,
        id: Uuid,
        service: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<bool, StoreError> {
        consumers::delete(&self.pool, id, service, resource_type, resource_id).await
    }

    // --- secret stores ---
    async fn list_secret_stores(&self) -> Result<Vec<SecretStoreRecord>, StoreError> {
        secret_stores::list(&self.pool).await
    }

    async fn get_preferred_secret_store(
        &self,
        project_id: &str,
    ) -> Result<Option<Uuid>, StoreError> {
        secret_stores::get_preferred(&self.pool, project_id).await
    }

    async fn set_preferred_secret_store(
        &self,
        project_id: &str,
        store_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        secret_stores::set_preferred(&self.pool, project_id, store_id, now).await
    }

    async fn delete_preferred_secret_store(&self, project_id: &str) -> Result<bool, StoreError> {
        secret_stores::delete_preferred(&self.pool, project_id).await
    }

    async fn sync_secret_stores(
        &self,
        configured: &[SecretStoreRecord],
    ) -> Result<Vec<SecretStoreRecord>, StoreError> {
        secret_stores::sync(&self.pool, configured).await?;
        secret_stores::list(&self.pool).await
    }

    async fn payloads_in_store(
        &self,
        store_id: Uuid,
        project_id: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<arca_core::PlacedPayload>, StoreError> {
        secret_stores::payloads_in_store(&self.pool, store_id, project_id, after, limit).await
    }

    async fn count_payloads_in_store(
        &self,
        store_id: Uuid,
        project_id: Option<&str>,
    ) -> Result<u64, StoreError> {
        secret_stores::count_payloads_in_store(&self.pool, store_id, project_id).await
    }

    async fn move_payload(
        &self,
        secret_id: Uuid,
        old: &StoredPayload,
        new: &StoredPayload,
        orphan: Option<&arca_core::StoreOrphan>,
    ) -> Result<bool, StoreError> {
        secret_stores::move_payload(&self.pool, secret_id, old, new, orphan).await
    }

    async fn store_orphans(
        &self,
        store_id: Uuid,
    ) -> Result<Vec<arca_core::StoreOrphan>, StoreError> {
        secret_stores::orphans(&self.pool, store_id).await
    }

    async fn delete_store_orphan(&self, id: i64) -> Result<(), StoreError> {
        secret_stores::delete_orphan(&self.pool, id).await
    }

    // --- ACLs ---
    async fn get_acl(&self, target: AclTarget, id: Uuid) -> Result<Option<Acl>, StoreError> {
        acls::get(&self.pool, target, id).await
    }

    async fn put_acl(&self, target: AclTarget, id: Uuid, acl: &Acl) -> Result<bool, StoreError> {
        acls::put(&self.pool, target, id, acl).await
    }

    async fn delete_acl(&self, target: AclTarget, id: Uuid) -> Result<bool, StoreError> {
        acls::delete(&self.pool, target, id).await
    }

    async fn change_acl(
        &self,
        target: AclTarget,
        id: Uuid,
        change: &AclChange,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        acls::change(&self.pool, target, id, change, now).await
    }

    // --- quotas ---
    async fn insert_secret_within_quota(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        quotas::insert_secret(&self.pool, secret, payload, check).await
    }

    /// The quota check, the insert and the audit record in ONE transaction: the project's lock row first, then
    /// the audit chain's head (always in that order, so the two locks cannot deadlock).
    async fn insert_secret_within_quota_audited(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
        check: QuotaCheck,
        audit: AuditedWrite,
    ) -> Result<(bool, AuditRecord), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(err("starting a transaction"))?;
        let inserted = quotas::insert_secret_in(&mut tx, secret, payload, check).await?;
        let event = if inserted {
            audit.accepted
        } else {
            audit.refused
        };
        let record = audit::append_audit_in(&mut tx, event, audit.sealer).await?;
        tx.commit()
            .await
            .map_err(err("committing an audited secret"))?;
        Ok((inserted, record))
    }

    async fn get_project_quotas(
        &self,
        project_id: &str,
    ) -> Result<Option<ProjectQuotasRecord>, StoreError> {
        quotas::get(&self.pool, project_id).await
    }

    async fn list_project_quotas(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<ProjectQuotasPage, StoreError> {
        quotas::list(&self.pool, limit, offset).await
    }

    async fn set_project_quotas(&self, record: &ProjectQuotasRecord) -> Result<(), StoreError> {
        quotas::set(&self.pool, record).await
    }

    async fn delete_project_quotas(&self, project_id: &str) -> Result<bool, StoreError> {
        quotas::delete(&self.pool, project_id).await
    }

    // --- orders ---
    async fn insert_order(
        &self,
        order: &OrderRecord,
        check: QuotaCheck,
    ) -> Result<bool, StoreError> {
        orders::insert(&self.pool, order, check).await
    }

    async fn get_order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        orders::get(&self.pool, id).await
    }

    async fn list_orders(
        &self,
        project_id: &str,
        limit: u32,
        offset: u32,
    ) -> Result<OrderPage, StoreError> {
        orders::list(&self.pool, project_id, limit, offset).await
    }

    async fn complete_key_order(
        &self,
        order_id: Uuid,
        secret: &SecretRecord,
        payload: &StoredPayload,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        orders::complete_key(&self.pool, order_id, secret, payload, at).await
    }

    async fn complete_asymmetric_order(
        &self,
        order_id: Uuid,
        secrets: &[(SecretRecord, StoredPayload)],
        container: &ContainerRecord,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        orders::complete_asymmetric(&self.pool, order_id, secrets, container, at).await
    }

    async fn fail_order(
        &self,
        order_id: Uuid,
        code: u16,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        orders::fail(&self.pool, order_id, code, reason, at).await
    }

    async fn fail_pending_orders(
        &self,
        code: u16,
        reason: &str,
        created_before: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        orders::fail_pending(&self.pool, code, reason, created_before, at).await
    }

    async fn delete_order(&self, id: Uuid) -> Result<bool, StoreError> {
        orders::delete(&self.pool, id).await
    }

    // --- KMS keys, versions, aliases, tags (helper B: kms.rs) ---
    async fn insert_kms_key(&self, key: &NewKmsKey) -> Result<(), StoreError> {
        kms::insert_kms_key(&self.pool, key).await
    }

    async fn get_kms_key(&self, id: Uuid) -> Result<Option<KmsKeyRow>, StoreError> {
        kms::get_kms_key(&self.pool, id).await
    }

    async fn list_kms_keys(
        &self,
        project_id: &str,
        limit: u32,
        after: Option<Uuid>,
    ) -> Result<Vec<KmsKeyRow>, StoreError> {
        kms::list_kms_keys(&self.pool, project_id, limit, after).await
    }

    async fn update_kms_key(&self, key: &KmsKeyRow) -> Result<bool, StoreError> {
        kms::update_kms_key(&self.pool, key).await
    }

    async fn rotate_kms_key(
        &self,
        version: &KmsKeyVersionRow,
        next_rotation: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        kms::rotate_kms_key(&self.pool, version, next_rotation).await
    }

    async fn get_kms_key_version(
        &self,
        key_id: Uuid,
        version: u32,
    ) -> Result<Option<KmsKeyVersionRow>, StoreError> {
        kms::get_kms_key_version(&self.pool, key_id, version).await
    }

    async fn list_kms_key_versions(
        &self,
        key_id: Uuid,
        limit: u32,
        after: u32,
    ) -> Result<Vec<KmsKeyVersionRow>, StoreError> {
        kms::list_kms_key_versions(&self.pool, key_id, limit, after).await
    }

    async fn delete_kms_key(&self, id: Uuid) -> Result<bool, StoreError> {
        kms::delete_kms_key(&self.pool, id).await
    }

    async fn kms_keys_due_for_deletion(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<KmsKeyRow>, StoreError> {
        kms::kms_keys_due_for_deletion(&self.pool, now, limit).await
    }

    async fn kms_keys_due_for_rotation(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<KmsKeyRow>, StoreError> {
        kms::kms_keys_due_for_rotation(&self.pool, now, limit).await
    }

    async fn insert_kms_alias(&self, alias: &KmsAlias) -> Result<bool, StoreError> {
        kms::insert_kms_alias(&self.pool, alias).await
    }

    async fn update_kms_alias(
        &self,
        project_id: &str,
        name: &str,
        key_id: Uuid,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        kms::update_kms_alias(&self.pool, project_id, name, key_id, updated).await
    }

    async fn delete_kms_alias(&self, project_id: &str, name: &str) -> Result<bool, StoreError> {
        kms::delete_kms_alias(&self.pool, project_id, name).await
    }

    async fn get_kms_alias(
        &self,
        project_id: &str,
        name: &str,
    ) -> Result<Option<KmsAlias>, StoreError> {
        kms::get_kms_alias(&self.pool, project_id, name).await
    }

    async fn list_kms_aliases(
        &self,
        project_id: &str,
        key_id: Option<Uuid>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Vec<KmsAlias>, StoreError> {
        kms::list_kms_aliases(&self.pool, project_id, key_id, limit, after).await
    }

    async fn put_kms_tags(
        &self,
        key_id: Uuid,
        tags: &[(String, String)],
        max_tags: u32,
    ) -> Result<bool, StoreError> {
        kms::put_kms_tags(&self.pool, key_id, tags, max_tags).await
    }

    async fn delete_kms_tags(&self, key_id: Uuid, tag_keys: &[String]) -> Result<bool, StoreError> {
        kms::delete_kms_tags(&self.pool, key_id, tag_keys).await
    }

    async fn list_kms_tags(&self, key_id: Uuid) -> Result<Vec<(String, String)>, StoreError> {
        kms::list_kms_tags(&self.pool, key_id).await
    }

    // --- access keys (helper B: access_keys.rs) ---
    async fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError> {
        access_keys::insert_access_key(&self.pool, key).await
    }

    async fn get_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        access_keys::get_access_key(&self.pool, id).await
    }

    async fn revoke_access_key(&self, id: &str) -> Result<bool, StoreError> {
        access_keys::revoke_access_key(&self.pool, id).await
    }
}
