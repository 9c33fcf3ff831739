//! GenerateMac and VerifyMac: HMAC-SHA-224/256/384/512 for HMAC_224/256/384/512 keys (each spec offers only
//! its own algorithm, as AWS). Verification is constant time.

use aws_lc_rs::hmac;

use super::material::KeyMaterial;
use super::{KmsKeySpec, MacAlgorithm};
use crate::CryptoError;

fn hmac_key(material: &KeyMaterial, alg: MacAlgorithm) -> Result<hmac::Key, CryptoError> {
    let secret = material
        .secret()
        .filter(|_| material.spec().mac_algorithms().contains(&alg))
        .ok_or_else(|| {
            CryptoError::InvalidInput(format!(
                "MAC algorithm {alg} is not valid for a {} key",
                material.spec()
            ))
        })?;
    let algorithm = match material.spec() {
        KmsKeySpec::Hmac224 => hmac::HMAC_SHA224,
        KmsKeySpec::Hmac256 => hmac::HMAC_SHA256,
        KmsKeySpec::Hmac384 => hmac::HMAC_SHA384,
        _ => hmac::HMAC_SHA512,
    };
    Ok(hmac::Key::new(algorithm, secret))
}

impl KeyMaterial {
    /// The HMAC of `msg` under this key with `alg` (which must be the key's own algorithm).
    pub fn mac(&self, alg: MacAlgorithm, msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = hmac_key(self, alg)?;
        Ok(hmac::sign(&key, msg).as_ref().to_vec())
    }

    /// Checks `mac` over `msg` in constant time; `Ok(false)` for any mismatch, wrong length included.
    pub fn verify_mac(
        &self,
        alg: MacAlgorithm,
        msg: &[u8],
        mac: &[u8],
    ) -> Result<bool, CryptoError> {
        let key = hmac_key(self, alg)?;
        Ok(hmac::verify(&key, msg, mac).is_ok())
    }
}
