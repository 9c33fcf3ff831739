//! The KMS ciphertext blob: layout, round trips, context binding, tampering, truncation, unknown formats,
//! wrong keys and header parsing.

use std::collections::BTreeMap;

use arca_crypto::kms::KMS_BLOB_OVERHEAD;
use arca_crypto::{
    CryptoError, EncryptionContext, KeyMaterial, KmsKeySpec, kms_blob_header, kms_open, kms_seal,
};

use crate::keys::key;

const KEY_ID: [u8; 16] = [0x42; 16];

fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn round_trip_layout_and_header() {
    let k = key(KmsKeySpec::SymmetricDefault);
    let c = ctx(&[("purpose", "test"), ("tenant", "a")]);
    for pt in [&b""[..], b"x", &[9u8; 4096]] {
        let blob = kms_seal(k, KEY_ID, 7, &c, pt).unwrap();
        assert_eq!(blob.len(), KMS_BLOB_OVERHEAD + pt.len());
        assert_eq!(blob[0], 0x01);
        assert_eq!(&blob[1..17], &KEY_ID);
        assert_eq!(&blob[17..21], &7u32.to_be_bytes());
        assert_eq!(kms_blob_header(&blob).unwrap(), (KEY_ID, 7));
        assert_eq!(&kms_open(k, &c, &blob).unwrap()[..], pt);
    }
    let a = kms_seal(k, KEY_ID, 1, &c, b"same").unwrap();
    let b = kms_seal(k, KEY_ID, 1, &c, b"same").unwrap();
    assert_ne!(a, b, "fresh salt and nonce per blob");
}

#[test]
fn context_must_match_exactly() {
    let k = key(KmsKeySpec::SymmetricDefault);
    let blob = kms_seal(k, KEY_ID, 1, &ctx(&[("ab", "c")]), b"pt").unwrap();
    for wrong in [
        ctx(&[("a", "bc")]),
        ctx(&[]),
        ctx(&[("ab", "c"), ("x", "y")]),
        ctx(&[("ab", "C")]),
    ] {
        assert_eq!(
            kms_open(k, &wrong, &blob).err(),
            Some(CryptoError::Integrity)
        );
    }
    // Empty and absent are the same context.
    let blob = kms_seal(k, KEY_ID, 1, &EncryptionContext::empty(), b"pt").unwrap();
    assert!(kms_open(k, &EncryptionContext::new(BTreeMap::new()), &blob).is_ok());
}

#[test]
fn every_flipped_byte_and_every_truncation_is_rejected() {
    let k = key(KmsKeySpec::SymmetricDefault);
    let c = ctx(&[("k", "v")]);
    let blob = kms_seal(k, KEY_ID, 3, &c, b"hello kms").unwrap();
    for i in 0..blob.len() {
        let mut bad = blob.clone();
        bad[i] ^= 1;
        assert!(kms_open(k, &c, &bad).is_err(), "flip at {i}");
    }
    for len in 0..blob.len() {
        assert!(kms_open(k, &c, &blob[..len]).is_err(), "truncated to {len}");
    }
    assert!(matches!(
        kms_blob_header(&blob[..KMS_BLOB_OVERHEAD - 1]),
        Err(CryptoError::Format(_))
    ));
    let mut extended = blob.clone();
    extended.push(0);
    assert!(kms_open(k, &c, &extended).is_err());
}

#[test]
fn unknown_format_is_a_format_error() {
    let k = key(KmsKeySpec::SymmetricDefault);
    let mut blob = kms_seal(k, KEY_ID, 1, &EncryptionContext::empty(), b"x").unwrap();
    blob[0] = 0x02;
    assert!(matches!(
        kms_blob_header(&blob),
        Err(CryptoError::Format(_))
    ));
    assert!(matches!(
        kms_open(k, &EncryptionContext::empty(), &blob),
        Err(CryptoError::Format(_))
    ));
}

#[test]
fn another_key_or_a_non_symmetric_key_cannot_open() {
    let k = key(KmsKeySpec::SymmetricDefault);
    let blob = kms_seal(k, KEY_ID, 1, &EncryptionContext::empty(), b"x").unwrap();
    let other = KeyMaterial::generate(KmsKeySpec::SymmetricDefault).unwrap();
    assert_eq!(
        kms_open(&other, &EncryptionContext::empty(), &blob).err(),
        Some(CryptoError::Integrity)
    );
    // An HMAC_256 key has 32 bytes too, but is never a blob key.
    let hmac = key(KmsKeySpec::Hmac256);
    assert!(matches!(
        kms_seal(hmac, KEY_ID, 1, &EncryptionContext::empty(), b"x"),
        Err(CryptoError::InvalidInput(_))
    ));
    assert!(kms_open(hmac, &EncryptionContext::empty(), &blob).is_err());
    let rsa = key(KmsKeySpec::Rsa2048);
    assert!(kms_seal(rsa, KEY_ID, 1, &EncryptionContext::empty(), b"x").is_err());
}
