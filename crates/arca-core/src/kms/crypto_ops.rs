//! Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyPair,
//! GenerateRandom, Sign, Verify, GetPublicKey, GenerateMac and VerifyMac. Symmetric ciphertexts are blobs naming
//! their key and version, so ciphertexts from before a rotation still decrypt; RSA ciphertexts are plain OAEP
//! and need the key named. RSA private-key work runs on the blocking pool.

use std::sync::Arc;

use arca_crypto::{
    CryptoError, EncryptionAlgorithm, EncryptionContext, KeyMaterial, KmsKeySpec, KmsKeyUsage,
    MacAlgorithm, MessageType, SigningAlgorithm, kms_blob_header, kms_open, kms_seal,
};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::key::KmsKey;
use super::service::{KmsService, is_slow, run_crypto};
use super::types::{
    DataKey, DataKeyPair, Decrypted, Encrypted, Mac, PublicKey, ReEncrypted, Signed, Verified,
};
use super::validate;
use crate::{CoreError, KmsErrorKind, Principal};

fn invalid_ciphertext() -> CoreError {
    CoreError::kms(
        KmsErrorKind::InvalidCiphertext,
        "the ciphertext is invalid, was modified, was made with another encryption context, or belongs to \
         a key this account does not have",
    )
}

/// A crypto failure as the KMS API reports it: bad input is the caller's (`ValidationException`).
fn crypto(e: CryptoError) -> CoreError {
    match e {
        CryptoError::InvalidInput(m) => CoreError::kms(KmsErrorKind::Validation, m),
        other => CoreError::from(other),
    }
}

fn require_usage(key: &KmsKey, usage: KmsKeyUsage) -> Result<(), CoreError> {
    if key.key_usage != usage {
        return Err(CoreError::kms(
            KmsErrorKind::InvalidKeyUsage,
            format!(
                "{} has KeyUsage {}; this operation needs {}",
                key.id,
                key.key_usage.as_str(),
                usage.as_str()
            ),
        ));
    }
    Ok(())
}

fn wrong_algorithm(key: &KmsKey, alg: &str) -> CoreError {
    CoreError::kms(
        KmsErrorKind::InvalidKeyUsage,
        format!(
            "algorithm {alg} is not valid for {} (KeySpec {})",
            key.id,
            key.key_spec.as_str()
        ),
    )
}

impl KmsService {
    /// A key for a cryptographic operation: authorised, resolved, enabled, of `usage`.
    async fn usable(
        &self,
        p: &Principal,
        operation: &str,
        key_ref: &str,
        usage: KmsKeyUsage,
    ) -> Result<KmsKey, CoreError> {
        self.authorize(p, operation)?;
        let key = self.resolve(p, key_ref).await?;
        Self::require_enabled(&key)?;
        require_usage(&key, usage)?;
        Ok(key)
    }

    /// `Encrypt`: at most 4096 bytes under the key's current version (symmetric) or RSA-OAEP.
    pub async fn encrypt(
        &self,
        p: &Principal,
        key_ref: &str,
        plaintext: &[u8],
        context: &EncryptionContext,
        algorithm: EncryptionAlgorithm,
    ) -> Result<Encrypted, CoreError> {
        let mut id = None;
        let result = async {
            let key = self
                .usable(p, "Encrypt", key_ref, KmsKeyUsage::EncryptDecrypt)
                .await?;
            id = Some(key.id);
            validate::bytes_len(plaintext.len(), validate::MAX_PLAINTEXT, "Plaintext")?;
            let ciphertext = self
                .encrypt_with(&key, plaintext, context, algorithm)
                .await?;
            Ok(Encrypted {
                key_id: key.id,
                ciphertext,
                algorithm,
            })
        }
        .await;
        self.used(p, "Encrypt", id, result).await
    }

    async fn encrypt_with(
        &self,
        key: &KmsKey,
        plaintext: &[u8],
        context: &EncryptionContext,
        algorithm: EncryptionAlgorithm,
    ) -> Result<Vec<u8>, CoreError> {
        if !key.key_spec.encryption_algorithms().contains(&algorithm) {
            return Err(wrong_algorithm(key, algorithm.as_str()));
        }
        let material = self.material(key, key.current_version).await?;
        if algorithm == EncryptionAlgorithm::SymmetricDefault {
            return kms_seal(
                &material,
                *key.id.as_bytes(),
                key.current_version,
                context,
                plaintext,
            )
            .map_err(crypto);
        }
        if !context.is_empty() {
            return Err(CoreError::kms(
                KmsErrorKind::Validation,
                "EncryptionContext is not supported with asymmetric keys",
            ));
        }
        material.rsa_encrypt(algorithm, plaintext).map_err(crypto)
    }

    /// `Decrypt`. A symmetric blob names its key (`key_ref` optional; if given it must be that key, else
    /// `IncorrectKeyException`); RSA needs `key_ref`.
    pub async fn decrypt(
        &self,
        p: &Principal,
        key_ref: Option<&str>,
        blob: &[u8],
        context: &EncryptionContext,
        algorithm: EncryptionAlgorithm,
    ) -> Result<Decrypted, CoreError> {
        let mut id = None;
        let result = self
            .decrypt_inner(p, "Decrypt", key_ref, blob, context, algorithm, &mut id)
            .await;
        self.used(p, "Decrypt", id, result).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn decrypt_inner(
        &self,
        p: &Principal,
        operation: &str,
        key_ref: Option<&str>,
        blob: &[u8],
        context: &EncryptionContext,
        algorithm: EncryptionAlgorithm,
        id: &mut Option<Uuid>,
    ) -> Result<Decrypted, CoreError> {
        self.authorize(p, operation)?;
        let named = match key_ref {
            Some(r) => Some(self.resolve(p, r).await?),
            None => None,
        };
        if algorithm == EncryptionAlgorithm::SymmetricDefault {
            let (raw_id, version) = kms_blob_header(blob).map_err(|_| invalid_ciphertext())?;
            let blob_key = Uuid::from_bytes(raw_id);
            if let Some(named) = &named
                && named.id != blob_key
            {
                *id = Some(named.id);
                return Err(CoreError::kms(
                    KmsErrorKind::IncorrectKey,
                    format!("the ciphertext was not encrypted under {}", named.id),
                ));
            }
            let key = match named {
                Some(k) => k,
                None => self
                    .key_by_id(p, blob_key, &blob_key.to_string())
                    .await
                    .map_err(|_| invalid_ciphertext())?,
            };
            *id = Some(key.id);
            Self::require_enabled(&key)?;
            require_usage(&key, KmsKeyUsage::EncryptDecrypt)?;
            if key.key_spec != KmsKeySpec::SymmetricDefault
                || version == 0
                || version > key.current_version
            {
                return Err(invalid_ciphertext());
            }
            let material = self.material(&key, version).await?;
            let plaintext = kms_open(&material, context, blob).map_err(|_| invalid_ciphertext())?;
            return Ok(Decrypted {
                key_id: key.id,
                plaintext,
                algorithm,
            });
        }
        let Some(key) = named else {
            return Err(CoreError::kms(
                KmsErrorKind::Validation,
                format!("KeyId is required to decrypt with {}", algorithm.as_str()),
            ));
        };
        *id = Some(key.id);
        Self::require_enabled(&key)?;
        require_usage(&key, KmsKeyUsage::EncryptDecrypt)?;
        if !key.key_spec.encryption_algorithms().contains(&algorithm) {
            return Err(wrong_algorithm(&key, algorithm.as_str()));
        }
        if !context.is_empty() {
            return Err(CoreError::kms(
                KmsErrorKind::Validation,
                "EncryptionContext is not supported with asymmetric keys",
            ));
        }
        let material = self.material(&key, key.current_version).await?;
        let blob = blob.to_vec();
        let plaintext = run_crypto(true, move || {
            material
                .rsa_decrypt(algorithm, &blob)
                .map_err(|_| invalid_ciphertext())
        })
        .await?;
        Ok(Decrypted {
            key_id: key.id,
            plaintext,
            algorithm,
        })
    }

    /// `ReEncrypt`: decrypts under the source key (authorised like Decrypt) and encrypts under the destination
    /// key (authorised like Encrypt); the plaintext never leaves the service.
    #[allow(clippy::too_many_arguments)]
    pub async fn re_encrypt(
        &self,
        p: &Principal,
        blob: &[u8],
        source_context: &EncryptionContext,
        source_key_ref: Option<&str>,
        destination_key_ref: &str,
        destination_context: &EncryptionContext,
        source_algorithm: EncryptionAlgorithm,
        destination_algorithm: EncryptionAlgorithm,
    ) -> Result<ReEncrypted, CoreError> {
        let mut source_id = None;
        let source = self
            .decrypt_inner(
                p,
                "ReEncrypt",
                source_key_ref,
                blob,
                source_context,
                source_algorithm,
                &mut source_id,
            )
            .await;
        let source = self.used(p, "ReEncrypt", source_id, source).await?;
        let mut id = None;
        let result = async {
            let key = self
                .usable(
                    p,
                    "ReEncrypt",
                    destination_key_ref,
                    KmsKeyUsage::EncryptDecrypt,
                )
                .await?;
            id = Some(key.id);
            let ciphertext = self
                .encrypt_with(
                    &key,
                    &source.plaintext,
                    destination_context,
                    destination_algorithm,
                )
                .await?;
            Ok(ReEncrypted {
                source_key_id: source.key_id,
                key_id: key.id,
                ciphertext,
                source_algorithm,
                algorithm: destination_algorithm,
            })
        }
        .await;
        if id == source_id && result.is_ok() {
            return result;
        }
        self.used(p, "ReEncrypt", id, result).await
    }

    /// `GenerateDataKey`: `number_of_bytes` (1..=1024) random bytes and their ciphertext under a symmetric key.
    pub async fn generate_data_key(
        &self,
        p: &Principal,
        key_ref: &str,
        number_of_bytes: usize,
        context: &EncryptionContext,
    ) -> Result<DataKey, CoreError> {
        let mut id = None;
        let result = async {
            let key = self
                .usable(p, "GenerateDataKey", key_ref, KmsKeyUsage::EncryptDecrypt)
                .await?;
            id = Some(key.id);
            validate::byte_count(number_of_bytes, "NumberOfBytes")?;
            if key.key_spec != KmsKeySpec::SymmetricDefault {
                return Err(wrong_algorithm(&key, "SYMMETRIC_DEFAULT"));
            }
            let mut plaintext = Zeroizing::new(vec![0u8; number_of_bytes]);
            arca_crypto::fill_random(&mut plaintext)?;
            let ciphertext = self
                .encrypt_with(
                    &key,
                    &plaintext,
                    context,
                    EncryptionAlgorithm::SymmetricDefault,
                )
                .await?;
            Ok(DataKey {
                key_id: key.id,
                plaintext,
                ciphertext,
            })
        }
        .await;
        self.used(p, "GenerateDataKey", id, result).await
    }

    /// `GenerateDataKeyPair`: a fresh asymmetric pair of `pair_spec` (RSA or ECC), the private key also
    /// encrypted under a symmetric key.
    pub async fn generate_data_key_pair(
        &self,
        p: &Principal,
        key_ref: &str,
        pair_spec: KmsKeySpec,
        context: &EncryptionContext,
    ) -> Result<DataKeyPair, CoreError> {
        let mut id = None;
        let result = async {
            let key = self
                .usable(
                    p,
                    "GenerateDataKeyPair",
                    key_ref,
                    KmsKeyUsage::EncryptDecrypt,
                )
                .await?;
            id = Some(key.id);
            if key.key_spec != KmsKeySpec::SymmetricDefault {
                return Err(wrong_algorithm(&key, "SYMMETRIC_DEFAULT"));
            }
            if !pair_spec.is_asymmetric() {
                return Err(CoreError::kms(
                    KmsErrorKind::Validation,
                    format!(
                        "KeyPairSpec {} is not an asymmetric key pair spec",
                        pair_spec.as_str()
                    ),
                ));
            }
            let (pair, public_der) = run_crypto(is_slow(pair_spec), move || {
                let pair = KeyMaterial::generate(pair_spec).map_err(CoreError::from)?;
                let public = pair.public_key_der().map_err(CoreError::from)?;
                Ok((pair, public))
            })
            .await?;
            let private_plaintext = Zeroizing::new(pair.expose().to_vec());
            let private_ciphertext = self
                .encrypt_with(
                    &key,
                    &private_plaintext,
                    context,
                    EncryptionAlgorithm::SymmetricDefault,
                )
                .await?;
            Ok(DataKeyPair {
                key_id: key.id,
                private_plaintext,
                private_ciphertext,
                public_der,
                spec: pair_spec,
            })
        }
        .await;
        self.used(p, "GenerateDataKeyPair", id, result).await
    }

    /// `GenerateRandom`: 1..=1024 random bytes.
    pub async fn generate_random(
        &self,
        p: &Principal,
        number_of_bytes: usize,
    ) -> Result<Zeroizing<Vec<u8>>, CoreError> {
        self.authorize(p, "GenerateRandom")?;
        validate::byte_count(number_of_bytes, "NumberOfBytes")?;
        let mut out = Zeroizing::new(vec![0u8; number_of_bytes]);
        arca_crypto::fill_random(&mut out)?;
        Ok(out)
    }

    /// A key and its current material for signing/MAC operations with an algorithm check.
    async fn signing_key(
        &self,
        p: &Principal,
        operation: &str,
        key_ref: &str,
        usage: KmsKeyUsage,
        message: &[u8],
        algorithm_ok: impl FnOnce(&KmsKey) -> Result<(), CoreError>,
    ) -> Result<(KmsKey, Arc<KeyMaterial>), CoreError> {
        let key = self.usable(p, operation, key_ref, usage).await?;
        validate::bytes_len(message.len(), validate::MAX_MESSAGE, "Message")?;
        algorithm_ok(&key)?;
        let material = self.material(&key, key.current_version).await?;
        Ok((key, material))
    }

    /// `Sign` with an asymmetric SIGN_VERIFY key.
    pub async fn sign(
        &self,
        p: &Principal,
        key_ref: &str,
        message: &[u8],
        message_type: MessageType,
        algorithm: SigningAlgorithm,
    ) -> Result<Signed, CoreError> {
        let mut id = None;
        let result = async {
            let (key, material) = self
                .signing_key(p, "Sign", key_ref, KmsKeyUsage::SignVerify, message, |k| {
                    check_signing(k, algorithm)
                })
                .await?;
            id = Some(key.id);
            let message = message.to_vec();
            let signature = run_crypto(is_slow(key.key_spec), move || {
                material
                    .sign(algorithm, message_type, &message)
                    .map_err(crypto)
            })
            .await?;
            Ok(Signed {
                key_id: key.id,
                signature,
                algorithm,
            })
        }
        .await;
        self.used(p, "Sign", id, result).await
    }

    /// `Verify`; a signature that does not verify is `KMSInvalidSignatureException`.
    pub async fn verify(
        &self,
        p: &Principal,
        key_ref: &str,
        message: &[u8],
        message_type: MessageType,
        signature: &[u8],
        algorithm: SigningAlgorithm,
    ) -> Result<Verified, CoreError> {
        let mut id = None;
        let result = async {
            let (key, material) = self
                .signing_key(
                    p,
                    "Verify",
                    key_ref,
                    KmsKeyUsage::SignVerify,
                    message,
                    |k| check_signing(k, algorithm),
                )
                .await?;
            id = Some(key.id);
            let good = material
                .verify(algorithm, message_type, message, signature)
                .map_err(crypto)?;
            if !good {
                return Err(CoreError::kms(
                    KmsErrorKind::KmsInvalidSignature,
                    "the signature is not valid for this message, key and algorithm",
                ));
            }
            Ok(Verified {
                key_id: key.id,
                algorithm,
            })
        }
        .await;
        self.used(p, "Verify", id, result).await
    }

    /// `GetPublicKey` of an asymmetric key.
    pub async fn get_public_key(
        &self,
        p: &Principal,
        key_ref: &str,
    ) -> Result<PublicKey, CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "GetPublicKey")?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_enabled(&key)?;
            if !key.key_spec.is_asymmetric() {
                return Err(CoreError::kms(
                    KmsErrorKind::UnsupportedOperation,
                    format!("{} is not an asymmetric key and has no public key", key.id),
                ));
            }
            let material = self.material(&key, key.current_version).await?;
            let der = material.public_key_der().map_err(crypto)?;
            Ok(PublicKey { key, der })
        }
        .await;
        self.used(p, "GetPublicKey", id, result).await
    }

    /// `GenerateMac` with an HMAC key.
    pub async fn generate_mac(
        &self,
        p: &Principal,
        key_ref: &str,
        message: &[u8],
        algorithm: MacAlgorithm,
    ) -> Result<Mac, CoreError> {
        let mut id = None;
        let result = async {
            let (key, material) = self
                .signing_key(
                    p,
                    "GenerateMac",
                    key_ref,
                    KmsKeyUsage::GenerateVerifyMac,
                    message,
                    |k| check_mac(k, algorithm),
                )
                .await?;
            id = Some(key.id);
            let mac = material.mac(algorithm, message).map_err(crypto)?;
            Ok(Mac {
                key_id: key.id,
                mac,
                algorithm,
            })
        }
        .await;
        self.used(p, "GenerateMac", id, result).await
    }

    /// `VerifyMac`; a MAC that does not verify is `KMSInvalidMacException`. Returns the key id.
    pub async fn verify_mac(
        &self,
        p: &Principal,
        key_ref: &str,
        message: &[u8],
        mac: &[u8],
        algorithm: MacAlgorithm,
    ) -> Result<Uuid, CoreError> {
        let mut id = None;
        let result = async {
            let (key, material) = self
                .signing_key(
                    p,
                    "VerifyMac",
                    key_ref,
                    KmsKeyUsage::GenerateVerifyMac,
                    message,
                    |k| check_mac(k, algorithm),
                )
                .await?;
            id = Some(key.id);
            if !material
                .verify_mac(algorithm, message, mac)
                .map_err(crypto)?
            {
                return Err(CoreError::kms(
                    KmsErrorKind::KmsInvalidMac,
                    "the MAC is not valid for this message, key and algorithm",
                ));
            }
            Ok(key.id)
        }
        .await;
        self.used(p, "VerifyMac", id, result).await
    }
}

fn check_signing(key: &KmsKey, algorithm: SigningAlgorithm) -> Result<(), CoreError> {
    if key.key_spec.signing_algorithms().contains(&algorithm) {
        Ok(())
    } else {
        Err(wrong_algorithm(key, algorithm.as_str()))
    }
}

fn check_mac(key: &KmsKey, algorithm: MacAlgorithm) -> Result<(), CoreError> {
    if key.key_spec.mac_algorithms().contains(&algorithm) {
        Ok(())
    } else {
        Err(wrong_algorithm(key, algorithm.as_str()))
    }
}
