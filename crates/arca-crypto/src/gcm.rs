//! AES-256-GCM with a detached-in-place tag, shared by the object seal envelope and the KMS ciphertext blob:
//! both derive a fresh key per ciphertext with HKDF and pick a random nonce, then call these two functions.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::{CryptoError, Key256};

/// Length of the GCM tag appended to every ciphertext.
pub(crate) const TAG_LEN: usize = 16;

fn less_safe_key(key: &Key256) -> Result<LessSafeKey, CryptoError> {
    let unbound =
        UnboundKey::new(&AES_256_GCM, key.expose()).map_err(|_| CryptoError::KeyLength)?;
    Ok(LessSafeKey::new(unbound))
}

/// Appends `ciphertext ‖ tag` of `plaintext` to `out`.
pub(crate) fn seal_append(
    key: &Key256,
    nonce: [u8; 12],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let key = less_safe_key(key)?;
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[start..],
        )
        .map_err(|_| CryptoError::Integrity)?;
    out.extend_from_slice(tag.as_ref());
    Ok(())
}

/// Opens `ciphertext ‖ tag`; `Integrity` on any mismatch.
pub(crate) fn open(
    key: &Key256,
    nonce: [u8; 12],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let key = less_safe_key(key)?;
    let mut body = Zeroizing::new(ciphertext_and_tag.to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| CryptoError::Integrity)?
        .len();
    body.truncate(len);
    Ok(body)
}
