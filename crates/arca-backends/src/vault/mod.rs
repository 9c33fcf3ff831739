//! The Vault/OpenBao KV v2 secret store: its settings and the secret-id file (`config`), its start-up errors
//! (`errors`), the HTTP client on rustls/aws-lc-rs and the mapping of Vault's answers to
//! `ExternalStoreError` (`http`), the AppRole token with its renewal and re-login (`auth`), the KV v2 calls
//! and locators (`kv`), and the `ExternalStore` over them (`store`).

mod auth;
mod config;
mod errors;
mod http;
mod kv;
mod store;

pub use config::{DEFAULT_KV_MOUNTPOINT, DEFAULT_TIMEOUT, VaultConfig};
pub use errors::VaultError;
pub use store::VaultStore;
