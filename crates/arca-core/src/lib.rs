//! Arca's domain: secrets and their metadata, principals and Barbican's legacy policy, API tokens, and the key
//! hierarchy (root key → project KEK → per-ciphertext keys). It defines the seams other crates plug into —
//! `Store` (persistence), `RootKeyProvider` (root of trust), `Clock` (time) — and knows nothing of HTTP or SQL.
//! Domain types are deliberately not `Serialize`: only the server knows wire shapes.
#![forbid(unsafe_code)]

mod acl;
mod acl_service;
mod audit;
mod clock;
mod consumer;
mod consumer_service;
mod container;
mod container_service;
mod error;
mod external_store;
mod hierarchy;
mod kms;
mod order;
mod order_service;
mod payload_stores;
mod payloads;
mod policy;
mod quota;
mod quota_service;
mod root_key;
mod rotation;
mod secret;
mod secret_service;
mod secret_store;
mod secret_store_service;
mod services;
mod shamir;
mod store;
mod store_migration;
mod sweeper;
mod token_service;

pub use acl::{Acl, AclChange, AclFields, AclTarget};
pub use acl_service::AclService;
pub use audit::{
    AUDIT_KEY_VERSION, AUDIT_LABEL, AuditEvent, AuditLog, AuditOutcome, AuditRecord, AuditSealer,
    AuditSink, AuditedWrite, ChainBreak, GENESIS_MAC, RequestContext, audit_mac, verify_chain,
    with_request_context,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use consumer::{ContainerConsumerPage, SecretConsumer, SecretConsumerPage};
pub use consumer_service::{ConsumerService, NOT_CONSUMER_OWNER, SECRET_HAS_CONSUMERS};
pub use container::{
    ContainerConsumer, ContainerPage, ContainerQuery, ContainerRecord, ContainerSecretRef,
    ContainerType, NewContainer,
};
pub use container_service::ContainerService;
pub use error::{CoreError, KmsError, KmsErrorKind};
pub use external_store::{ExternalStore, ExternalStoreError};
pub use hierarchy::{ACTIVE_VERSION_TTL, CacheLimits, KeyHierarchy, ObjectKind, SystemKey};
pub use kms::{
    AccessKeyRecord, AccessKeyService, CreateKeyRequest, DataKey, DataKeyPair, Decrypted,
    Encrypted, IssuedAccessKey, KeyState, KmsAlias, KmsAliasPage, KmsKey, KmsKeyPage, KmsKeyRow,
    KmsKeyVersionRow, KmsRotation, KmsRotationPage, KmsService, KmsTagPage, Mac, NewKmsKey,
    PublicKey, ReEncrypted, RotationKind, RotationSchedule, RotationStatus, Signed, Verified,
    alias_arn, key_arn,
};
pub use order::{KeySpec, NewOrder, OrderPage, OrderRecord, OrderStatus, OrderType};
pub use order_service::OrderService;
pub use payload_stores::{ConfiguredStore, PayloadBackend, PayloadStores};
pub use payloads::Payloads;
pub use policy::{Action, Principal, Role};
pub use quota::{
    ProjectQuotas, ProjectQuotasPage, ProjectQuotasRecord, QuotaCheck, QuotaDefaults,
    QuotaResource, Quotas, UNLIMITED,
};
pub use quota_service::QuotaService;
pub use root_key::{FileRootKey, RootKeyFileError, RootKeyProvider, root_key_path};
pub use rotation::{KeyMaintenance, PkekRotation, RootRotation, RootRotationReport};
pub use secret::{
    Cmp, NewSecret, Payload, SecretPage, SecretQuery, SecretRecord, SecretType, SortDir, SortKey,
    TimeField, TimeFilter,
};
pub use secret_service::SecretService;
pub use secret_store::{
    SOFTWARE_STORE_ID, STORE_CRYPTO_PLUGIN, SecretStoreRecord, secret_store_id,
};
pub use secret_store_service::SecretStoreService;
pub use services::Services;
pub use shamir::{
    MAX_SHARES, PENDING_TIMEOUT, RawShare, SEALED_MESSAGE, SealStatus, Sealable, ShamirRoot,
    ShareFormatError, ShareRefused, UnsealShare, check_threshold, combine as combine_shares,
    root_sealed_path, sealed_message, share_path, split as split_key,
};
pub use store::{
    ExpiryCounts, KekRow, PendingRewrap, PlacedPayload, Resealed, RewrappedKey, StaleSealed, Store,
    StoreError, StoreOrphan, StoredPayload, TokenRow, WrappedKeyRow,
};
pub use store_migration::{MigrationReport, StoreMigration};
pub use sweeper::ExpirySweeper;
pub use token_service::{IssuedToken, TokenService};
