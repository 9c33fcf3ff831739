//! `Services`: the domain assembled from its seams (store, root key provider, clock), as the server and the
//! CLI use it. Cheap to clone.

use std::sync::Arc;

use crate::{
    Clock, CoreError, KekCacheLimits, KeyHierarchy, RootKeyProvider, SecretService, Store,
    TokenService,
};

/// Every domain service over one store and root of trust.
#[derive(Clone)]
pub struct Services {
    /// Secrets and their metadata.
    pub secrets: SecretService,
    /// API tokens.
    pub tokens: TokenService,
    /// The key hierarchy.
    pub keys: Arc<KeyHierarchy>,
    /// The clock every service reads.
    pub clock: Arc<dyn Clock>,
}

impl Services {
    /// Assembles the services and makes sure the system keys exist.
    pub async fn start(
        store: Arc<dyn Store>,
        root: Arc<dyn RootKeyProvider>,
        clock: Arc<dyn Clock>,
        limits: KekCacheLimits,
    ) -> Result<Self, CoreError> {
        let keys = Arc::new(KeyHierarchy::new(root, store.clone(), limits));
        keys.bootstrap_system_keys().await?;
        Ok(Self {
            secrets: SecretService::new(store.clone(), keys.clone(), clock.clone()),
            tokens: TokenService::new(store, keys.clone(), clock.clone()),
            keys,
            clock,
        })
    }
}
