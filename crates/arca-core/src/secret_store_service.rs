//! The secret-stores API's domain (`barbican/api/controllers/secretstores.py`): list the configured stores,
//! the global default, and each project's preferred store (set and cleared by a project admin). Reads need
//! any role (`rule:all_users`), changing the preference needs admin (`rule:admin`).

use std::sync::Arc;

use uuid::Uuid;

use crate::policy::authorize;
use crate::{Action, Clock, CoreError, Principal, SecretStoreRecord, Store};

/// Secret stores and project preferences.
#[derive(Clone)]
pub struct SecretStoreService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

fn store_not_found() -> CoreError {
    CoreError::NotFound("Not Found. Secret store not found.".into())
}

fn preferred_not_found() -> CoreError {
    CoreError::NotFound("Not Found. No preferred secret store defined for this project.".into())
}

impl SecretStoreService {
    /// A secret store service over the store.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Every configured store.
    pub async fn list(&self, caller: &Principal) -> Result<Vec<SecretStoreRecord>, CoreError> {
        authorize(caller, Action::SecretStoreRead, None)?;
        self.configured().await
    }

    /// The stores the running configuration has (rows of removed stores stay, unlisted).
    async fn configured(&self) -> Result<Vec<SecretStoreRecord>, CoreError> {
        let mut all = self.store.list_secret_stores().await?;
        all.retain(|s| s.configured);
        Ok(all)
    }

    /// One store by id: `NotFound` (before any policy check, as Barbican's `_lookup`) if unknown.
    pub async fn get(&self, caller: &Principal, id: Uuid) -> Result<SecretStoreRecord, CoreError> {
        let found = self.find(id).await?;
        authorize(caller, Action::SecretStoreRead, None)?;
        Ok(found)
    }

    async fn find(&self, id: Uuid) -> Result<SecretStoreRecord, CoreError> {
        self.configured()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(store_not_found)
    }

    /// The global default store.
    pub async fn global_default(&self, caller: &Principal) -> Result<SecretStoreRecord, CoreError> {
        let all = self.list(caller).await?;
        all.into_iter()
            .find(|s| s.global_default)
            .ok_or_else(store_not_found)
    }

    /// The caller's project's preferred store; `NotFound` if it chose none.
    pub async fn preferred(&self, caller: &Principal) -> Result<SecretStoreRecord, CoreError> {
        authorize(caller, Action::SecretStoreRead, None)?;
        let id = self
            .store
            .get_preferred_secret_store(&caller.project_id)
            .await?
            .ok_or_else(preferred_not_found)?;
        self.find(id).await.map_err(|_| preferred_not_found())
    }

    /// Makes store `id` the caller's project's preferred store (admin only).
    pub async fn set_preferred(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.find(id).await?;
        authorize(caller, Action::SecretStorePreferredWrite, None)?;
        if self
            .store
            .set_preferred_secret_store(&caller.project_id, id, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(store_not_found())
        }
    }

    /// Clears the caller's project's preferred store (admin only); `NotFound` if it had none. As in
    /// Barbican, the store named in the path only has to exist: whatever preference the project has is
    /// removed.
    pub async fn remove_preferred(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.find(id).await?;
        authorize(caller, Action::SecretStorePreferredWrite, None)?;
        if self
            .store
            .delete_preferred_secret_store(&caller.project_id)
            .await?
        {
            Ok(())
        } else {
            Err(preferred_not_found())
        }
    }
}
