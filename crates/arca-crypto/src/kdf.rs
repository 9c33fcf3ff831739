//! HKDF-SHA256 (RFC 5869) producing 256-bit keys.

use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};

use crate::{CryptoError, Key256};

struct Len32;

impl KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// Derives a 256-bit key from `ikm` with `salt` and the context `info`.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[&[u8]]) -> Result<Key256, CryptoError> {
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let okm = prk
        .expand(info, Len32)
        .map_err(|_| CryptoError::KeyLength)?;
    let mut out = [0u8; 32];
    okm.fill(&mut out).map_err(|_| CryptoError::KeyLength)?;
    Ok(Key256::from_bytes(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 5869 test case 1, first 32 bytes of OKM.
    #[test]
    fn rfc5869_case_1() {
        let ikm = [0x0bu8; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let key = hkdf_sha256(&ikm, &salt, &[&info]).unwrap();
        let expected = "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf";
        assert_eq!(hex(key.expose()), expected);
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
