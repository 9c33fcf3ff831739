//! `PayloadStores`: the secret stores this node is configured with — for each, its record (id, names, plugin)
//! and how it keeps payloads (sealed in the database, or on an external server through `ExternalStore`) —
//! which one is the global default, and whether each external store answered its last call. Built once at
//! start-up from the configuration; the health flags feed `/readyz` and the `arca_secret_store_up` gauge.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use uuid::Uuid;

use crate::{CoreError, ExternalStore, ExternalStoreError, SecretStoreRecord};

/// How a store keeps its payloads.
#[derive(Clone)]
pub enum PayloadBackend {
    /// Sealed under the key hierarchy, in the database (`software`, and `pkcs11` whose root key is in the HSM).
    Sealed,
    /// On an external server; the database keeps only the locator, sealed and bound to its secret.
    External(Arc<dyn ExternalStore>),
}

/// One configured store.
pub struct ConfiguredStore {
    /// Its record as the API lists it.
    pub record: SecretStoreRecord,
    /// Barbican-style plugin name from the configuration (`software`, `pkcs11`, `kmip`, `vault`).
    pub plugin: String,
    /// How it keeps payloads.
    pub backend: PayloadBackend,
    up: AtomicBool,
}

impl ConfiguredStore {
    /// A configured store, assumed up until a call says otherwise.
    pub fn new(record: SecretStoreRecord, plugin: &str, backend: PayloadBackend) -> Self {
        let store = Self {
            record,
            plugin: plugin.to_owned(),
            backend,
            up: AtomicBool::new(true),
        };
        store.publish();
        store
    }

    /// Its configuration name.
    pub fn config_name(&self) -> &str {
        &self.record.config_name
    }

    /// Whether its last call (or health check) reached it.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    fn set_up(&self, up: bool) {
        if self.up.swap(up, Ordering::Relaxed) != up {
            if up {
                tracing::info!(
                    store = self.config_name(),
                    "secret store is reachable again"
                );
            } else {
                tracing::warn!(store = self.config_name(), "secret store is unavailable");
            }
        }
        self.publish();
    }

    fn publish(&self) {
        metrics::gauge!("arca_secret_store_up", "store" => self.record.config_name.clone())
            .set(if self.is_up() { 1.0 } else { 0.0 });
    }

    /// Records the outcome of a call to the external store and turns a failure into the domain error: 503
    /// naming the store when it cannot be reached, 404 when the object is missing, 503 when it refused.
    pub(crate) fn observe<T>(&self, result: Result<T, ExternalStoreError>) -> Result<T, CoreError> {
        match result {
            Ok(v) => {
                self.set_up(true);
                Ok(v)
            }
            Err(ExternalStoreError::NotFound) => {
                self.set_up(true);
                Err(CoreError::NotFound(format!(
                    "the payload is missing from secret store '{}'",
                    self.config_name()
                )))
            }
            Err(ExternalStoreError::Unavailable(why)) => {
                self.set_up(false);
                metrics::counter!("arca_secret_store_errors_total", "store" => self.record.config_name.clone())
                    .increment(1);
                Err(CoreError::Unavailable(format!(
                    "secret store '{}' ({}) is unavailable: {why}",
                    self.config_name(),
                    self.plugin
                )))
            }
            Err(ExternalStoreError::Rejected(why)) => {
                self.set_up(true);
                metrics::counter!("arca_secret_store_errors_total", "store" => self.record.config_name.clone())
                    .increment(1);
                Err(CoreError::Unavailable(format!(
                    "secret store '{}' ({}) refused the request: {why}",
                    self.config_name(),
                    self.plugin
                )))
            }
        }
    }

    /// Checks the store now (a round trip for external stores), updating its health.
    pub async fn check(&self) -> Result<(), CoreError> {
        match &self.backend {
            PayloadBackend::Sealed => Ok(()),
            PayloadBackend::External(external) => self.observe(external.check().await),
        }
    }
}

/// Every store this node is configured with.
#[derive(Clone)]
pub struct PayloadStores {
    stores: Arc<Vec<Arc<ConfiguredStore>>>,
    default: usize,
}

impl Default for PayloadStores {
    /// The single `software` store, as a deployment without `[secret_stores]` has.
    fn default() -> Self {
        let now = time::OffsetDateTime::now_utc();
        let record = SecretStoreRecord {
            id: crate::SOFTWARE_STORE_ID,
            name: "Software Only Crypto".into(),
            store_plugin: crate::STORE_CRYPTO_PLUGIN.into(),
            crypto_plugin: Some("simple_crypto".into()),
            global_default: true,
            created: now,
            updated: now,
            config_name: "software".into(),
            configured: true,
        };
        Self {
            stores: Arc::new(vec![Arc::new(ConfiguredStore::new(
                record,
                "software",
                PayloadBackend::Sealed,
            ))]),
            default: 0,
        }
    }
}

impl PayloadStores {
    /// The configured stores; exactly one must be the global default (the error names none or all of them).
    pub fn new(stores: Vec<ConfiguredStore>) -> Result<Self, CoreError> {
        if stores.is_empty() {
            return Err(CoreError::Invalid(
                "no secret store is configured: add a [secret_stores.<name>] section".into(),
            ));
        }
        let defaults: Vec<usize> = (0..stores.len())
            .filter(|&i| stores[i].record.global_default)
            .collect();
        let default = match defaults.as_slice() {
            [one] => *one,
            [] => {
                return Err(CoreError::Invalid(format!(
                    "no secret store is the global default: set global_default = true in exactly one of {}",
                    names(stores.iter().map(|s| s.config_name()))
                )));
            }
            several => {
                return Err(CoreError::Invalid(format!(
                    "several secret stores are the global default ({}): set global_default = true in exactly one",
                    names(several.iter().map(|&i| stores[i].config_name()))
                )));
            }
        };
        Ok(Self {
            stores: Arc::new(stores.into_iter().map(Arc::new).collect()),
            default,
        })
    }

    /// Every configured store, in configuration order.
    pub fn all(&self) -> &[Arc<ConfiguredStore>] {
        &self.stores
    }

    /// The global default.
    pub fn global_default(&self) -> &Arc<ConfiguredStore> {
        &self.stores[self.default]
    }

    /// The configured store with this id.
    pub fn by_id(&self, id: Uuid) -> Option<&Arc<ConfiguredStore>> {
        self.stores.iter().find(|s| s.record.id == id)
    }

    /// The configured store with this configuration name.
    pub fn by_name(&self, name: &str) -> Option<&Arc<ConfiguredStore>> {
        self.stores.iter().find(|s| s.config_name() == name)
    }

    /// Whether more than one store is configured (else every payload goes to the one there is).
    pub fn several(&self) -> bool {
        self.stores.len() > 1
    }

    /// The external stores that did not answer their last call, by name.
    pub fn down(&self) -> Vec<String> {
        self.stores
            .iter()
            .filter(|s| !s.is_up())
            .map(|s| s.config_name().to_owned())
            .collect()
    }

    /// Checks every external store once (the periodic health check).
    pub async fn check_all(&self) {
        for store in self.stores.iter() {
            if let Err(e) = store.check().await {
                tracing::debug!(store = store.config_name(), error = %e, "secret store health check failed");
            }
        }
    }
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
