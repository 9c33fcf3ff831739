//! Arca's domain: secrets and their metadata, principals and Barbican's legacy policy, API tokens, and the key
//! hierarchy (root key → project KEK → per-ciphertext keys). It defines the seams other crates plug into —
//! `Store` (persistence), `RootKeyProvider` (root of trust), `Clock` (time) — and knows nothing of HTTP or SQL.
//! Domain types are deliberately not `Serialize`: only the server knows wire shapes.
#![forbid(unsafe_code)]

mod clock;
mod error;
mod hierarchy;
mod policy;
mod root_key;
mod secret;
mod secret_service;
mod services;
mod store;
mod token_service;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::CoreError;
pub use hierarchy::{KekCacheLimits, KeyHierarchy, ObjectKind, SystemKey};
pub use policy::{Action, Principal, Role};
pub use root_key::{FileRootKey, RootKeyFileError, RootKeyProvider, root_key_path};
pub use secret::{
    Cmp, NewSecret, Payload, SecretPage, SecretQuery, SecretRecord, SecretType, SortDir, SortKey,
    TimeField, TimeFilter,
};
pub use secret_service::SecretService;
pub use services::Services;
pub use store::{KekRow, Store, StoreError, StoredPayload, TokenRow, WrappedKeyRow};
pub use token_service::{IssuedToken, TokenService};
