//! Cryptography of Arca's AWS-KMS-compatible API, pure and without I/O: key specs and algorithm names with
//! AWS's tables, per-version key material (generation, parsing, public keys), Sign/Verify, RSA-OAEP,
//! GenerateMac/VerifyMac, and the symmetric ciphertext blob bound to an encryption context.
//!
//! # API
//! ```text
//! enum KmsKeySpec { SymmetricDefault, Rsa2048, Rsa3072, Rsa4096, EccNistP256, EccNistP384, EccNistP521,
//!                   EccSecgP256k1, EccNistEdwards25519, Hmac224, Hmac256, Hmac384, Hmac512 }
//! enum KmsKeyUsage { EncryptDecrypt, SignVerify, GenerateVerifyMac }
//! enum EncryptionAlgorithm { SymmetricDefault, RsaesOaepSha1, RsaesOaepSha256 }
//! enum SigningAlgorithm { RsassaPss{Sha256,Sha384,Sha512}, RsassaPkcs1V15{Sha256,Sha384,Sha512},
//!                         EcdsaSha256, EcdsaSha384, EcdsaSha512, Ed25519Sha512, Ed25519PhSha512 }
//! enum MacAlgorithm { HmacSha224, HmacSha256, HmacSha384, HmacSha512 }
//! enum MessageType { Raw, Digest }
//!   every enum: ALL, parse(&str) -> Option<Self>, as_str(self) -> &'static str (AWS names), Display
//! KmsKeySpec: allows(usage) -> bool, encryption_algorithms() / signing_algorithms() / mac_algorithms()
//!   -> &'static [_], is_asymmetric(), is_hmac(), rsa_bits() -> Option<usize>, secret_len() -> Option<usize>
//! EncryptionAlgorithm::rsa_max_plaintext(modulus_bytes) -> Option<usize>
//!
//! KeyMaterial (no Debug/Clone/Serialize; zeroized):
//!   generate(spec) -> Result<KeyMaterial>                       RSA is slow: spawn_blocking
//!   from_bytes(spec, Zeroizing<Vec<u8>>) -> Result<KeyMaterial> checks and parses once; cache the value
//!   spec(&self) -> KmsKeySpec;  expose(&self) -> &[u8]          (secret bytes or PKCS#8 v1 DER)
//!   public_key_der(&self) -> Result<Vec<u8>>                    SubjectPublicKeyInfo DER
//!   sign(&self, SigningAlgorithm, MessageType, msg) -> Result<Vec<u8>>
//!   verify(&self, SigningAlgorithm, MessageType, msg, sig) -> Result<bool>   bad signature: Ok(false)
//!   rsa_encrypt(&self, EncryptionAlgorithm, pt) -> Result<Vec<u8>>
//!   rsa_decrypt(&self, EncryptionAlgorithm, ct) -> Result<Zeroizing<Vec<u8>>>  every failure: Integrity
//!   mac(&self, MacAlgorithm, msg) -> Result<Vec<u8>>;  verify_mac(&self, MacAlgorithm, msg, mac) -> Result<bool>
//! kms_seal(&KeyMaterial, key_id: [u8; 16], key_version: u32, &EncryptionContext, pt) -> Result<Vec<u8>>
//! kms_blob_header(blob) -> Result<([u8; 16], u32)>
//! kms_open(&KeyMaterial, &EncryptionContext, blob) -> Result<Zeroizing<Vec<u8>>>
//! KMS_BLOB_FORMAT_V1, KMS_BLOB_OVERHEAD
//! EncryptionContext(BTreeMap<String, String>): new(map), empty(), is_empty(), pairs(), encode(),
//!   From<BTreeMap>, FromIterator<(String, String)>
//! message_digest(SigningAlgorithm, msg) -> Vec<u8>              the hash a RAW message gets
//! ```
//! Errors (`CryptoError`): `InvalidInput(String)` for requests the key cannot serve (wrong algorithm for the
//! spec, DIGEST of the wrong length, oversize RSA plaintext, no public key) — the message names no key
//! material; `Integrity` for failed authentication (blob, RSA decryption); `Format` for an unknown or
//! truncated blob; `InvalidKeyMaterial(spec)` for stored bytes that do not fit their spec.
//!
//! ECC_NIST_EDWARDS25519 signs with `ED25519_SHA_512` (PureEdDSA, RAW) and `ED25519_PH_SHA_512` (HashEdDSA over a
//! SHA-512 DIGEST, through aws-lc's C API in `ed25519ph.rs`: aws-lc-rs does not wrap it). SM2 and KEY_AGREEMENT
//! are not offered.

mod blob;
mod context;
mod ed25519ph;
mod mac;
mod material;
mod names;
mod rsa_oaep;
mod sign;
mod spec;

pub use blob::{KMS_BLOB_FORMAT_V1, KMS_BLOB_OVERHEAD, kms_blob_header, kms_open, kms_seal};
pub use context::EncryptionContext;
pub use material::KeyMaterial;
pub use sign::message_digest;
pub use spec::{
    EncryptionAlgorithm, KmsKeySpec, KmsKeyUsage, MacAlgorithm, MessageType, SigningAlgorithm,
};
