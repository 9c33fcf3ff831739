//! The `Store` seam: everything Arca persists, as one async trait so SQLite (embedded) and PostgreSQL
//! (multi-node) implementations are interchangeable without changing callers. Implementations must make an
//! acknowledged write durable and may group-commit concurrent writes. They store bytes they are given; all
//! cryptography happens above this line.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{SecretPage, SecretQuery, SecretRecord};

/// A persistence failure. The message is for operators; it never contains key material.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

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
}

/// Everything Arca persists.
#[async_trait]
pub trait Store: Send + Sync + 'static {
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

    /// Stores a token digest row.
    async fn insert_token(&self, row: &TokenRow) -> Result<(), StoreError>;
    /// A token row by id.
    async fn get_token(&self, id: &str) -> Result<Option<TokenRow>, StoreError>;
    /// Marks a token revoked; `false` if unknown.
    async fn revoke_token(&self, id: &str) -> Result<bool, StoreError>;

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
    /// A secret's sealed payload.
    async fn get_payload(&self, id: Uuid) -> Result<Option<StoredPayload>, StoreError>;
    /// One page of a project's unexpired secrets, filtered and sorted as the query says, with the total.
    async fn list_secrets(&self, query: &SecretQuery) -> Result<SecretPage, StoreError>;
    /// Deletes a secret, its payload and its user metadata; `false` if unknown.
    async fn delete_secret(&self, id: Uuid) -> Result<bool, StoreError>;

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
}
