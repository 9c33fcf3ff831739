//! HashEdDSA Ed25519ph (RFC 8032 §5.1, empty context) over a SHA-512 digest, for `ED25519_PH_SHA_512`. aws-lc-rs
//! offers only PureEdDSA, so these two functions call aws-lc's `ED25519ph_sign_digest` / `ED25519ph_verify_digest`
//! (the same library aws-lc-rs links) — the only unsafe code in this crate. Every pointer passed is to a buffer of
//! exactly the length the C function reads or writes (checked by the types or before the call).
#![allow(unsafe_code)]

use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use zeroize::Zeroizing;

use crate::CryptoError;

/// Length of an Ed25519 signature, public key and seed, and of the SHA-512 digest signed.
const SIGNATURE_LEN: usize = 64;
const PUBLIC_KEY_LEN: usize = 32;
const SEED_LEN: usize = 32;
pub(super) const DIGEST_LEN: usize = 64;

/// Signs the SHA-512 `digest` of a message with `pair`.
pub(super) fn sign_digest(
    pair: &Ed25519KeyPair,
    digest: &[u8; DIGEST_LEN],
) -> Result<Vec<u8>, CryptoError> {
    // aws-lc's private key form: the 32-byte seed, then the 32-byte public key.
    let seed = pair
        .seed()
        .and_then(|s| s.as_be_bytes())
        .map_err(|_| CryptoError::Signing)?;
    let public = pair.public_key().as_ref();
    if seed.as_ref().len() != SEED_LEN || public.len() != PUBLIC_KEY_LEN {
        return Err(CryptoError::Signing);
    }
    let mut private = Zeroizing::new([0u8; SEED_LEN + PUBLIC_KEY_LEN]);
    private[..SEED_LEN].copy_from_slice(seed.as_ref());
    private[SEED_LEN..].copy_from_slice(public);
    let mut signature = [0u8; SIGNATURE_LEN];
    let no_context: [u8; 0] = [];
    // SAFETY: `signature` is 64 writable bytes, `digest` 64 readable bytes, `private` 64 readable bytes, and the
    // context is zero bytes long; aws-lc reads and writes nothing else and keeps no pointer after returning.
    let done = unsafe {
        aws_lc_sys::ED25519ph_sign_digest(
            signature.as_mut_ptr(),
            digest.as_ptr(),
            private.as_ptr(),
            no_context.as_ptr(),
            0,
        )
    };
    if done == 1 {
        Ok(signature.to_vec())
    } else {
        Err(CryptoError::Signing)
    }
}

/// Whether `signature` is an Ed25519ph signature of the SHA-512 `digest` under `public_key`; `false` for any
/// malformed input.
pub(super) fn verify_digest(
    public_key: &[u8],
    digest: &[u8; DIGEST_LEN],
    signature: &[u8],
) -> bool {
    if public_key.len() != PUBLIC_KEY_LEN || signature.len() != SIGNATURE_LEN {
        return false;
    }
    let no_context: [u8; 0] = [];
    // SAFETY: `digest` and `signature` are 64 readable bytes, `public_key` 32 (checked above), the context zero
    // bytes; aws-lc only reads them and keeps no pointer after returning.
    let valid = unsafe {
        aws_lc_sys::ED25519ph_verify_digest(
            digest.as_ptr(),
            signature.as_ptr(),
            public_key.as_ptr(),
            no_context.as_ptr(),
            0,
        )
    };
    valid == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::digest::{SHA512, digest};

    fn field(name: &str) -> Vec<u8> {
        let text = include_str!("../../tests/data/rfc8032-ed25519ph.txt");
        let value = text
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .unwrap();
        (0..value.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&value[i..i + 2], 16).unwrap())
            .collect()
    }

    fn sha512(message: &[u8]) -> [u8; DIGEST_LEN] {
        digest(&SHA512, message).as_ref().try_into().unwrap()
    }

    #[test]
    fn rfc8032_test_vector() {
        let pair = Ed25519KeyPair::from_seed_unchecked(&field("SECRET KEY")).unwrap();
        assert_eq!(pair.public_key().as_ref(), &field("PUBLIC KEY")[..]);
        let digest = sha512(&field("MESSAGE"));
        let signature = sign_digest(&pair, &digest).unwrap();
        assert_eq!(signature, field("SIGNATURE"));
        assert!(verify_digest(&field("PUBLIC KEY"), &digest, &signature));
    }

    #[test]
    fn wrong_inputs_do_not_verify() {
        let pair = Ed25519KeyPair::generate().unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let digest = sha512(b"message");
        let signature = sign_digest(&pair, &digest).unwrap();
        assert!(verify_digest(&public, &digest, &signature));
        assert!(!verify_digest(&public, &sha512(b"other"), &signature));
        let mut flipped = signature.clone();
        flipped[10] ^= 1;
        assert!(!verify_digest(&public, &digest, &flipped));
        assert!(!verify_digest(&public, &digest, &signature[..63]));
        assert!(!verify_digest(&public[..31], &digest, &signature));
        let other = Ed25519KeyPair::generate().unwrap();
        assert!(!verify_digest(
            other.public_key().as_ref(),
            &digest,
            &signature
        ));
        // Ed25519ph is not PureEdDSA: the same key's pure signature of the digest bytes differs.
        assert_ne!(pair.sign(&digest).as_ref(), &signature[..]);
    }
}
