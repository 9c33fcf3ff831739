//! GenerateMac and VerifyMac: HMAC-SHA-224/256/384/512 for HMAC_224/256/384/512 keys (each spec offers only
//! its own algorithm, as AWS). Verification is constant time.

use aws_lc_rs::hmac;

use super::MacAlgorithm;
use super::material::KeyMaterial;
use crate::CryptoError;

fn algorithm(alg: MacAlgorithm) -> hmac::Algorithm {
    match alg {
        MacAlgorithm::HmacSha224 => hmac::HMAC_SHA224,
        MacAlgorithm::HmacSha256 => hmac::HMAC_SHA256,
        MacAlgorithm::HmacSha384 => hmac::HMAC_SHA384,
        MacAlgorithm::HmacSha512 => hmac::HMAC_SHA512,
    }
}

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
    Ok(hmac::Key::new(algorithm(alg), secret))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 4231 keys have lengths KMS keys never have, so the known answers go through the same
    /// algorithm mapping without a `KeyMaterial`.
    #[test]
    fn rfc4231_known_answers() {
        let data = include_str!("../../tests/data/rfc4231.txt");
        let algs = [
            MacAlgorithm::HmacSha224,
            MacAlgorithm::HmacSha256,
            MacAlgorithm::HmacSha384,
            MacAlgorithm::HmacSha512,
        ];
        let mut cases = 0;
        for line in data
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 7, "{line}");
            let (key, msg) = (unhex(fields[1]), unhex(fields[2]));
            for (alg, expected) in algs.iter().zip(&fields[3..]) {
                let key = hmac::Key::new(algorithm(*alg), &key);
                assert_eq!(
                    hmac::sign(&key, &msg).as_ref(),
                    unhex(expected),
                    "case {}",
                    fields[0]
                );
            }
            cases += 1;
        }
        assert_eq!(cases, 6);
    }
}
