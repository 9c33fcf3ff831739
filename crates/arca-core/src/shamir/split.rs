//! Splitting the 256-bit unseal key into N shares of which any M rebuild it, and rebuilding it: byte-wise
//! Shamir over GF(2^8) with vsss-rs (constant-time field arithmetic). The polynomial coefficients come from a
//! generator seeded with 32 bytes of system randomness (HMAC-SHA-256 in counter mode), so no draw can fail
//! half-way through a split.

use arca_crypto::{CryptoError, Key256, hmac_sha256, random_array};
use rand_core::{TryCryptoRng, TryRng};
use vsss_rs::Gf256;
use zeroize::Zeroizing;

use super::share::SHARE_LEN;

/// The most shares a deployment may have.
pub const MAX_SHARES: u8 = 16;

/// An index and the share's y-values.
pub type RawShare = (u8, Zeroizing<[u8; SHARE_LEN]>);

/// Checks `2 ≤ M ≤ N ≤ 16`; the message names the rule.
pub fn check_threshold(threshold: u8, shares: u8) -> Result<(), CryptoError> {
    if threshold < 2 || threshold > shares || shares > MAX_SHARES {
        return Err(CryptoError::Unsupported(format!(
            "--threshold {threshold} of --shares {shares} is not allowed: 2 ≤ threshold ≤ shares ≤ {MAX_SHARES}"
        )));
    }
    Ok(())
}

/// HMAC-SHA-256(seed, counter) blocks; the seed is zeroized on drop.
struct SeededRng {
    seed: Zeroizing<[u8; 32]>,
    counter: u64,
    block: Zeroizing<[u8; 32]>,
    used: usize,
}

impl SeededRng {
    fn new() -> Result<Self, CryptoError> {
        Ok(Self {
            seed: Zeroizing::new(random_array::<32>()?),
            counter: 0,
            block: Zeroizing::new([0; 32]),
            used: 32,
        })
    }

    fn byte(&mut self) -> u8 {
        if self.used == self.block.len() {
            self.counter += 1;
            *self.block = hmac_sha256(&self.seed[..], &[&self.counter.to_be_bytes()]);
            self.used = 0;
        }
        self.used += 1;
        self.block[self.used - 1]
    }
}

impl TryRng for SeededRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for d in dst {
            *d = self.byte();
        }
        Ok(())
    }
}

impl TryCryptoRng for SeededRng {}

/// Splits `key` into `shares` shares with indexes 1..=shares, any `threshold` of which rebuild it.
pub fn split(key: &Key256, threshold: u8, shares: u8) -> Result<Vec<RawShare>, CryptoError> {
    check_threshold(threshold, shares)?;
    let rng = SeededRng::new()?;
    let raw = Gf256::split_array(threshold.into(), shares.into(), key.expose(), rng)
        .map_err(|_| CryptoError::Format("the unseal key could not be split"))?;
    let raw = Zeroizing::new(raw);
    let mut out = Vec::with_capacity(raw.len());
    for share in raw.iter() {
        if share.len() != SHARE_LEN + 1 || share[0] == 0 {
            return Err(CryptoError::Format("the unseal key could not be split"));
        }
        let mut value = Zeroizing::new([0u8; SHARE_LEN]);
        value.copy_from_slice(&share[1..]);
        out.push((share[0], value));
    }
    Ok(out)
}

/// Rebuilds the key from shares with distinct non-zero indexes. With fewer than the threshold the result is a
/// wrong key (Shamir cannot tell): the caller checks it against the key check value.
pub fn combine(shares: &[RawShare]) -> Result<Key256, CryptoError> {
    let raw: Zeroizing<Vec<Vec<u8>>> = Zeroizing::new(
        shares
            .iter()
            .map(|(index, value)| {
                let mut v = Vec::with_capacity(SHARE_LEN + 1);
                v.push(*index);
                v.extend_from_slice(&value[..]);
                v
            })
            .collect(),
    );
    let secret = Zeroizing::new(
        Gf256::combine_array(&raw[..])
            .map_err(|_| CryptoError::Format("the shares could not be combined"))?,
    );
    Key256::from_slice(&secret)
}
