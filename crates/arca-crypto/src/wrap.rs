//! Wrapping a 256-bit key under another with AES-256-GCM and caller-supplied associated data
//! (`nonce[12] ‖ ciphertext[32] ‖ tag[16]`). CRYPTO.md allows this in place of AES-KWP plus a MAC for the
//! file root key provider; the associated data binds the wrapped key to its row.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::{Binding, CryptoError, Key256, random_array};

const WRAPPED_LEN: usize = 12 + 32 + 16;

fn gcm(key: &Key256) -> Result<LessSafeKey, CryptoError> {
    let unbound =
        UnboundKey::new(&AES_256_GCM, key.expose()).map_err(|_| CryptoError::KeyLength)?;
    Ok(LessSafeKey::new(unbound))
}

/// Wraps `key` under `wrapping` bound to `binding`.
pub fn wrap_key(
    wrapping: &Key256,
    binding: &Binding,
    key: &Key256,
) -> Result<Vec<u8>, CryptoError> {
    let nonce = random_array::<12>()?;
    let mut body = key.expose().to_vec();
    let tag = gcm(wrapping)?
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(binding.as_bytes()),
            &mut body,
        )
        .map_err(|_| CryptoError::Integrity)?;
    let mut out = Vec::with_capacity(WRAPPED_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&body);
    out.extend_from_slice(tag.as_ref());
    zeroize::Zeroize::zeroize(&mut body);
    Ok(out)
}

/// Unwraps a key wrapped by `wrap_key` with the same wrapping key and binding.
pub fn unwrap_key(
    wrapping: &Key256,
    binding: &Binding,
    wrapped: &[u8],
) -> Result<Key256, CryptoError> {
    if wrapped.len() != WRAPPED_LEN {
        return Err(CryptoError::Format("wrapped key length"));
    }
    let nonce: [u8; 12] = wrapped[..12]
        .try_into()
        .map_err(|_| CryptoError::Format("nonce"))?;
    let mut body = zeroize::Zeroizing::new(wrapped[12..].to_vec());
    let plain = gcm(wrapping)?
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(binding.as_bytes()),
            &mut body,
        )
        .map_err(|_| CryptoError::Integrity)?;
    Key256::from_slice(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_round_trip_and_binding() {
        let kek = Key256::generate().unwrap();
        let key = Key256::generate().unwrap();
        let b = Binding::new().lp(b"p1");
        let wrapped = wrap_key(&kek, &b, &key).unwrap();
        assert_eq!(
            unwrap_key(&kek, &b, &wrapped).unwrap().expose(),
            key.expose()
        );
        let other = Binding::new().lp(b"p2");
        assert!(matches!(
            unwrap_key(&kek, &other, &wrapped),
            Err(CryptoError::Integrity)
        ));
    }
}
