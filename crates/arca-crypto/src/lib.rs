//! Arca's cryptographic primitives on aws-lc-rs: zeroizing key types, HKDF, HMAC, the object seal envelope,
//! key wrapping, API tokens, RSA key-pair generation (PEM) and the KMS primitives (`kms`). This crate knows nothing of projects, storage or
//! HTTP and does no I/O; callers pass the bytes that bind a ciphertext to its context (see `Binding`).
// `deny`, not `forbid`: `kms/ed25519ph.rs` alone calls aws-lc's C functions for Ed25519ph (aws-lc-rs offers only
// PureEdDSA), under its own `allow` with the reason at each call.
#![deny(unsafe_code)]

mod binding;
mod error;
mod gcm;
mod kdf;
mod key;
pub mod kms;
mod mac;
mod random;
mod rsa_keygen;
mod seal;
mod token;
mod wrap;

pub use binding::Binding;
pub use error::CryptoError;
pub use kdf::hkdf_sha256;
pub use key::Key256;
pub use kms::{
    EncryptionAlgorithm, EncryptionContext, KeyMaterial, KmsKeySpec, KmsKeyUsage, MacAlgorithm,
    MessageType, SigningAlgorithm, kms_blob_header, kms_open, kms_seal,
};
pub use mac::{MacKey, constant_time_eq, hmac_sha256, hmac_sha256_verify};
pub use random::{fill_random, random_array};
pub use rsa_keygen::{PKCS8_PBKDF2_ITERATIONS, RSA_KEY_BITS, RsaKeyPem, generate_rsa_pem};
pub use seal::{SEAL_FORMAT_V1, open, seal, sealed_key_version};
pub use token::{ApiToken, ParsedToken};
pub use wrap::{unwrap_key, wrap_key};
