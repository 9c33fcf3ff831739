//! The seam for secret stores that keep payloads outside Arca's database (KMIP servers, Vault/OpenBao KV v2):
//! `ExternalStore` puts a payload and answers an opaque locator, gets and destroys it by that locator, and
//! reports its health. The database keeps only the locator, sealed under the key hierarchy and bound to its
//! secret (CRYPTO.md: a database edit cannot make one secret serve another's payload).

use async_trait::async_trait;
use uuid::Uuid;
use zeroize::Zeroizing;

/// What an external store operation can fail with. Messages are for people and never carry a payload.
#[derive(Debug, thiserror::Error)]
pub enum ExternalStoreError {
    /// The store cannot be reached or is not serving (connection refused, TLS failure, timeout, 5xx, sealed
    /// Vault): the caller answers 503 and retries later; nothing was changed.
    #[error("{0}")]
    Unavailable(String),
    /// The store has no object under this locator.
    #[error("no object under this locator")]
    NotFound,
    /// The store refused the request (permission denied, malformed answer, object of the wrong kind).
    #[error("{0}")]
    Rejected(String),
}

/// A payload store outside the database.
#[async_trait]
pub trait ExternalStore: Send + Sync + 'static {
    /// Stores `payload` for secret `secret_id` of `project_id` and answers the locator that finds it again
    /// (a KMIP unique identifier, a KV v2 path). The locator holds no secret material.
    async fn put(
        &self,
        project_id: &str,
        secret_id: Uuid,
        payload: &[u8],
    ) -> Result<String, ExternalStoreError>;

    /// The payload stored under `locator`.
    async fn get(&self, locator: &str) -> Result<Zeroizing<Vec<u8>>, ExternalStoreError>;

    /// Destroys the object under `locator` (every version of it); `NotFound` if it is already gone.
    async fn delete(&self, locator: &str) -> Result<(), ExternalStoreError>;

    /// Whether the store is reachable and accepts this client's credentials (a cheap round trip).
    async fn check(&self) -> Result<(), ExternalStoreError>;
}
