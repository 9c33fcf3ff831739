//! Sign and Verify with RSA (PSS with salt length = digest length, PKCS#1 v1.5), ECDSA (ASN.1 DER signatures,
//! as AWS returns them), Ed25519 (PureEdDSA, RAW only) and Ed25519ph (HashEdDSA, DIGEST only: `ed25519ph.rs`).
//! With MessageType DIGEST the message is the
//! digest and must have the algorithm's hash length. A signature that does not verify — including malformed
//! bytes — is `Ok(false)`, never an error.

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, KeyPair as _, RsaEncoding, UnparsedPublicKey, VerificationAlgorithm,
};

use super::ed25519ph;
use super::material::{KeyMaterial, Parsed};
use super::{MessageType, SigningAlgorithm};
use crate::CryptoError;

/// What a message becomes before signing: the bytes to hash, or an imported digest.
enum Input<'a> {
    Raw(&'a [u8]),
    Digest(Digest),
}

fn rsa_encoding(alg: SigningAlgorithm) -> Option<&'static dyn RsaEncoding> {
    Some(match alg {
        SigningAlgorithm::RsassaPssSha256 => &signature::RSA_PSS_SHA256,
        SigningAlgorithm::RsassaPssSha384 => &signature::RSA_PSS_SHA384,
        SigningAlgorithm::RsassaPssSha512 => &signature::RSA_PSS_SHA512,
        SigningAlgorithm::RsassaPkcs1V15Sha256 => &signature::RSA_PKCS1_SHA256,
        SigningAlgorithm::RsassaPkcs1V15Sha384 => &signature::RSA_PKCS1_SHA384,
        SigningAlgorithm::RsassaPkcs1V15Sha512 => &signature::RSA_PKCS1_SHA512,
        _ => return None,
    })
}

fn verification(
    material: &KeyMaterial,
    alg: SigningAlgorithm,
) -> Option<&'static dyn VerificationAlgorithm> {
    use super::KmsKeySpec::*;
    use SigningAlgorithm::*;
    Some(match (material.spec(), alg) {
        (Rsa2048 | Rsa3072 | Rsa4096, RsassaPssSha256) => &signature::RSA_PSS_2048_8192_SHA256,
        (Rsa2048 | Rsa3072 | Rsa4096, RsassaPssSha384) => &signature::RSA_PSS_2048_8192_SHA384,
        (Rsa2048 | Rsa3072 | Rsa4096, RsassaPssSha512) => &signature::RSA_PSS_2048_8192_SHA512,
        (Rsa2048 | Rsa3072 | Rsa4096, RsassaPkcs1V15Sha256) => {
            &signature::RSA_PKCS1_2048_8192_SHA256
        }
        (Rsa2048 | Rsa3072 | Rsa4096, RsassaPkcs1V15Sha384) => {
            &signature::RSA_PKCS1_2048_8192_SHA384
        }
        (Rsa2048 | Rsa3072 | Rsa4096, RsassaPkcs1V15Sha512) => {
            &signature::RSA_PKCS1_2048_8192_SHA512
        }
        (EccNistP256, EcdsaSha256) => &signature::ECDSA_P256_SHA256_ASN1,
        (EccSecgP256k1, EcdsaSha256) => &signature::ECDSA_P256K1_SHA256_ASN1,
        (EccNistP384, EcdsaSha384) => &signature::ECDSA_P384_SHA384_ASN1,
        (EccNistP521, EcdsaSha512) => &signature::ECDSA_P521_SHA512_ASN1,
        (EccNistEdwards25519, Ed25519Sha512) => &signature::ED25519,
        _ => return None,
    })
}

/// Checks that `alg` belongs to this key and turns the message into signing input.
fn prepare<'a>(
    material: &KeyMaterial,
    alg: SigningAlgorithm,
    mt: MessageType,
    msg: &'a [u8],
) -> Result<Input<'a>, CryptoError> {
    if !material.spec().signing_algorithms().contains(&alg) {
        return Err(CryptoError::InvalidInput(format!(
            "signing algorithm {alg} is not valid for a {} key",
            material.spec()
        )));
    }
    match mt {
        MessageType::Digest if alg == SigningAlgorithm::Ed25519Sha512 => Err(
            CryptoError::InvalidInput(format!("signing algorithm {alg} requires MessageType RAW")),
        ),
        MessageType::Raw if alg == SigningAlgorithm::Ed25519PhSha512 => {
            Err(CryptoError::InvalidInput(format!(
                "signing algorithm {alg} requires MessageType DIGEST (the message's SHA-512 digest)"
            )))
        }
        MessageType::Raw => Ok(Input::Raw(msg)),
        MessageType::Digest => {
            let hash = alg.digest_algorithm();
            Digest::import_less_safe(msg, hash)
                .map(Input::Digest)
                .map_err(|_| {
                    CryptoError::InvalidInput(format!(
                        "a DIGEST message for {alg} must be {} bytes, got {}",
                        hash.output_len(),
                        msg.len()
                    ))
                })
        }
    }
}

impl KeyMaterial {
    /// Signs `msg` (or, with `MessageType::Digest`, the digest `msg`) with `alg`. `InvalidInput` if the key
    /// cannot sign with `alg` or a digest has the wrong length.
    pub fn sign(
        &self,
        alg: SigningAlgorithm,
        mt: MessageType,
        msg: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let input = prepare(self, alg, mt, msg)?;
        let failed = |_| CryptoError::Signing;
        match (&self.parsed, input) {
            (Parsed::Rsa { signing, .. }, input) => {
                let encoding = rsa_encoding(alg).ok_or(CryptoError::Signing)?;
                let mut sig = vec![0u8; signing.public_modulus_len()];
                match input {
                    Input::Raw(m) => signing
                        .sign(encoding, &SystemRandom::new(), m, &mut sig)
                        .map_err(failed)?,
                    Input::Digest(d) => signing
                        .sign_digest(encoding, &d, &mut sig)
                        .map_err(failed)?,
                }
                Ok(sig)
            }
            (Parsed::Ec(pair), Input::Raw(m)) => Ok(pair
                .sign(&SystemRandom::new(), m)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            (Parsed::Ec(pair), Input::Digest(d)) => {
                Ok(pair.sign_digest(&d).map_err(failed)?.as_ref().to_vec())
            }
            (Parsed::Ed25519(pair), Input::Raw(m)) => {
                Ok(pair.try_sign(m).map_err(failed)?.as_ref().to_vec())
            }
            (Parsed::Ed25519(pair), Input::Digest(d)) => {
                ed25519ph::sign_digest(pair, &sha512_digest(&d)?)
            }
            _ => Err(CryptoError::Signing),
        }
    }

    /// Verifies `sig` over `msg` (or the digest `msg`). `Ok(false)` for any signature that does not verify,
    /// malformed ones included; `InvalidInput` only for a wrong algorithm or digest length.
    pub fn verify(
        &self,
        alg: SigningAlgorithm,
        mt: MessageType,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<bool, CryptoError> {
        let input = prepare(self, alg, mt, msg)?;
        if let (Parsed::Ed25519(pair), Input::Digest(d)) = (&self.parsed, &input) {
            let public = pair.public_key().as_ref();
            return Ok(ed25519ph::verify_digest(public, &sha512_digest(d)?, sig));
        }
        let verification = verification(self, alg).ok_or(CryptoError::Signing)?;
        let public: &[u8] = match &self.parsed {
            Parsed::Rsa { signing, .. } => signing.public_key().as_ref(),
            Parsed::Ec(pair) => pair.public_key().as_ref(),
            Parsed::Ed25519(pair) => pair.public_key().as_ref(),
            Parsed::Secret => return Err(CryptoError::Signing),
        };
        let key = UnparsedPublicKey::new(verification, public);
        let ok = match input {
            Input::Raw(m) => key.verify(m, sig).is_ok(),
            Input::Digest(d) => key.verify_digest(&d, sig).is_ok(),
        };
        Ok(ok)
    }
}

/// An imported SHA-512 digest as the fixed-size array Ed25519ph signs.
fn sha512_digest(d: &Digest) -> Result<[u8; ed25519ph::DIGEST_LEN], CryptoError> {
    d.as_ref().try_into().map_err(|_| {
        CryptoError::InvalidInput(format!(
            "an Ed25519ph digest must be {} bytes",
            ed25519ph::DIGEST_LEN
        ))
    })
}

/// The digest a RAW message gets under `alg` (for callers and tests that pre-hash).
pub fn message_digest(alg: SigningAlgorithm, msg: &[u8]) -> Vec<u8> {
    digest::digest(alg.digest_algorithm(), msg)
        .as_ref()
        .to_vec()
}
