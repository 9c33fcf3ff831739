//! RSA encryption for KMS keys with ENCRYPT_DECRYPT usage: RSAES-OAEP with SHA-1 or SHA-256 (MGF1 of the same
//! hash, no label), AWS's plaintext limits (`k - 2·hLen - 2`). Decryption is OAEP only (never PKCS#1 v1.5:
//! Marvin) and every failure — wrong length, wrong key, bad padding — is the same `Integrity` error.

use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepAlgorithm};
use zeroize::Zeroizing;

use super::EncryptionAlgorithm;
use super::material::{KeyMaterial, Parsed};
use crate::CryptoError;

fn oaep(
    material: &KeyMaterial,
    alg: EncryptionAlgorithm,
) -> Result<&'static OaepAlgorithm, CryptoError> {
    let oaep = match alg {
        EncryptionAlgorithm::RsaesOaepSha1 => &OAEP_SHA1_MGF1SHA1,
        EncryptionAlgorithm::RsaesOaepSha256 => &OAEP_SHA256_MGF1SHA256,
        EncryptionAlgorithm::SymmetricDefault => {
            return Err(CryptoError::InvalidInput(format!(
                "encryption algorithm {alg} is not valid for a {} key",
                material.spec()
            )));
        }
    };
    if material.spec().rsa_bits().is_none() {
        return Err(CryptoError::InvalidInput(format!(
            "encryption algorithm {alg} is not valid for a {} key",
            material.spec()
        )));
    }
    Ok(oaep)
}

impl KeyMaterial {
    /// RSA-OAEP encryption with the public half. `InvalidInput` for a non-RSA key, SYMMETRIC_DEFAULT, or a
    /// plaintext longer than AWS allows (RSA_2048: 214 bytes with SHA-1, 190 with SHA-256).
    pub fn rsa_encrypt(
        &self,
        alg: EncryptionAlgorithm,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let oaep = oaep(self, alg)?;
        let Parsed::Rsa {
            encrypting: key, ..
        } = &self.parsed
        else {
            return Err(CryptoError::Encryption);
        };
        let max = alg
            .rsa_max_plaintext(key.key_size_bytes())
            .unwrap_or_default()
            .min(key.max_plaintext_size(oaep));
        if plaintext.len() > max {
            return Err(CryptoError::InvalidInput(format!(
                "plaintext of {} bytes is longer than {alg} allows for a {} key ({max} bytes)",
                plaintext.len(),
                self.spec()
            )));
        }
        let mut out = vec![0u8; key.ciphertext_size()];
        let len = key
            .encrypt(oaep, plaintext, &mut out, None)
            .map_err(|_| CryptoError::Encryption)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// RSA-OAEP decryption. `InvalidInput` for a non-RSA key or SYMMETRIC_DEFAULT; every other failure is
    /// `Integrity`, whatever went wrong.
    pub fn rsa_decrypt(
        &self,
        alg: EncryptionAlgorithm,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let oaep = oaep(self, alg)?;
        let Parsed::Rsa {
            decrypting: key, ..
        } = &self.parsed
        else {
            return Err(CryptoError::Integrity);
        };
        if ciphertext.len() != key.key_size_bytes() {
            return Err(CryptoError::Integrity);
        }
        let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
        let len = key
            .decrypt(oaep, ciphertext, &mut out, None)
            .map_err(|_| CryptoError::Integrity)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}
