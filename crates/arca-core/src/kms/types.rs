//! Requests and answers of `KmsService`: plain values the server turns into AWS wire shapes. Plaintexts are
//! `Zeroizing`; nothing here is `Serialize`.

use arca_crypto::{EncryptionAlgorithm, KmsKeySpec, KmsKeyUsage, MacAlgorithm, SigningAlgorithm};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use super::key::{KmsAlias, KmsKey, RotationKind};

/// `CreateKey`'s inputs.
#[derive(Debug, Clone, Default)]
pub struct CreateKeyRequest {
    /// At most 8192 characters.
    pub description: String,
    /// Default `SYMMETRIC_DEFAULT`.
    pub key_spec: Option<KmsKeySpec>,
    /// Default `ENCRYPT_DECRYPT` (HMAC specs need `GENERATE_VERIFY_MAC` said explicitly).
    pub key_usage: Option<KmsKeyUsage>,
    /// Initial tags (at most 50).
    pub tags: Vec<(String, String)>,
}

/// One page of keys.
#[derive(Debug, Clone)]
pub struct KmsKeyPage {
    /// The keys, in id order.
    pub keys: Vec<KmsKey>,
    /// Pass as `marker` for the next page; `None` on the last.
    pub next_marker: Option<String>,
}

/// One page of aliases.
#[derive(Debug, Clone)]
pub struct KmsAliasPage {
    /// The aliases, by name.
    pub aliases: Vec<KmsAlias>,
    /// Pass as `marker` for the next page; `None` on the last.
    pub next_marker: Option<String>,
}

/// One rotation (a version made after the initial one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsRotation {
    /// The key.
    pub key_id: Uuid,
    /// The version it made.
    pub version: u32,
    /// When.
    pub rotation_date: OffsetDateTime,
    /// Automatic or on demand.
    pub kind: RotationKind,
}

/// One page of rotations.
#[derive(Debug, Clone)]
pub struct KmsRotationPage {
    /// Oldest first.
    pub rotations: Vec<KmsRotation>,
    /// Pass as `marker` for the next page; `None` on the last.
    pub next_marker: Option<String>,
}

/// One page of tags.
#[derive(Debug, Clone)]
pub struct KmsTagPage {
    /// (tag key, value), by tag key.
    pub tags: Vec<(String, String)>,
    /// Pass as `marker` for the next page; `None` on the last.
    pub next_marker: Option<String>,
}

/// `GetKeyRotationStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationStatus {
    /// The key.
    pub key_id: Uuid,
    /// Whether automatic rotation is on.
    pub enabled: bool,
    /// Days between rotations, when on.
    pub period_days: Option<u32>,
    /// When the next automatic rotation is due, when on.
    pub next_rotation: Option<OffsetDateTime>,
    /// When an on-demand rotation in progress started (rotations complete at once here: always `None`).
    pub on_demand_started: Option<OffsetDateTime>,
}

/// `Encrypt`.
#[derive(Debug, Clone)]
pub struct Encrypted {
    /// The key used.
    pub key_id: Uuid,
    /// The ciphertext blob.
    pub ciphertext: Vec<u8>,
    /// The algorithm used.
    pub algorithm: EncryptionAlgorithm,
}

/// `Decrypt`.
pub struct Decrypted {
    /// The key that decrypted.
    pub key_id: Uuid,
    /// The plaintext.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The algorithm used.
    pub algorithm: EncryptionAlgorithm,
}

/// `ReEncrypt`.
#[derive(Debug, Clone)]
pub struct ReEncrypted {
    /// The key that decrypted.
    pub source_key_id: Uuid,
    /// The key that encrypted.
    pub key_id: Uuid,
    /// The new ciphertext.
    pub ciphertext: Vec<u8>,
    /// The algorithm the source was decrypted with.
    pub source_algorithm: EncryptionAlgorithm,
    /// The algorithm of the new ciphertext.
    pub algorithm: EncryptionAlgorithm,
}

/// `GenerateDataKey` (and, dropping `plaintext`, `GenerateDataKeyWithoutPlaintext`).
pub struct DataKey {
    /// The key that encrypted it.
    pub key_id: Uuid,
    /// The data key.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The data key under the KMS key.
    pub ciphertext: Vec<u8>,
}

/// `GenerateDataKeyPair` (and `…WithoutPlaintext`).
pub struct DataKeyPair {
    /// The key that encrypted the private key.
    pub key_id: Uuid,
    /// The private key, PKCS#8 DER.
    pub private_plaintext: Zeroizing<Vec<u8>>,
    /// The private key under the KMS key.
    pub private_ciphertext: Vec<u8>,
    /// The public key, SubjectPublicKeyInfo DER.
    pub public_der: Vec<u8>,
    /// The pair's spec.
    pub spec: KmsKeySpec,
}

/// `Sign`.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The key that signed.
    pub key_id: Uuid,
    /// The signature (DER for ECDSA, as AWS).
    pub signature: Vec<u8>,
    /// The algorithm.
    pub algorithm: SigningAlgorithm,
}

/// `Verify` (only a valid signature gets here).
#[derive(Debug, Clone)]
pub struct Verified {
    /// The key that verified.
    pub key_id: Uuid,
    /// The algorithm.
    pub algorithm: SigningAlgorithm,
}

/// `GetPublicKey`.
#[derive(Debug, Clone)]
pub struct PublicKey {
    /// The key (spec, usage and algorithms for the answer).
    pub key: KmsKey,
    /// SubjectPublicKeyInfo DER.
    pub der: Vec<u8>,
}

/// `GenerateMac`.
#[derive(Debug, Clone)]
pub struct Mac {
    /// The key.
    pub key_id: Uuid,
    /// The MAC.
    pub mac: Vec<u8>,
    /// The algorithm.
    pub algorithm: MacAlgorithm,
}
