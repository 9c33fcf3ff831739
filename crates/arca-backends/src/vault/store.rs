//! `VaultStore`, the `ExternalStore` on a Vault/OpenBao KV v2 mount: each operation takes the current
//! token (renewed or logged in again as needed) and, if Vault answers 403, logs in again once and retries.
//! `delete` looks up the metadata first, because Vault answers 204 when deleting metadata that does not
//! exist and the trait reports `NotFound` then.

use std::future::Future;

use arca_core::{ExternalStore, ExternalStoreError};
use async_trait::async_trait;
use secrecy::SecretString;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::auth::Auth;
use super::config::VaultConfig;
use super::errors::VaultError;
use super::http::{CallError, Http};
use super::kv::{Kv, check_locator, locator};

/// Payloads in a Vault/OpenBao KV v2 mount, reached with AppRole.
pub struct VaultStore {
    http: Http,
    auth: Auth,
    kv: Kv,
}

impl std::fmt::Debug for VaultStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultStore")
            .field("server", &self.http.name())
            .field("kv_mountpoint", &self.kv.mount())
            .finish_non_exhaustive()
    }
}

impl VaultStore {
    /// Checks `config` and reads the secret-id file (refused when missing, empty or open to group or
    /// others). Does not touch the network: the first operation or `check` logs in.
    pub fn new(config: VaultConfig) -> Result<Self, VaultError> {
        let mount = config.mount()?;
        let role_id = config.role_id()?;
        let http = Http::new(&config)?;
        let secret_id = config.load_secret_id()?;
        Ok(Self {
            http,
            auth: Auth::new(role_id, secret_id, config.approle_secret_id_file.clone()),
            kv: Kv::new(mount),
        })
    }

    /// Runs `op` with the current token; after a 403, once more with a new login.
    async fn with_token<T, F, Fut>(&self, op: F) -> Result<T, ExternalStoreError>
    where
        F: Fn(SecretString) -> Fut,
        Fut: Future<Output = Result<T, CallError>>,
    {
        let token = self
            .auth
            .token(&self.http)
            .await
            .map_err(CallError::into_store)?;
        match op(token.secret.clone()).await {
            Err(CallError::Forbidden(message)) => {
                tracing::info!(
                    vault = %self.http.name(),
                    error = %message,
                    "Vault refused the token; logging in again and retrying once"
                );
                let token = self
                    .auth
                    .relogin(&self.http, &token)
                    .await
                    .map_err(CallError::into_store)?;
                op(token.secret.clone()).await.map_err(|e| match e {
                    CallError::Forbidden(m) => ExternalStoreError::Rejected(format!(
                        "{m} (after a new login: check the policy of Arca's AppRole covers {}/data/arca/* and {}/metadata/arca/*)",
                        self.kv.mount(),
                        self.kv.mount()
                    )),
                    other => other.into_store(),
                })
            }
            other => other.map_err(CallError::into_store),
        }
    }
}

#[async_trait]
impl ExternalStore for VaultStore {
    async fn put(
        &self,
        project_id: &str,
        secret_id: Uuid,
        payload: &[u8],
    ) -> Result<String, ExternalStoreError> {
        let locator = locator(project_id, secret_id);
        self.with_token(|token| self.kv.write(&self.http, token, &locator, payload))
            .await?;
        Ok(locator)
    }

    async fn get(&self, locator: &str) -> Result<Zeroizing<Vec<u8>>, ExternalStoreError> {
        check_locator(locator)?;
        self.with_token(|token| self.kv.read(&self.http, token, locator))
            .await
    }

    async fn delete(&self, locator: &str) -> Result<(), ExternalStoreError> {
        check_locator(locator)?;
        self.with_token(|token| async {
            self.kv.metadata(&self.http, token.clone(), locator).await?;
            self.kv.destroy(&self.http, token, locator).await
        })
        .await
    }

    async fn check(&self) -> Result<(), ExternalStoreError> {
        self.with_token(|token| async move { Auth::lookup_self(&self.http, &token).await })
            .await
    }
}
