//! All randomness of Arca (keys, salts, nonces, tokens) comes from aws-lc-rs `SystemRandom`.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::CryptoError;

/// Fills `buf` from the system generator.
pub fn fill_random(buf: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| CryptoError::Random)
}

/// A random array of `N` bytes.
pub fn random_array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    fill_random(&mut out)?;
    Ok(out)
}

/// A fresh HKDF salt and GCM nonce for one ciphertext, drawn in one call: each call to the generator costs
/// about as much as the bytes of both.
pub(crate) fn salt_and_nonce() -> Result<([u8; 32], [u8; 12]), CryptoError> {
    let both = random_array::<44>()?;
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 12];
    salt.copy_from_slice(&both[..32]);
    nonce.copy_from_slice(&both[32..]);
    Ok((salt, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_and_nonces_are_fresh_each_time() {
        let (salt_a, nonce_a) = salt_and_nonce().unwrap();
        let (salt_b, nonce_b) = salt_and_nonce().unwrap();
        assert_ne!(salt_a, salt_b);
        assert_ne!(nonce_a, nonce_b);
        assert_ne!(
            salt_a[..12],
            nonce_a[..],
            "salt and nonce are different bytes"
        );
    }
}
