//! `Payloads`: where a secret's payload goes and how it comes back. A new payload goes to its project's
//! preferred secret store, else the global default; a `Sealed` store seals it under the key hierarchy (the
//! envelope is what the database keeps), an `External` store keeps it and answers a locator, which is sealed
//! under the hierarchy as its own object kind bound to the secret (so a database edit can neither point one
//! secret at another's object nor pass a locator off as a payload). Every stored payload remembers its store.

use std::collections::HashSet;
use std::sync::Arc;

use uuid::Uuid;
use zeroize::Zeroizing;

use crate::payload_stores::{ConfiguredStore, PayloadBackend};
use crate::secret_service::PAYLOAD_REVISION;
use crate::{CoreError, KeyHierarchy, ObjectKind, PayloadStores, Store, StoredPayload};

/// Payload placement over the configured stores.
#[derive(Clone)]
pub struct Payloads {
    store: Arc<dyn Store>,
    keys: Arc<KeyHierarchy>,
    stores: PayloadStores,
    /// Stores no longer configured whose payloads were sealed in the database: still readable.
    retired_sealed: Arc<HashSet<Uuid>>,
}

/// How the payloads of one store id are read on this node.
enum Holder<'a> {
    Sealed,
    External(&'a ConfiguredStore, &'a Arc<dyn crate::ExternalStore>),
}

impl Payloads {
    /// Placement over `stores`; `retired_sealed` lists stores removed from the configuration whose payloads
    /// are sealed in the database.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyHierarchy>,
        stores: PayloadStores,
        retired_sealed: HashSet<Uuid>,
    ) -> Self {
        Self {
            store,
            keys,
            stores,
            retired_sealed: Arc::new(retired_sealed),
        }
    }

    /// The configured stores.
    pub fn stores(&self) -> &PayloadStores {
        &self.stores
    }

    /// The store a new payload of `project_id` goes to: its preferred store if that is configured, else the
    /// global default.
    pub async fn target(&self, project_id: &str) -> Result<Arc<ConfiguredStore>, CoreError> {
        if self.stores.several()
            && let Some(id) = self.store.get_preferred_secret_store(project_id).await?
            && let Some(preferred) = self.stores.by_id(id)
        {
            return Ok(preferred.clone());
        }
        Ok(self.stores.global_default().clone())
    }

    /// Places a payload of secret `secret_id` in its project's store.
    pub async fn place(
        &self,
        project_id: &str,
        secret_id: Uuid,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<StoredPayload, CoreError> {
        let target = self.target(project_id).await?;
        self.place_in(&target, project_id, secret_id, bytes, content_type)
            .await
    }

    /// Places a payload of secret `secret_id` in `target`.
    pub async fn place_in(
        &self,
        target: &ConfiguredStore,
        project_id: &str,
        secret_id: Uuid,
        bytes: &[u8],
        content_type: &str,
    ) -> Result<StoredPayload, CoreError> {
        let id = secret_id.to_string();
        let ciphertext = match &target.backend {
            PayloadBackend::Sealed => {
                self.keys
                    .seal(
                        project_id,
                        ObjectKind::SecretPayload,
                        &id,
                        PAYLOAD_REVISION,
                        bytes,
                    )
                    .await?
            }
            PayloadBackend::External(external) => {
                let locator = target.observe(external.put(project_id, secret_id, bytes).await)?;
                match self
                    .keys
                    .seal(
                        project_id,
                        ObjectKind::SecretLocator,
                        &id,
                        PAYLOAD_REVISION,
                        locator.as_bytes(),
                    )
                    .await
                {
                    Ok(sealed) => sealed,
                    Err(e) => {
                        let _ = external.delete(&locator).await;
                        return Err(e);
                    }
                }
            }
        };
        Ok(StoredPayload {
            ciphertext,
            content_type: content_type.to_owned(),
            store_id: target.record.id,
        })
    }

    fn holder(&self, store_id: Uuid) -> Result<Holder<'_>, CoreError> {
        match self.stores.by_id(store_id) {
            Some(configured) => Ok(match &configured.backend {
                PayloadBackend::Sealed => Holder::Sealed,
                PayloadBackend::External(external) => Holder::External(configured, external),
            }),
            None if self.retired_sealed.contains(&store_id) => Ok(Holder::Sealed),
            None => Err(CoreError::Unavailable(format!(
                "the secret store {store_id} that holds this payload is not configured on this node"
            ))),
        }
    }

    /// The locator of a payload kept by an external store (opened and checked against its secret).
    async fn locator(
        &self,
        project_id: &str,
        secret_id: Uuid,
        stored: &StoredPayload,
    ) -> Result<String, CoreError> {
        let id = secret_id.to_string();
        let bytes = self
            .keys
            .open(
                project_id,
                ObjectKind::SecretLocator,
                &id,
                PAYLOAD_REVISION,
                &stored.ciphertext,
            )
            .await
            .map_err(|e| integrity_of(e, secret_id))?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| CoreError::Integrity(format!("the payload locator of secret {secret_id}")))
    }

    /// The plaintext of a stored payload.
    pub async fn open(
        &self,
        project_id: &str,
        secret_id: Uuid,
        stored: &StoredPayload,
    ) -> Result<Zeroizing<Vec<u8>>, CoreError> {
        match self.holder(stored.store_id)? {
            Holder::Sealed => self
                .keys
                .open(
                    project_id,
                    ObjectKind::SecretPayload,
                    &secret_id.to_string(),
                    PAYLOAD_REVISION,
                    &stored.ciphertext,
                )
                .await
                .map_err(|e| integrity_of(e, secret_id)),
            Holder::External(configured, external) => {
                let locator = self.locator(project_id, secret_id, stored).await?;
                configured.observe(external.get(&locator).await)
            }
        }
    }

    /// Destroys what an external store keeps for this payload (nothing for payloads sealed in the database); an
    /// object already gone counts as destroyed.
    pub async fn destroy(
        &self,
        project_id: &str,
        secret_id: Uuid,
        stored: &StoredPayload,
    ) -> Result<(), CoreError> {
        match self.holder(stored.store_id)? {
            Holder::Sealed => Ok(()),
            Holder::External(configured, external) => {
                let locator = self.locator(project_id, secret_id, stored).await?;
                match configured.observe(external.delete(&locator).await) {
                    Ok(()) | Err(CoreError::NotFound(_)) => Ok(()),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Best effort after a payload was placed but its secret was not stored: destroys the external object,
    /// logging (never failing) when that is not possible.
    pub async fn discard(&self, project_id: &str, secret_id: Uuid, stored: &StoredPayload) {
        if let Err(e) = self.destroy(project_id, secret_id, stored).await {
            tracing::warn!(secret = %secret_id, error = %e, "an unused payload could not be removed from its secret store");
        }
    }
}

fn integrity_of(e: CoreError, secret_id: Uuid) -> CoreError {
    match e {
        CoreError::Integrity(_) => {
            CoreError::Integrity(format!("the payload of secret {secret_id}"))
        }
        other => other,
    }
}
