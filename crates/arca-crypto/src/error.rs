//! The one error type of arca-crypto. Its `Display` never contains key material or plaintext.

/// What can go wrong in a cryptographic operation. Deliberately coarse: an integrity failure says nothing
/// about which byte was wrong.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Authentication failed: wrong key, wrong context, or a modified ciphertext.
    #[error("integrity check failed: the ciphertext does not belong here or was modified")]
    Integrity,
    /// The bytes are not in a format this version understands.
    #[error("malformed ciphertext: {0}")]
    Format(&'static str),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
    /// A key had the wrong length.
    #[error("a key must be 32 bytes")]
    KeyLength,
    /// A key pair could not be generated (or its size is not supported).
    #[error("key generation failed")]
    KeyGeneration,
    /// A request the key cannot serve (wrong algorithm for its spec, a digest of the wrong length, an oversize
    /// plaintext). The message names no key material.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Stored key material does not fit its key spec (wrong length, key type, curve or size).
    #[error("key material does not fit key spec {0}")]
    InvalidKeyMaterial(&'static str),
    /// Signing failed inside the library.
    #[error("signing failed")]
    Signing,
    /// Public-key encryption failed inside the library.
    #[error("encryption failed")]
    Encryption,
}
