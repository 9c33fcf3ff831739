//! The AWS-KMS-compatible domain: keys with versioned material, aliases, tags and rotation (`KmsService`), and
//! the access keys SigV4 authenticates with (`AccessKeyService`). Persistence goes through the `Store` seam;
//! material is sealed by the `KeyHierarchy`.

mod access_key;
mod key;

pub use access_key::AccessKeyRecord;
pub use key::{
    KeyState, KmsAlias, KmsKeyRow, KmsKeyVersionRow, NewKmsKey, RotationKind, RotationSchedule,
};
