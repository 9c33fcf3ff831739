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
