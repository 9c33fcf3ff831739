//! Secret stores (Barbican's `SecretStores` and `ProjectSecretStore`): the configured backends a payload
//! can live in, exactly one of which is the global default, and the store a project prefers. A store's id is
//! derived from its configuration name and plugin, so every node of a deployment agrees on it without
//! coordination, and renaming a store or changing its plugin makes a new store rather than silently
//! reinterpreting the payloads of the old one.

use time::OffsetDateTime;
use uuid::Uuid;

/// The id of the store every payload lived in before stores were configurable: `[secret_stores.software]` with
/// the `software` plugin keeps it, so existing payloads and project preferences stay where they are.
pub const SOFTWARE_STORE_ID: Uuid = Uuid::from_u128(0x8c0a4d6e_3f1b_5b7a_9e2d_6f4c1a0b9d37);

/// The namespace of derived store ids (a UUID v5 over `name ‖ 0x00 ‖ plugin`).
const STORE_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6a7c2f0e_41d5_4b8e_a3f9_0d2c5e7b9a14);

/// The id of the store configured as `[secret_stores.<name>]` with plugin `plugin`.
pub fn secret_store_id(name: &str, plugin: &str) -> Uuid {
    if name == "software" && plugin == "software" {
        return SOFTWARE_STORE_ID;
    }
    let mut seed = Vec::with_capacity(name.len() + plugin.len() + 1);
    seed.extend_from_slice(name.as_bytes());
    seed.push(0);
    seed.extend_from_slice(plugin.as_bytes());
    Uuid::new_v5(&STORE_ID_NAMESPACE, &seed)
}

/// Barbican's `secret_store_plugin` of stores that seal payloads under the key hierarchy in the database.
pub const STORE_CRYPTO_PLUGIN: &str = "store_crypto";

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
    /// The `<name>` of its `[secret_stores.<name>]` section.
    pub config_name: String,
    /// Whether the running configuration has it (a store removed from the configuration keeps its row, so its
    /// payloads can still be found and migrated, but is not listed).
    pub configured: bool,
}

impl SecretStoreRecord {
    /// Whether its payloads are sealed in the database (rather than kept by an external server).
    pub fn seals_in_database(&self) -> bool {
        self.store_plugin == STORE_CRYPTO_PLUGIN
    }
}
