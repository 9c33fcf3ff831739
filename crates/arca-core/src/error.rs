//! The one error enum of arca-core. The server maps each variant to a status in exactly one place. Messages
//! are for people and never contain key material or payloads.

use arca_crypto::CryptoError;

use crate::StoreError;

/// What a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// The caller is known but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist (or is expired, or is not visible).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// The input is invalid; the message says how.
    #[error("{0}")]
    Invalid(String),
    /// Creating one more would exceed the project's quota for this resource (named).
    #[error("the project's {0} quota has been reached")]
    QuotaReached(String),
    /// A stored ciphertext or wrapped key failed authentication: the database was modified or mixed up.
    #[error(
        "integrity check failed for {0}: stored data was modified or belongs to another object"
    )]
    Integrity(String),
    /// The persistence layer failed.
    #[error("storage error: {0}")]
    Storage(#[from] StoreError),
    /// A cryptographic primitive failed for a reason other than integrity.
    #[error("cryptographic failure: {0}")]
    Crypto(CryptoError),
}

impl From<CryptoError> for CoreError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Integrity => CoreError::Integrity("a stored object".into()),
            other => CoreError::Crypto(other),
        }
    }
}
