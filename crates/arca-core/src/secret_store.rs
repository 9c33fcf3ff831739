//! Secret stores (Barbican's `SecretStores` and `ProjectSecretStore`): the configured backends a payload
//! can live in, exactly one of which is the global default, and the store a project prefers.

use time::OffsetDateTime;
use uuid::Uuid;

/// A configured secret store backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretStoreRecord {
    /// The store's id.
    pub id: Uuid,
    /// Its display name (e.g. `Software Only Crypto`).
    pub name: String,
    /// Barbican's secret store plugin name (e.g. `store_crypto`).
    pub store_plugin: String,
    /// Barbican's crypto plugin name, for `store_crypto` stores (e.g. `simple_crypto`).
    pub crypto_plugin: Option<String>,
    /// Whether this is the deployment's global default.
    pub global_default: bool,
    /// When it was configured.
    pub created: OffsetDateTime,
    /// When its configuration last changed.
    pub updated: OffsetDateTime,
}
