//! The PKCS#11 root of trust: configuration and PIN loading (`config`), errors and their mapping to
//! `CryptoError::Unavailable` (`errors`), the library/login/session pool that reconnects by itself (`pool`),
//! the key objects in the token — generation, versioned-label scans, the RFC 5649 known-answer test
//! (`objects`) — and the `RootKeyProvider` over them (`provider`).

mod config;
mod errors;
mod objects;
mod pool;
mod provider;

pub use config::{Pkcs11Config, WrapMechanism};
pub use errors::Pkcs11Error;
pub use provider::{Pkcs11RootKey, WRAP_ALG_PKCS11_AES_KW, WRAP_ALG_PKCS11_AES_KWP};
