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
    /// A KMS API failure with its own AWS exception (the server maps the kind to the `__type`).
    #[error("{0}")]
    Kms(KmsError),
    /// The root of trust is unavailable (HSM gone, server sealed): 503 until it is back.
    #[error("{0}")]
    Unavailable(String),
}

impl CoreError {
    /// A KMS failure of `kind` with a message a person can act on (never key material).
    pub fn kms(kind: KmsErrorKind, message: impl Into<String>) -> Self {
        CoreError::Kms(KmsError {
            kind,
            message: message.into(),
        })
    }

    /// Whether this is a store failure saying the database cannot be reached (answered 503, not 500).
    pub fn is_database_unavailable(&self) -> bool {
        matches!(self, CoreError::Storage(e) if e.is_unavailable())
    }

    /// The KMS kind of this error, if it is a KMS failure.
    pub fn kms_kind(&self) -> Option<KmsErrorKind> {
        match self {
            CoreError::Kms(e) => Some(e.kind),
            _ => None,
        }
    }
}

/// A KMS failure: which AWS exception and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KmsError {
    /// The AWS exception.
    pub kind: KmsErrorKind,
    /// What went wrong, for people; never key material.
    pub message: String,
}

/// One variant per AWS KMS exception the service raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KmsErrorKind {
    /// `NotFoundException`: no such key or alias in the caller's project.
    NotFound,
    /// `DisabledException`: the key is disabled.
    Disabled,
    /// `KMSInvalidStateException`: the key's state does not allow the operation (e.g. pending deletion).
    KmsInvalidState,
    /// `IncorrectKeyException`: the ciphertext was not made with the named key.
    IncorrectKey,
    /// `InvalidCiphertextException`: the ciphertext is malformed, tampered with, or not this project's.
    InvalidCiphertext,
    /// `KMSInvalidSignatureException`: the signature does not verify.
    KmsInvalidSignature,
    /// `KMSInvalidMacException`: the MAC does not verify.
    KmsInvalidMac,
    /// `InvalidKeyUsageException`: the key's usage or spec does not allow the operation or algorithm.
    InvalidKeyUsage,
    /// `AlreadyExistsException`: the alias name is taken.
    AlreadyExists,
    /// `LimitExceededException`: a per-key limit (tags, on-demand rotations) would be exceeded.
    LimitExceeded,
    /// `ValidationException`: an input is out of range or malformed.
    Validation,
    /// `InvalidAliasNameException`: the alias name is malformed or reserved.
    InvalidAliasName,
    /// `TagException`: a tag key or value is malformed.
    Tag,
    /// `UnsupportedOperationException`: the key spec does not support the operation.
    UnsupportedOperation,
    /// `InvalidMarkerException`: the pagination marker is not one this service issued.
    InvalidMarker,
    /// `InvalidGrantTokenException`: grant tokens are not supported.
    InvalidGrantToken,
    /// `InvalidArnException`: a malformed ARN.
    InvalidArn,
}

impl KmsErrorKind {
    /// The AWS `__type` name.
    pub fn aws_name(self) -> &'static str {
        match self {
            KmsErrorKind::NotFound => "NotFoundException",
            KmsErrorKind::Disabled => "DisabledException",
            KmsErrorKind::KmsInvalidState => "KMSInvalidStateException",
            KmsErrorKind::IncorrectKey => "IncorrectKeyException",
            KmsErrorKind::InvalidCiphertext => "InvalidCiphertextException",
            KmsErrorKind::KmsInvalidSignature => "KMSInvalidSignatureException",
            KmsErrorKind::KmsInvalidMac => "KMSInvalidMacException",
            KmsErrorKind::InvalidKeyUsage => "InvalidKeyUsageException",
            KmsErrorKind::AlreadyExists => "AlreadyExistsException",
            KmsErrorKind::LimitExceeded => "LimitExceededException",
            KmsErrorKind::Validation => "ValidationException",
            KmsErrorKind::InvalidAliasName => "InvalidAliasNameException",
            KmsErrorKind::Tag => "TagException",
            KmsErrorKind::UnsupportedOperation => "UnsupportedOperationException",
            KmsErrorKind::InvalidMarker => "InvalidMarkerException",
            KmsErrorKind::InvalidGrantToken => "InvalidGrantTokenException",
            KmsErrorKind::InvalidArn => "InvalidArnException",
        }
    }
}

impl From<CryptoError> for CoreError {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::Integrity => CoreError::Integrity("a stored object".into()),
            CryptoError::Unavailable(why) => CoreError::Unavailable(why),
            other => CoreError::Crypto(other),
        }
    }
}
