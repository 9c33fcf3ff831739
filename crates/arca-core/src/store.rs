//! The `Store` seam: everything Arca persists, as one async trait so SQLite (embedded) and PostgreSQL
//! (multi-node) implementations are interchangeable without changing callers. Implementations must make an
//! acknowledged write durable and may group-commit concurrent writes. They store bytes they are given; all
//! cryptography happens above this line.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{AccessKeyRecord, KmsAlias, KmsKeyRow, KmsKeyVersionRow, NewKmsKey};
use crate::{
    Acl, AclChange, AclTarget, OrderPage, OrderRecord, ProjectQuotasPage, ProjectQuotasRecord,
    QuotaCheck,
};
use crate::{
    ContainerConsumer, ContainerConsumerPage, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, SecretConsumer, SecretConsumerPage, SecretStoreRecord,
};
use crate::{SecretPage, SecretQuery, SecretRecord};

/// Counts of secrets by expiration, for the metrics gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpiryCounts {
    /// Secrets whose expiration falls in the asked window.
    pub expiring: u64,
    /// Secrets that never expire.
    pub without_expiration: u64,
    /// Secrets of type certificate whose expiration falls in the asked window.
    pub certificates_expiring: u64,
}

/// A persistence failure. The message is for operators; it never contains key material.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// The prefix of every "database unavailable" message (see [`unavailable`](Self::unavailable)).
    pub const UNAVAILABLE: &'static str = "database unavailable: ";

    /// A failure to reach the database at all (connection refused or lost, pool timed out): the request may
    /// succeed later, so callers answer 503 rather than 500. The message starts with [`Self::UNAVAILABLE`].
    pub fn unavailable(detail: impl std::fmt::Display) -> StoreError {
        StoreError(format!("{}{detail}", Self::UNAVAILABLE))
    }

    /// Whether this error says the database is unavailable (made by [`unavailable`](Self::unavailable)).
    pub fn is_unavailable(&self) -> bool {
        self.0.starts_with(Self::UNAVAILABLE)
    }

    /// The prefix of every "the database cannot hold this value" message (see [`unstorable`](Self::unstorable)).
    pub const UNSTORABLE: &'static str = "value cannot be stored: ";

    /// The database refused a value the caller gave (PostgreSQL text cannot hold U+0000): the request, not the
    /// server, is at fault, so callers answer 400 rather than 500. The message starts with [`Self::UNSTORABLE`]
    /// and says what is refused (never the value).
    pub fn unstorable(detail: impl std::fmt::Display) -> StoreError {
        StoreError(format!("{}{detail}", Self::UNSTORABLE))
    }

    /// Whether this error says a given value cannot be stored (made by [`unstorable`](Self::unstorable)).
    pub fn is_unstorable(&self) -> bool {
        self.0.starts_with(Self::UNSTORABLE)
    }
}

/// A wrapped key as stored: which root key version wrapped it, how, and the MAC over the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKeyRow {
    /// Root key version that wrapped this key.
    pub rk_version: u32,
    /// Wrapping algorithm id (1 = AES-256-GCM with the row as associated data).
    pub wrap_alg: u8,
    /// The wrapped key bytes (never the key itself).
    pub wrapped: Vec<u8>,
    /// HMAC binding the row to its owner and versions.
    pub mac: Vec<u8>,
}

/// A project KEK row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KekRow {
    /// The owning project.
    pub project_id: String,
    /// The KEK's version within its project (1, 2, …).
    pub pkek_version: u32,
    /// The wrapped key and its authentication.
    pub key: WrappedKeyRow,
}

/// A stored API token: only the digest, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    /// Lookup id embedded in the token.
    pub id: String,
    /// `HMAC(K_token, token)`.
    pub digest: Vec<u8>,
    /// The principal's project.
    pub project_id: String,
    /// The principal's user id.
    pub user_id: String,
    /// Role names.
    pub roles: Vec<String>,
    /// When the token was issued.
    pub created: OffsetDateTime,
    /// When the token stops working.
    pub expires_at: OffsetDateTime,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// A sealed payload as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayload {
    /// The seal envelope (format byte, PKEK version, salt, nonce, ciphertext, tag).
    pub ciphertext: Vec<u8>,
    /// The payload content type (e.g. `text/plain`, `application/octet-stream`).
    pub content_type: String,
    /// The secret store that holds it: for stores that seal in the database `ciphertext` is the sealed payload,
    /// for external stores the sealed locator.
    pub store_id: Uuid,
}

/// A stored payload with its secret, as a migration between stores reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedPayload {
    /// The secret.
    pub secret_id: Uuid,
    /// Its project.
    pub project_id: String,
    /// The payload as stored.
    pub payload: StoredPayload,
}

/// An object left on an external store by a migration that moved its payload elsewhere: recorded in the
/// transaction of the move and removed once the object is destroyed, so a crash in between leaks nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOrphan {
    /// Its row id (0 before it is recorded).
    pub id: i64,
    /// The store that still holds the object.
    pub store_id: Uuid,
    /// The secret it belonged to.
    pub secret_id: Uuid,
    /// That secret's project.
    pub project_id: String,
    /// The sealed locator (bound to the secret, as in `secret_payloads`).
    pub sealed_locator: Vec<u8>,
}

/// A wrapped key rewritten under a newer root key version by root rotation; applied only if the row still has
/// `old_rk_version` (a compare-and-swap, so reruns and concurrent servers are safe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewrappedKey {
    /// A project KEK row.
    Kek {
        /// The owning project.
        project_id: String,
        /// The KEK's version.
        pkek_version: u32,
        /// The root key version the row must still have.
        old_rk_version: u32,
        /// The new wrapped key.
        key: WrappedKeyRow,
    },
    /// A system key row.
    System {
        /// The system key's name.
        name: String,
        /// The root key version the row must still have.
        old_rk_version: u32,
        /// The new wrapped key.
        key: WrappedKeyRow,
    },
}

/// A project whose KEK was rotated and whose objects still have to move to `pkek_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRewrap {
    /// The project.
    pub project_id: String,
    /// The KEK version every object must end under.
    pub pkek_version: u32,
    /// When that version was added.
    pub since: OffsetDateTime,
}

/// An object sealed under an older project KEK version, as the background rewrap reads it.
#[derive(Clone, PartialEq, Eq)]
pub enum StaleSealed {
    /// A secret payload (sealed with the payload revision).
    SecretPayload {
        /// The secret.
        secret_id: Uuid,
        /// The stored envelope.
        sealed: Vec<u8>,
    },
    /// The sealed locator of a payload kept by an external secret store.
    SecretLocator {
        /// The secret.
        secret_id: Uuid,
        /// The stored envelope.
        sealed: Vec<u8>,
    },
    /// One version of a KMS key's material.
    KmsMaterial {
        /// The KMS key.
        key_id: Uuid,
        /// The key version.
        version: u32,
        /// The key spec (bound into the seal).
        key_spec: String,
        /// The key usage (bound into the seal).
        key_usage: String,
        /// The stored envelope.
        sealed: Vec<u8>,
    },
}

impl std::fmt::Debug for StaleSealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StaleSealed::SecretPayload { secret_id, .. } => {
                write!(f, "SecretPayload({secret_id})")
            }
            StaleSealed::SecretLocator { secret_id, .. } => {
                write!(f, "SecretLocator({secret_id})")
            }
            StaleSealed::KmsMaterial {
                key_id, version, ..
            } => write!(f, "KmsMaterial({key_id} v{version})"),
        }
    }
}

/// An object re-sealed under a newer project KEK version: written only if the stored envelope is still `old`
/// (a compare-and-swap: a concurrent update or delete wins).
#[derive(Clone, PartialEq, Eq)]
pub struct Resealed {
    /// The object as read (its `sealed` is the expected stored envelope).
    pub old: StaleSealed,
    /// The new envelope.
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for Resealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resealed({:?})", self.old)
    }
}

/// Everything Arca persists.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Whether other processes serve from this database at the same time (several nodes over PostgreSQL):
    /// caches of mutable state are then off, so a change made through one node bites on every other at once.
    /// SQLite (one node) answers `false`.
    fn is_shared(&self) -> bool {
        false
    }

    /// A system key by name (`audit`, `token`, `access-key`).
    async fn get_system_key(&self, name: &str) -> Result<Option<WrappedKeyRow>, StoreError>;
    /// Inserts a system key; `false` if one of that name exists (the existing one wins).
    async fn insert_system_key(&self, name: &str, row: &WrappedKeyRow) -> Result<bool, StoreError>;

    /// The highest-versioned KEK of a project.
    async fn get_active_kek(&self, project_id: &str) -> Result<Option<KekRow>, StoreError>;
    /// A specific KEK version of a project.
    async fn get_kek(
        &self,
        project_id: &str,
        pkek_version: u32,
    ) -> Result<Option<KekRow>, StoreError>;
    /// Inserts a KEK; `false` if that (project, version) exists (a concurrent creator won).
    async fn insert_kek(&self, row: &KekRow) -> Result<bool, StoreError>;

    // --- root key rotation ---
    /// Up to `limit` KEK rows wrapped under a root key version below `rk_version`, by project and version.
    async fn keks_below_rk(&self, rk_version: u32, limit: u32) -> Result<Vec<KekRow>, StoreError>;
    /// Every system key row wrapped under a root key version below `rk_version`, by name.
    async fn system_keys_below_rk(
        &self,
        rk_version: u32,
    ) -> Result<Vec<(String, WrappedKeyRow)>, StoreError>;
    /// How many KEK and system key rows are wrapped under a root key version below `rk_version`.
    async fn count_keys_below_rk(&self, rk_version: u32) -> Result<u64, StoreError>;
    /// How many KEK and system key rows are wrapped under exactly `rk_version`.
    async fn count_keys_under_rk(&self, rk_version: u32) -> Result<u64, StoreError>;
    /// Writes the rewrapped rows in ONE transaction, each only if its row still has its old root key version;
    /// returns how many were written.
    async fn rewrap_keys(&self, rows: &[RewrappedKey]) -> Result<u64, StoreError>;

    // --- project KEK rotation ---
    /// Adds KEK version `row.pkek_version` (which must be the project's newest + 1) and records that the
    /// project's objects must move to it, in one transaction; `false` (nothing written) if the version exists.
    async fn rotate_kek(&self, row: &KekRow, now: OffsetDateTime) -> Result<bool, StoreError>;
    /// Up to `limit` projects whose objects still have to move to a newer KEK version, oldest first.
    async fn pending_rewraps(&self, limit: u32) -> Result<Vec<PendingRewrap>, StoreError>;
    /// Up to `limit` of a project's objects (secret payloads, KMS key material) sealed under a KEK version
    /// below `pkek_version`.
    async fn stale_sealed(
        &self,
        project_id: &str,
        pkek_version: u32,
        limit: u32,
    ) -> Result<Vec<StaleSealed>, StoreError>;
    /// Writes the re-sealed objects in ONE transaction, each only if its stored envelope is unchanged; returns
    /// how many were written.
    async fn reseal(&self, objects: &[Resealed]) -> Result<u64, StoreError>;
    /// Marks a project's rewrap to `pkek_version` done; `false` if it was not pending (or a newer one is).
    async fn finish_rewrap(&self, project_id: &str, pkek_version: u32) -> Result<bool, StoreError>;
    /// Up to `limit` projects whose newest KEK was created before `cutoff` (scheduled rotation).
    async fn keks_created_before(
        &self,
        cutoff: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;

    /// Stores a token digest row.
    async fn insert_token(&self, row: &TokenRow) -> Result<(), StoreError>;
    /// A token row by id.
    async fn get_token(&self, id: &str) -> Result<Option<TokenRow>, StoreError>;
    /// Marks a token revoked; `false` if unknown.
    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError>;

    /// Appends `event` as the next audit record: in the store's one serialised writer, reads the chain head
    /// (`seq`, `mac`), calls `sealer(seq + 1, head_mac, event)` for the key version and MAC, and inserts the
    /// record; durable when this returns. Sequence numbers start at 1 and have no gaps.
    async fn append_audit(
        &self,
        event: Vec<u8>,
        sealer: crate::AuditSealer,
    ) -> Result<crate::AuditRecord, StoreError>;
    /// Appends `events` in order as consecutive records (as [`append_audit`](Self::append_audit) does for one),
    /// in one write; durable when this returns. Stores without a cheaper way append them one by one.
    async fn append_audit_batch(
        &self,
        events: Vec<Vec<u8>>,
        sealer: crate::AuditSealer,
    ) -> Result<Vec<crate::AuditRecord>, StoreError> {
        let mut records = Vec::with_capacity(events.len());
        for event in events {
            records.push(self.append_audit(event, sealer.clone()).await?);
        }
        Ok(records)
    }
    /// Every audit record in `seq` order.
    async fn audit_records(&self) -> Result<Vec<crate::AuditRecord>, StoreError>;

    /// Inserts a secret and, if given, its payload, atomically.
    async fn insert_secret(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
    ) -> Result<(), StoreError>;
    /// Attaches a payload to a secret that has none; `false` if it already has one or does not exist.
    async fn attach_payload(
        &self,
        id: Uuid,
        payload: &StoredPayload,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// A secret's metadata row by id, whatever its project or expiry.
    async fn get_secret(&self, id: Uuid) -> Result<Option<SecretRecord>, StoreError>;
    /// A secret's metadata row and its sealed payload (if any) in one read, for the payload hot path.
    async fn get_secret_with_payload(
        &self,
        id: Uuid,
    ) -> Result<Option<(SecretRecord, Option<StoredPayload>)>, StoreError>;
    /// A secret's sealed payload.
    async fn get_payload(&self, id: Uuid) -> Result<Option<StoredPayload>, StoreError>;
    /// One page of a project's unexpired secrets, filtered and sorted as the query says, with the total.
    async fn list_secrets(&self, query: &SecretQuery) -> Result<SecretPage, StoreError>;
    /// Deletes a secret, its payload and its user metadata; `false` if unknown.
    async fn delete_secret(&self, id: Uuid) -> Result<bool, StoreError>;

    // --- expiry (the sweeper, the metrics gauges and `arca report`) ---
    /// How many secrets (and how many certificates) expire in `(now, until]`, and how many have no expiration.
    async fn secret_expiry_counts(
        &self,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<ExpiryCounts, StoreError>;
    /// Secrets with an expiration at or before `until` (expired ones included), soonest first.
    async fn secrets_expiring_before(
        &self,
        until: OffsetDateTime,
    ) -> Result<Vec<SecretRecord>, StoreError>;
    /// Secrets without an expiration, oldest first.
    async fn secrets_without_expiration(&self) -> Result<Vec<SecretRecord>, StoreError>;

    /// A secret's user metadata.
    async fn get_secret_metadata(&self, id: Uuid) -> Result<BTreeMap<String, String>, StoreError>;
    /// Replaces all of a secret's user metadata.
    async fn replace_secret_metadata(
        &self,
        id: Uuid,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), StoreError>;
    /// Adds one key; `false` if the key exists.
    async fn insert_secret_metadatum(
        &self,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<bool, StoreError>;
    /// Sets one existing key; `false` if the key does not exist.
    async fn update_secret_metadatum(
        &self,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<bool, StoreError>;
    /// Removes one key; `false` if it did not exist.
    async fn delete_secret_metadatum(&self, id: Uuid, key: &str) -> Result<bool, StoreError>;

    /// Inserts a container with its secret references if the project's containers quota admits one more
    /// (counted in the insert's transaction); `false` (nothing written) at the quota or if a referenced secret
    /// no longer exists.
    async fn insert_container(
        &self,
        container: &ContainerRecord,
        check: QuotaCheck,
    ) -> Result<bool, StoreError>;
    /// A container with its secret references and consumers, whatever its project.
    async fn get_container(&self, id: Uuid) -> Result<Option<ContainerRecord>, StoreError>;
    /// One page of a project's containers, oldest first, with the total.
    async fn list_containers(&self, query: &ContainerQuery) -> Result<ContainerPage, StoreError>;
    /// Deletes a container, its secret references and its consumers; `false` if unknown.
    async fn delete_container(&self, id: Uuid) -> Result<bool, StoreError>;
    /// Adds a secret reference to a container and stamps its `updated`; `false` if that (secret, name) pair
    /// is already in it or the container or secret is gone.
    async fn add_container_secret(
        &self,
        id: Uuid,
        secret: &ContainerSecretRef,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Removes a (secret, name) reference from a container and stamps its `updated`; `false` if absent.
    async fn remove_container_secret(
        &self,
        id: Uuid,
        secret: &ContainerSecretRef,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Registers a consumer on a container (idempotent: an existing (name, URL) is kept as it is); a new one
    /// stamps the container's `updated` and must be admitted by the consumer's project's consumers quota
    /// (counted in the insert's transaction). `false` (nothing written) at the quota or if the container is gone.
    async fn upsert_container_consumer(
        &self,
        id: Uuid,
        consumer: &ContainerConsumer,
        check: QuotaCheck,
    ) -> Result<bool, StoreError>;
    /// One page of a container's consumers, ordered by name, with the total.
    async fn list_container_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<ContainerConsumerPage, StoreError>;
    /// Removes the consumer (name, URL) of a container; `false` if absent.
    async fn delete_container_consumer(
        &self,
        id: Uuid,
        name: &str,
        url: &str,
    ) -> Result<bool, StoreError>;

    /// Registers a consumer on a secret (idempotent); a new one stamps the secret's `updated` and must be
    /// admitted by the consumer's project's consumers quota, counting its secret consumers (in the insert's
    /// transaction). `false` (nothing written) at the quota or if the secret is gone.
    async fn upsert_secret_consumer(
        &self,
        id: Uuid,
        consumer: &SecretConsumer,
        check: QuotaCheck,
    ) -> Result<bool, StoreError>;
    /// One page of a secret's consumers, oldest first, with the total.
    async fn list_secret_consumers(
        &self,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<SecretConsumerPage, StoreError>;
    /// Every consumer of each of these secrets, oldest first (for embedding in secret documents).
    async fn secret_consumers_of(
        &self,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, StoreError>;
    /// Removes the consumer (service, resource type, resource id) of a secret; `false` if absent.
    async fn delete_secret_consumer(
        &self,
        id: Uuid,
        service: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<bool, StoreError>;

    /// Every configured secret store.
    async fn list_secret_stores(&self) -> Result<Vec<SecretStoreRecord>, StoreError>;
    /// A project's preferred secret store, if it chose one.
    async fn get_preferred_secret_store(
        &self,
        project_id: &str,
    ) -> Result<Option<Uuid>, StoreError>;
    /// Sets (or replaces) a project's preferred secret store; `false` if no such store.
    async fn set_preferred_secret_store(
        &self,
        project_id: &str,
        store_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Clears a project's preferred secret store; `false` if it had none.
    async fn delete_preferred_secret_store(&self, project_id: &str) -> Result<bool, StoreError>;
    /// Makes `configured` the deployment's secret stores (inserted, or updated by id, and marked configured)
    /// and marks every other row not configured and not the default; answers every row afterwards. Idempotent,
    /// so nodes starting together with one configuration agree.
    async fn sync_secret_stores(
        &self,
        configured: &[SecretStoreRecord],
    ) -> Result<Vec<SecretStoreRecord>, StoreError>;
    /// Up to `limit` payloads held by store `store_id` (of `project_id` only, if given), by secret id, after
    /// `after`.
    async fn payloads_in_store(
        &self,
        store_id: Uuid,
        project_id: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<PlacedPayload>, StoreError>;
    /// How many payloads store `store_id` holds (of `project_id` only, if given).
    async fn count_payloads_in_store(
        &self,
        store_id: Uuid,
        project_id: Option<&str>,
    ) -> Result<u64, StoreError>;
    /// Replaces payload `old` of secret `secret_id` with `new` if it is still stored as `old` (a compare-and-swap,
    /// so a concurrent delete or move wins), recording `orphan` in the same transaction; `false` if not replaced.
    async fn move_payload(
        &self,
        secret_id: Uuid,
        old: &StoredPayload,
        new: &StoredPayload,
        orphan: Option<&StoreOrphan>,
    ) -> Result<bool, StoreError>;
    /// The objects migrations left on store `store_id`, oldest first.
    async fn store_orphans(&self, store_id: Uuid) -> Result<Vec<StoreOrphan>, StoreError>;
    /// Forgets an orphan once its object is destroyed.
    async fn delete_store_orphan(&self, id: i64) -> Result<(), StoreError>;
    /// An object's `read` ACL; `None` when it has none (the default ACL applies).
    async fn get_acl(&self, target: AclTarget, id: Uuid) -> Result<Option<Acl>, StoreError>;
    /// Sets (creates or replaces) an object's ACL; `false` if the object does not exist.
    async fn put_acl(&self, target: AclTarget, id: Uuid, acl: &Acl) -> Result<bool, StoreError>;
    /// Removes an object's ACL; `false` if it had none.
    async fn delete_acl(&self, target: AclTarget, id: Uuid) -> Result<bool, StoreError>;
    /// Applies `change` to an object's ACL as it is inside the write (one step: concurrent changes never undo
    /// each other); `false` if the object does not exist.
    async fn change_acl(
        &self,
        target: AclTarget,
        id: Uuid,
        change: &AclChange,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Inserts a secret (and its payload) if the project's secrets quota admits one more, counted in the same
    /// transaction as the insert; `false` (nothing written) at the quota.
    async fn insert_secret_within_quota(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
        check: QuotaCheck,
    ) -> Result<bool, StoreError>;
    /// As [`insert_secret_within_quota`](Self::insert_secret_within_quota), appending `audit.accepted` (when
    /// inserted) or `audit.refused` (at the quota) to the audit chain in the same transaction; returns whether it
    /// was inserted and the record. Stores without one transaction for both append after the insert.
    async fn insert_secret_within_quota_audited(
        &self,
        secret: &SecretRecord,
        payload: Option<&StoredPayload>,
        check: QuotaCheck,
        audit: crate::AuditedWrite,
    ) -> Result<(bool, crate::AuditRecord), StoreError> {
        let inserted = self
            .insert_secret_within_quota(secret, payload, check)
            .await?;
        let event = if inserted {
            audit.accepted
        } else {
            audit.refused
        };
        let record = self.append_audit(event, audit.sealer).await?;
        Ok((inserted, record))
    }
    /// A project's configured quotas.
    async fn get_project_quotas(
        &self,
        project_id: &str,
    ) -> Result<Option<ProjectQuotasRecord>, StoreError>;
    /// One page of every project's configured quotas, oldest first, with the total.
    async fn list_project_quotas(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<ProjectQuotasPage, StoreError>;
    /// Creates or replaces a project's configured quotas.
    async fn set_project_quotas(&self, record: &ProjectQuotasRecord) -> Result<(), StoreError>;
    /// Removes a project's configured quotas; `false` if it had none.
    async fn delete_project_quotas(&self, project_id: &str) -> Result<bool, StoreError>;

    /// Places an order if the project's orders quota admits one more (checked in the insert's
    /// transaction); `false` (nothing written) at the quota.
    async fn insert_order(
        &self,
        order: &OrderRecord,
        check: QuotaCheck,
    ) -> Result<bool, StoreError>;
    /// An order by id, whatever its project.
    async fn get_order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError>;
    /// One page of a project's orders, oldest first, with the total.
    async fn list_orders(
        &self,
        project_id: &str,
        limit: u32,
        offset: u32,
    ) -> Result<OrderPage, StoreError>;
    /// Stores a `key` order's secret and payload and marks the order `ACTIVE`, atomically; `false` if the
    /// order is gone.
    async fn complete_key_order(
        &self,
        order_id: Uuid,
        secret: &SecretRecord,
        payload: &StoredPayload,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Stores an `asymmetric` order's secrets, payloads and container and marks the order `ACTIVE`,
    /// atomically; `false` if the order is gone.
    async fn complete_asymmetric_order(
        &self,
        order_id: Uuid,
        secrets: &[(SecretRecord, StoredPayload)],
        container: &ContainerRecord,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Marks an order `ERROR` with a status code and reason; `false` if the order is gone.
    async fn fail_order(
        &self,
        order_id: Uuid,
        code: u16,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Marks every order still `PENDING` that was created before `created_before` as `ERROR` with a status
    /// code and reason; `false` if there was none.
    async fn fail_pending_orders(
        &self,
        code: u16,
        reason: &str,
        created_before: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Deletes an order (never what it generated); `false` if unknown.
    async fn delete_order(&self, id: Uuid) -> Result<bool, StoreError>;

    // --- KMS keys (versions, aliases, tags) ---
    /// Inserts a key with its first version and tags, atomically.
    async fn insert_kms_key(&self, key: &NewKmsKey) -> Result<(), StoreError>;
    /// A key's row by id, whatever its project.
    async fn get_kms_key(&self, id: Uuid) -> Result<Option<KmsKeyRow>, StoreError>;
    /// Up to `limit` of a project's keys with ids greater than `after`, in id order.
    async fn list_kms_keys(
        &self,
        project_id: &str,
        limit: u32,
        after: Option<Uuid>,
    ) -> Result<Vec<KmsKeyRow>, StoreError>;
    /// Writes a key's mutable fields (description, state, deletion date, rotation schedule) — never its
    /// current version, which only `rotate_kms_key` moves; `false` if the key is gone.
    async fn update_kms_key(&self, key: &KmsKeyRow) -> Result<bool, StoreError>;
    /// Adds `version` (which must be the key's current version + 1) and makes it current, in one step; sets the
    /// next automatic rotation to `next_rotation` when given. `false` (nothing written) if the key is gone or
    /// its current version moved meanwhile.
    async fn rotate_kms_key(
        &self,
        version: &KmsKeyVersionRow,
        next_rotation: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;
    /// One version of a key.
    async fn get_kms_key_version(
        &self,
        key_id: Uuid,
        version: u32,
    ) -> Result<Option<KmsKeyVersionRow>, StoreError>;
    /// Up to `limit` of a key's versions above `after`, in version order.
    async fn list_kms_key_versions(
        &self,
        key_id: Uuid,
        limit: u32,
        after: u32,
    ) -> Result<Vec<KmsKeyVersionRow>, StoreError>;
    /// Deletes a key with its versions, aliases and tags, atomically; `false` if unknown.
    async fn delete_kms_key(&self, id: Uuid) -> Result<bool, StoreError>;
    /// Up to `limit` keys pending deletion whose deletion date is at or before `now`.
    async fn kms_keys_due_for_deletion(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<KmsKeyRow>, StoreError>;
    /// Up to `limit` keys whose next automatic rotation is at or before `now`.
    async fn kms_keys_due_for_rotation(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<KmsKeyRow>, StoreError>;

    /// Inserts an alias; `false` if the project has one of that name or the key is gone.
    async fn insert_kms_alias(&self, alias: &KmsAlias) -> Result<bool, StoreError>;
    /// Points an existing alias at another key; `false` if the alias or key is gone.
    async fn update_kms_alias(
        &self,
        project_id: &str,
        name: &str,
        key_id: Uuid,
        updated: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Deletes an alias; `false` if unknown.
    async fn delete_kms_alias(&self, project_id: &str, name: &str) -> Result<bool, StoreError>;
    /// An alias by project and name.
    async fn get_kms_alias(
        &self,
        project_id: &str,
        name: &str,
    ) -> Result<Option<KmsAlias>, StoreError>;
    /// Up to `limit` of a project's aliases (only those of `key_id` if given) named after `after`, by name.
    async fn list_kms_aliases(
        &self,
        project_id: &str,
        key_id: Option<Uuid>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Vec<KmsAlias>, StoreError>;

    /// Sets tags on a key (existing tag keys get the new value) unless the key would then have more than
    /// `max_tags`; `false` (nothing written) if it would, or if the key is gone.
    async fn put_kms_tags(
        &self,
        key_id: Uuid,
        tags: &[(String, String)],
        max_tags: u32,
    ) -> Result<bool, StoreError>;
    /// Removes tags by key (absent ones ignored); `false` if the key is gone.
    async fn delete_kms_tags(&self, key_id: Uuid, tag_keys: &[String]) -> Result<bool, StoreError>;
    /// A key's tags, by tag key.
    async fn list_kms_tags(&self, key_id: Uuid) -> Result<Vec<(String, String)>, StoreError>;

    // --- access keys ---
    /// Stores an access key.
    async fn insert_access_key(&self, key: &AccessKeyRecord) -> Result<(), StoreError>;
    /// An access key by id.
    async fn get_access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;
    /// Marks an access key revoked; `false` if unknown.
    async fn revoke_access_key(&self, id: &str) -> Result<bool, StoreError>;
}
