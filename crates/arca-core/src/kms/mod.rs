//! The AWS-KMS-compatible domain: keys with versioned material, aliases, tags and rotation (`KmsService`), and
//! the access keys SigV4 authenticates with (`AccessKeyService`). Persistence goes through the `Store` seam;
//! material is sealed by the `KeyHierarchy`.

mod access_key;
mod access_key_service;
mod aliases;
mod cache;
mod crypto_ops;
mod key;
mod key_ref;
mod keys;
mod rotation;
mod service;
mod tags;
mod types;
mod validate;

pub use access_key::AccessKeyRecord;
pub use access_key_service::{AccessKeyService, IssuedAccessKey};
pub use key::{
    KeyState, KmsAlias, KmsKey, KmsKeyRow, KmsKeyVersionRow, NewKmsKey, RotationKind,
    RotationSchedule, alias_arn, key_arn,
};
pub use service::KmsService;
pub use types::{
    CreateKeyRequest, DataKey, DataKeyPair, Decrypted, Encrypted, KmsAliasPage, KmsKeyPage,
    KmsRotation, KmsRotationPage, KmsTagPage, Mac, PublicKey, ReEncrypted, RotationStatus, Signed,
    Verified,
};
