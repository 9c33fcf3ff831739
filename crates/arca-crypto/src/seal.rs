//! The object seal envelope of CRYPTO.md: `0x01 ‖ u32 pkek_version ‖ salt[32] ‖ nonce[12] ‖ ciphertext ‖ tag[16]`.
//! Each ciphertext gets its own AES-256-GCM key, `HKDF-SHA256(PKEK, salt, "arca/v1/seal" ‖ kind)`, a random
//! nonce, and associated data `header ‖ binding` where the caller's binding names project, kind, object and
//! revision.

use zeroize::Zeroizing;

use crate::gcm::{self, TAG_LEN};
use crate::random::salt_and_nonce;
use crate::{Binding, CryptoError, Key256, hkdf_sha256};

/// The only seal format this version writes and reads.
pub const SEAL_FORMAT_V1: u8 = 0x01;
const SEAL_LABEL: &[u8] = b"arca/v1/seal";
const HEADER_LEN: usize = 1 + 4 + 32 + 12;

fn object_key(pkek: &Key256, salt: &[u8], kind: u8) -> Result<Key256, CryptoError> {
    hkdf_sha256(pkek.expose(), salt, &[SEAL_LABEL, &[kind]])
}

fn aad(header: &[u8], binding: &Binding) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + binding.as_bytes().len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(binding.as_bytes());
    aad
}

/// Seals `plaintext` under a key derived from `pkek` (version `pkek_version`) for an object of `kind`,
/// bound to `binding`.
pub fn seal(
    pkek: &Key256,
    pkek_version: u32,
    kind: u8,
    binding: &Binding,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (salt, nonce) = salt_and_nonce()?;
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.push(SEAL_FORMAT_V1);
    out.extend_from_slice(&pkek_version.to_be_bytes());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let aad = aad(&out, binding);
    let key = object_key(pkek, &salt, kind)?;
    gcm::seal_append(&key, nonce, &aad, plaintext, &mut out)?;
    Ok(out)
}

/// The PKEK version a sealed object names, so the caller can fetch that KEK. Rejects unknown formats.
pub fn sealed_key_version(sealed: &[u8]) -> Result<u32, CryptoError> {
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(CryptoError::Format("too short"));
    }
    if sealed[0] != SEAL_FORMAT_V1 {
        return Err(CryptoError::Format("unknown format version"));
    }
    Ok(u32::from_be_bytes([
        sealed[1], sealed[2], sealed[3], sealed[4],
    ]))
}

/// Opens a sealed object; fails with `Integrity` unless key, kind and binding are exactly those it was
/// sealed with and no byte changed.
pub fn open(
    pkek: &Key256,
    kind: u8,
    binding: &Binding,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    sealed_key_version(sealed)?;
    let (header, rest) = sealed.split_at(HEADER_LEN);
    let salt = &header[5..37];
    let nonce: [u8; 12] = header[37..49]
        .try_into()
        .map_err(|_| CryptoError::Format("nonce"))?;
    let aad = aad(header, binding);
    let key = object_key(pkek, salt, kind)?;
    gcm::open(&key, nonce, &aad, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(object: &str) -> Binding {
        Binding::new()
            .lp(b"project")
            .u8(1)
            .lp(object.as_bytes())
            .u32(1)
    }

    #[test]
    fn round_trip_and_layout() {
        let pkek = Key256::generate().unwrap();
        let sealed = seal(&pkek, 7, 1, &binding("a"), b"hello").unwrap();
        assert_eq!(sealed.len(), HEADER_LEN + 5 + TAG_LEN);
        assert_eq!(sealed_key_version(&sealed).unwrap(), 7);
        assert_eq!(
            &open(&pkek, 1, &binding("a"), &sealed).unwrap()[..],
            b"hello"
        );
    }

    #[test]
    fn two_seals_of_the_same_plaintext_differ() {
        let pkek = Key256::generate().unwrap();
        let a = seal(&pkek, 1, 1, &binding("a"), b"same").unwrap();
        let b = seal(&pkek, 1, 1, &binding("a"), b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn wrong_binding_kind_key_or_byte_fails() {
        let pkek = Key256::generate().unwrap();
        let sealed = seal(&pkek, 1, 1, &binding("a"), b"hello").unwrap();
        assert_eq!(
            open(&pkek, 1, &binding("b"), &sealed).unwrap_err(),
            CryptoError::Integrity
        );
        assert_eq!(
            open(&pkek, 2, &binding("a"), &sealed).unwrap_err(),
            CryptoError::Integrity
        );
        let other = Key256::generate().unwrap();
        assert_eq!(
            open(&other, 1, &binding("a"), &sealed).unwrap_err(),
            CryptoError::Integrity
        );
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(open(&pkek, 1, &binding("a"), &bad).is_err(), "flip at {i}");
        }
    }

    #[test]
    fn unknown_format_and_short_input_are_rejected() {
        let pkek = Key256::generate().unwrap();
        let mut sealed = seal(&pkek, 1, 1, &binding("a"), b"x").unwrap();
        sealed[0] = 2;
        assert!(matches!(
            open(&pkek, 1, &binding("a"), &sealed),
            Err(CryptoError::Format(_))
        ));
        assert!(matches!(
            sealed_key_version(&[1, 0, 0]),
            Err(CryptoError::Format(_))
        ));
    }
}
