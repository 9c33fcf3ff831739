//! RSA key pairs for Barbican's asymmetric orders, as Barbican's `simple_crypto` plugin writes them: the
//! private key as PEM PKCS#8 (`PRIVATE KEY`, or with a passphrase `ENCRYPTED PRIVATE KEY`) and the public key as
//! PEM SubjectPublicKeyInfo (`PUBLIC KEY`). Encryption is PKCS#5 PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC,
//! which OpenSSL and Python's `cryptography` read. Generation is slow (RSA-4096 can take a second): call this
//! from a blocking thread, never on an async runtime.

use aws_lc_rs::cipher::{AES_256, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64ct::{Base64, Encoding};
use zeroize::Zeroizing;

use crate::{CryptoError, fill_random};

/// PBKDF2 iterations for an encrypted private key (OWASP's 2023 figure for PBKDF2-HMAC-SHA256).
pub const PKCS8_PBKDF2_ITERATIONS: u32 = 600_000;

/// RSA key sizes this build generates.
pub const RSA_KEY_BITS: [u32; 3] = [2048, 3072, 4096];

/// A generated key pair in PEM.
pub struct RsaKeyPem {
    /// PKCS#8 private key, encrypted when a passphrase was given.
    pub private_pem: Zeroizing<Vec<u8>>,
    /// SubjectPublicKeyInfo public key.
    pub public_pem: Vec<u8>,
}

/// DER: one tag-length-value.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(der_body: &[u8]) -> Vec<u8> {
    tlv(0x06, der_body)
}

fn uint(value: u32) -> Vec<u8> {
    let mut bytes = value.to_be_bytes().to_vec();
    while bytes.len() > 1 && bytes[0] == 0 && bytes[1] & 0x80 == 0 {
        bytes.remove(0);
    }
    if bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    tlv(0x02, &bytes)
}

// 1.2.840.113549.1.5.13, 1.2.840.113549.1.5.12, 1.2.840.113549.2.9, 2.16.840.1.101.3.4.1.42
const OID_PBES2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d];
const OID_PBKDF2: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
const OID_HMAC_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09];
const OID_AES256_CBC: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a];

/// PEM armour with 64-character lines.
fn pem(label: &str, der: &[u8]) -> Zeroizing<Vec<u8>> {
    let b64 = Zeroizing::new(Base64::encode_string(der));
    let mut out = Zeroizing::new(Vec::with_capacity(b64.len() + b64.len() / 64 + 64));
    out.extend_from_slice(format!("-----BEGIN {label}-----\n").as_bytes());
    for line in b64.as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(format!("-----END {label}-----\n").as_bytes());
    out
}

/// `EncryptedPrivateKeyInfo` (RFC 5958) of `pkcs8` under `passphrase`.
fn encrypt_pkcs8(pkcs8: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    fill_random(&mut salt)?;
    fill_random(&mut iv)?;
    let mut key = Zeroizing::new([0u8; 32]);
    let iterations =
        std::num::NonZeroU32::new(PKCS8_PBKDF2_ITERATIONS).ok_or(CryptoError::KeyGeneration)?;
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        passphrase,
        key.as_mut_slice(),
    );
    let cipher = UnboundCipherKey::new(&AES_256, key.as_slice())
        .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
        .map_err(|_| CryptoError::KeyGeneration)?;
    let mut data = pkcs8.to_vec();
    cipher
        .less_safe_encrypt(
            &mut data,
            aws_lc_rs::cipher::EncryptionContext::Iv128(iv.into()),
        )
        .map_err(|_| CryptoError::KeyGeneration)?;
    let prf = seq(&[&oid(OID_HMAC_SHA256), &[0x05, 0x00]]);
    let kdf_params = seq(&[&tlv(0x04, &salt), &uint(PKCS8_PBKDF2_ITERATIONS), &prf]);
    let kdf = seq(&[&oid(OID_PBKDF2), &kdf_params]);
    let scheme = seq(&[&oid(OID_AES256_CBC), &tlv(0x04, &iv)]);
    let algorithm = seq(&[&oid(OID_PBES2), &seq(&[&kdf, &scheme])]);
    Ok(seq(&[&algorithm, &tlv(0x04, &data)]))
}

/// Generates an RSA key pair of `bits` (one of [`RSA_KEY_BITS`]) with public exponent 65537.
pub fn generate_rsa_pem(bits: u32, passphrase: Option<&[u8]>) -> Result<RsaKeyPem, CryptoError> {
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        _ => return Err(CryptoError::KeyGeneration),
    };
    let pair = KeyPair::generate(size).map_err(|_| CryptoError::KeyGeneration)?;
    let pkcs8: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| CryptoError::KeyGeneration)?;
    let pkcs8 = Zeroizing::new(pkcs8.as_ref().to_vec());
    let spki: PublicKeyX509Der<'static> = pair
        .public_key()
        .as_der()
        .map_err(|_| CryptoError::KeyGeneration)?;
    let private_pem = match passphrase.filter(|p| !p.is_empty()) {
        Some(pass) => pem("ENCRYPTED PRIVATE KEY", &encrypt_pkcs8(&pkcs8, pass)?),
        None => pem("PRIVATE KEY", &pkcs8),
    };
    Ok(RsaKeyPem {
        private_pem,
        public_pem: pem("PUBLIC KEY", spki.as_ref()).to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_and_integers() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(uint(600_000), vec![0x02, 0x03, 0x09, 0x27, 0xc0]);
        assert_eq!(uint(128), vec![0x02, 0x02, 0x00, 0x80]);
    }

    #[test]
    fn generates_pem_pairs() {
        let plain = generate_rsa_pem(2048, None).unwrap();
        assert!(
            plain
                .private_pem
                .starts_with(b"-----BEGIN PRIVATE KEY-----\n")
        );
        assert!(
            plain
                .public_pem
                .starts_with(b"-----BEGIN PUBLIC KEY-----\n")
        );
        let enc = generate_rsa_pem(2048, Some(b"secret")).unwrap();
        assert!(
            enc.private_pem
                .starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
        );
        assert!(generate_rsa_pem(1024, None).is_err());
    }
}
