//! The KMS ciphertext blob of CRYPTO.md, what Encrypt, GenerateDataKey and ReEncrypt return for symmetric keys:
//! `0x01 ‖ key UUID[16] ‖ u32 key_version ‖ salt[32] ‖ nonce[12] ‖ ciphertext ‖ tag[16]`. Each blob gets its
//! own AES-256-GCM key `HKDF-SHA256(ikm = version material, salt, info = "arca/v1/kms-encrypt")` and a random
//! nonce; the associated data is `header ‖ encoded encryption context`, so the key UUID, the version and the
//! context are all authenticated. Unknown format bytes and truncated blobs are rejected.

use zeroize::Zeroizing;

use super::{EncryptionContext, KeyMaterial, KmsKeySpec};
use crate::gcm::{self, TAG_LEN};
use crate::random::salt_and_nonce;
use crate::{CryptoError, Key256, hkdf_sha256};

/// The only blob format this version writes and reads.
pub const KMS_BLOB_FORMAT_V1: u8 = 0x01;
const LABEL: &[u8] = b"arca/v1/kms-encrypt";
const HEADER_LEN: usize = 1 + 16 + 4 + 32 + 12;
/// The length of a blob around an empty plaintext; every blob is at least this long.
pub const KMS_BLOB_OVERHEAD: usize = HEADER_LEN + TAG_LEN;

fn blob_key(material: &KeyMaterial, salt: &[u8]) -> Result<Key256, CryptoError> {
    if material.spec() != KmsKeySpec::SymmetricDefault {
        return Err(CryptoError::InvalidInput(format!(
            "encryption algorithm SYMMETRIC_DEFAULT is not valid for a {} key",
            material.spec()
        )));
    }
    let ikm = material.secret().ok_or(CryptoError::KeyLength)?;
    hkdf_sha256(ikm, salt, &[LABEL])
}

fn aad(header: &[u8], context: &EncryptionContext) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(&context.encode());
    aad
}

/// Encrypts `plaintext` under a SYMMETRIC_DEFAULT key version, bound to the key's UUID, the version and
/// `context`.
pub fn kms_seal(
    material: &KeyMaterial,
    key_id: [u8; 16],
    key_version: u32,
    context: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (salt, nonce) = salt_and_nonce()?;
    let key = blob_key(material, &salt)?;
    let mut out = Vec::with_capacity(KMS_BLOB_OVERHEAD + plaintext.len());
    out.push(KMS_BLOB_FORMAT_V1);
    out.extend_from_slice(&key_id);
    out.extend_from_slice(&key_version.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let aad = aad(&out, context);
    gcm::seal_append(&key, nonce, &aad, plaintext, &mut out)?;
    Ok(out)
}

/// The key UUID and key version a blob names (unauthenticated until [`kms_open`] succeeds). `Format` for an
/// unknown format byte or a blob too short to hold header and tag.
pub fn kms_blob_header(blob: &[u8]) -> Result<([u8; 16], u32), CryptoError> {
    if blob.len() < KMS_BLOB_OVERHEAD {
        return Err(CryptoError::Format("too short"));
    }
    if blob[0] != KMS_BLOB_FORMAT_V1 {
        return Err(CryptoError::Format("unknown format version"));
    }
    let mut key_id = [0u8; 16];
    key_id.copy_from_slice(&blob[1..17]);
    let version = u32::from_be_bytes([blob[17], blob[18], blob[19], blob[20]]);
    Ok((key_id, version))
}

/// Decrypts a blob with the material of the version its header names; `Integrity` unless material, key
/// UUID, version, context and every byte are exactly those it was sealed with.
pub fn kms_open(
    material: &KeyMaterial,
    context: &EncryptionContext,
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    kms_blob_header(blob)?;
    let (header, rest) = blob.split_at(HEADER_LEN);
    let salt = &header[21..53];
    let mut nonce = [0u8; 12];
    nonce.copy_from_slice(&header[53..65]);
    let key = blob_key(material, salt)?;
    gcm::open(&key, nonce, &aad(header, context), rest)
}
