//! `KeyMaterial`: the private material of one KMS key version, with its parsed aws-lc-rs key so a cached
//! value signs or decrypts without re-parsing. Symmetric keys are 32 random bytes, HMAC keys random bytes of
//! the spec's length, RSA/ECC/Ed25519 keys PKCS#8 v1 DER. Generation and parsing of RSA keys are slow
//! (RSA-4096 generation can take seconds): call them from a blocking thread, never on an async runtime.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{
    KeySize, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair as _,
};
use zeroize::Zeroizing;

use super::KmsKeySpec;
use crate::{CryptoError, fill_random};

/// The parsed form of the material.
pub(super) enum Parsed {
    /// SYMMETRIC_DEFAULT or HMAC: the bytes are the key.
    Secret,
    /// RSA, parsed once for signing and once for OAEP.
    Rsa {
        signing: signature::RsaKeyPair,
        decrypting: OaepPrivateDecryptingKey,
        encrypting: OaepPublicEncryptingKey,
    },
    /// ECDSA on one curve.
    Ec(EcdsaKeyPair),
    /// Ed25519.
    Ed25519(Ed25519KeyPair),
}

/// Private key material of one key version. No `Debug`, `Clone` or `Serialize`; the bytes are zeroized on
/// drop (the parsed aws-lc keys free their own memory).
pub struct KeyMaterial {
    spec: KmsKeySpec,
    bytes: Zeroizing<Vec<u8>>,
    pub(super) parsed: Parsed,
}

fn invalid(spec: KmsKeySpec) -> CryptoError {
    CryptoError::InvalidKeyMaterial(spec.as_str())
}

fn ecdsa_alg(spec: KmsKeySpec) -> Option<&'static EcdsaSigningAlgorithm> {
    match spec {
        KmsKeySpec::EccNistP256 => Some(&signature::ECDSA_P256_SHA256_ASN1_SIGNING),
        KmsKeySpec::EccNistP384 => Some(&signature::ECDSA_P384_SHA384_ASN1_SIGNING),
        KmsKeySpec::EccNistP521 => Some(&signature::ECDSA_P521_SHA512_ASN1_SIGNING),
        KmsKeySpec::EccSecgP256k1 => Some(&signature::ECDSA_P256K1_SHA256_ASN1_SIGNING),
        _ => None,
    }
}

impl KeyMaterial {
    /// Fresh material for `spec` from the system generator. RSA is slow: call from `spawn_blocking`.
    pub fn generate(spec: KmsKeySpec) -> Result<KeyMaterial, CryptoError> {
        let bytes = if let Some(len) = spec.secret_len() {
            let mut bytes = Zeroizing::new(vec![0u8; len]);
            fill_random(&mut bytes)?;
            bytes
        } else if let Some(bits) = spec.rsa_bits() {
            let size = match bits {
                2048 => KeySize::Rsa2048,
                3072 => KeySize::Rsa3072,
                _ => KeySize::Rsa4096,
            };
            let pair =
                signature::RsaKeyPair::generate(size).map_err(|_| CryptoError::KeyGeneration)?;
            let der: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| CryptoError::KeyGeneration)?;
            Zeroizing::new(der.as_ref().to_vec())
        } else if let Some(alg) = ecdsa_alg(spec) {
            let pair = EcdsaKeyPair::generate(alg).map_err(|_| CryptoError::KeyGeneration)?;
            let doc = pair.to_pkcs8v1().map_err(|_| CryptoError::KeyGeneration)?;
            Zeroizing::new(doc.as_ref().to_vec())
        } else {
            let pair = Ed25519KeyPair::generate().map_err(|_| CryptoError::KeyGeneration)?;
            let doc = pair.to_pkcs8v1().map_err(|_| CryptoError::KeyGeneration)?;
            Zeroizing::new(doc.as_ref().to_vec())
        };
        Self::from_bytes(spec, bytes)
    }

    /// Material read back (after unsealing): checks that it fits `spec` (length, key type, curve, RSA size)
    /// and parses it. Parsing an RSA key checks it and is slow-ish: cache the result.
    pub fn from_bytes(
        spec: KmsKeySpec,
        bytes: Zeroizing<Vec<u8>>,
    ) -> Result<KeyMaterial, CryptoError> {
        let parsed = if let Some(len) = spec.secret_len() {
            if bytes.len() != len {
                return Err(invalid(spec));
            }
            Parsed::Secret
        } else if let Some(bits) = spec.rsa_bits() {
            let signing = signature::RsaKeyPair::from_pkcs8(&bytes).map_err(|_| invalid(spec))?;
            let decrypting = PrivateDecryptingKey::from_pkcs8(&bytes).map_err(|_| invalid(spec))?;
            if decrypting.key_size_bits() != bits || signing.public_modulus_len() * 8 != bits {
                return Err(invalid(spec));
            }
            let encrypting =
                OaepPublicEncryptingKey::new(decrypting.public_key()).map_err(|_| invalid(spec))?;
            let decrypting =
                OaepPrivateDecryptingKey::new(decrypting).map_err(|_| invalid(spec))?;
            Parsed::Rsa {
                signing,
                decrypting,
                encrypting,
            }
        } else if let Some(alg) = ecdsa_alg(spec) {
            Parsed::Ec(EcdsaKeyPair::from_pkcs8(alg, &bytes).map_err(|_| invalid(spec))?)
        } else {
            Parsed::Ed25519(Ed25519KeyPair::from_pkcs8(&bytes).map_err(|_| invalid(spec))?)
        };
        Ok(KeyMaterial {
            spec,
            bytes,
            parsed,
        })
    }

    /// The key spec this material belongs to.
    pub fn spec(&self) -> KmsKeySpec {
        self.spec
    }

    /// The raw material (secret bytes or PKCS#8 DER): for sealing, and for the private key
    /// GenerateDataKeyPair returns.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The public key as DER SubjectPublicKeyInfo (what GetPublicKey returns). `InvalidInput` for symmetric
    /// and HMAC keys.
    pub fn public_key_der(&self) -> Result<Vec<u8>, CryptoError> {
        let der: PublicKeyX509Der<'static> = match &self.parsed {
            Parsed::Secret => {
                return Err(CryptoError::InvalidInput(format!(
                    "a {} key has no public key",
                    self.spec
                )));
            }
            Parsed::Rsa { signing, .. } => signing.public_key().as_der(),
            Parsed::Ec(pair) => pair.public_key().as_der(),
            Parsed::Ed25519(pair) => pair.public_key().as_der(),
        }
        .map_err(|_| invalid(self.spec))?;
        Ok(der.as_ref().to_vec())
    }

    /// The secret bytes of a symmetric or HMAC key.
    pub(super) fn secret(&self) -> Option<&[u8]> {
        match self.parsed {
            Parsed::Secret => Some(&self.bytes),
            _ => None,
        }
    }
}
