//! KMS key specs, key usages and algorithm names with AWS's spelling, and AWS's tables of which usage each
//! key spec allows and which algorithms it offers (what DescribeKey lists).

use aws_lc_rs::digest;

use super::names::aws_names;

aws_names! {
    /// A KMS key spec (`KeySpec` / `KeyPairSpec`).
    KmsKeySpec {
        /// AES-256-GCM, 32 random bytes.
        SymmetricDefault => "SYMMETRIC_DEFAULT",
        /// RSA 2048-bit.
        Rsa2048 => "RSA_2048",
        /// RSA 3072-bit.
        Rsa3072 => "RSA_3072",
        /// RSA 4096-bit.
        Rsa4096 => "RSA_4096",
        /// ECDSA on NIST P-256.
        EccNistP256 => "ECC_NIST_P256",
        /// ECDSA on NIST P-384.
        EccNistP384 => "ECC_NIST_P384",
        /// ECDSA on NIST P-521.
        EccNistP521 => "ECC_NIST_P521",
        /// ECDSA on secp256k1.
        EccSecgP256k1 => "ECC_SECG_P256K1",
        /// Ed25519.
        EccNistEdwards25519 => "ECC_NIST_EDWARDS25519",
        /// HMAC key of 28 bytes.
        Hmac224 => "HMAC_224",
        /// HMAC key of 32 bytes.
        Hmac256 => "HMAC_256",
        /// HMAC key of 48 bytes.
        Hmac384 => "HMAC_384",
        /// HMAC key of 64 bytes.
        Hmac512 => "HMAC_512",
    }
}

aws_names! {
    /// A KMS key usage (`KeyUsage`).
    KmsKeyUsage {
        /// Encrypt and Decrypt (symmetric and RSA).
        EncryptDecrypt => "ENCRYPT_DECRYPT",
        /// Sign and Verify (RSA, ECC).
        SignVerify => "SIGN_VERIFY",
        /// GenerateMac and VerifyMac (HMAC).
        GenerateVerifyMac => "GENERATE_VERIFY_MAC",
    }
}

aws_names! {
    /// An encryption algorithm (`EncryptionAlgorithm`).
    EncryptionAlgorithm {
        /// The KMS ciphertext blob (AES-256-GCM).
        SymmetricDefault => "SYMMETRIC_DEFAULT",
        /// RSA-OAEP with SHA-1 and MGF1-SHA-1.
        RsaesOaepSha1 => "RSAES_OAEP_SHA_1",
        /// RSA-OAEP with SHA-256 and MGF1-SHA-256.
        RsaesOaepSha256 => "RSAES_OAEP_SHA_256",
    }
}

aws_names! {
    /// A signing algorithm (`SigningAlgorithm`).
    SigningAlgorithm {
        /// RSASSA-PSS with SHA-256, salt length 32.
        RsassaPssSha256 => "RSASSA_PSS_SHA_256",
        /// RSASSA-PSS with SHA-384, salt length 48.
        RsassaPssSha384 => "RSASSA_PSS_SHA_384",
        /// RSASSA-PSS with SHA-512, salt length 64.
        RsassaPssSha512 => "RSASSA_PSS_SHA_512",
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        RsassaPkcs1V15Sha256 => "RSASSA_PKCS1_V1_5_SHA_256",
        /// RSASSA-PKCS1-v1_5 with SHA-384.
        RsassaPkcs1V15Sha384 => "RSASSA_PKCS1_V1_5_SHA_384",
        /// RSASSA-PKCS1-v1_5 with SHA-512.
        RsassaPkcs1V15Sha512 => "RSASSA_PKCS1_V1_5_SHA_512",
        /// ECDSA with SHA-256 (P-256, secp256k1), DER signature.
        EcdsaSha256 => "ECDSA_SHA_256",
        /// ECDSA with SHA-384 (P-384), DER signature.
        EcdsaSha384 => "ECDSA_SHA_384",
        /// ECDSA with SHA-512 (P-521), DER signature.
        EcdsaSha512 => "ECDSA_SHA_512",
        /// PureEdDSA Ed25519 (MessageType RAW only).
        Ed25519Sha512 => "ED25519_SHA_512",
        /// HashEdDSA Ed25519ph (MessageType DIGEST only: the message is its 64-byte SHA-512 digest).
        Ed25519PhSha512 => "ED25519_PH_SHA_512",
    }
}

aws_names! {
    /// A MAC algorithm (`MacAlgorithm`).
    MacAlgorithm {
        /// HMAC-SHA-224.
        HmacSha224 => "HMAC_SHA_224",
        /// HMAC-SHA-256.
        HmacSha256 => "HMAC_SHA_256",
        /// HMAC-SHA-384.
        HmacSha384 => "HMAC_SHA_384",
        /// HMAC-SHA-512.
        HmacSha512 => "HMAC_SHA_512",
    }
}

aws_names! {
    /// What a Sign/Verify message is (`MessageType`).
    MessageType {
        /// The message itself; the algorithm hashes it.
        Raw => "RAW",
        /// The message is already the digest of the algorithm's hash.
        Digest => "DIGEST",
    }
}

const RSA_SIGNING: &[SigningAlgorithm] = &[
    SigningAlgorithm::RsassaPkcs1V15Sha256,
    SigningAlgorithm::RsassaPkcs1V15Sha384,
    SigningAlgorithm::RsassaPkcs1V15Sha512,
    SigningAlgorithm::RsassaPssSha256,
    SigningAlgorithm::RsassaPssSha384,
    SigningAlgorithm::RsassaPssSha512,
];
const RSA_ENCRYPTION: &[EncryptionAlgorithm] = &[
    EncryptionAlgorithm::RsaesOaepSha1,
    EncryptionAlgorithm::RsaesOaepSha256,
];

impl KmsKeySpec {
    /// Whether AWS allows a key of this spec to have `usage`.
    pub fn allows(self, usage: KmsKeyUsage) -> bool {
        use KmsKeySpec::*;
        match self {
            SymmetricDefault => usage == KmsKeyUsage::EncryptDecrypt,
            Rsa2048 | Rsa3072 | Rsa4096 => {
                matches!(usage, KmsKeyUsage::EncryptDecrypt | KmsKeyUsage::SignVerify)
            }
            EccNistP256 | EccNistP384 | EccNistP521 | EccSecgP256k1 | EccNistEdwards25519 => {
                usage == KmsKeyUsage::SignVerify
            }
            Hmac224 | Hmac256 | Hmac384 | Hmac512 => usage == KmsKeyUsage::GenerateVerifyMac,
        }
    }

    /// The encryption algorithms a key of this spec offers (empty if it cannot encrypt).
    pub fn encryption_algorithms(self) -> &'static [EncryptionAlgorithm] {
        match self {
            KmsKeySpec::SymmetricDefault => &[EncryptionAlgorithm::SymmetricDefault],
            KmsKeySpec::Rsa2048 | KmsKeySpec::Rsa3072 | KmsKeySpec::Rsa4096 => RSA_ENCRYPTION,
            _ => &[],
        }
    }

    /// The signing algorithms a key of this spec offers (empty if it cannot sign).
    pub fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        use KmsKeySpec::*;
        match self {
            Rsa2048 | Rsa3072 | Rsa4096 => RSA_SIGNING,
            EccNistP256 | EccSecgP256k1 => &[SigningAlgorithm::EcdsaSha256],
            EccNistP384 => &[SigningAlgorithm::EcdsaSha384],
            EccNistP521 => &[SigningAlgorithm::EcdsaSha512],
            EccNistEdwards25519 => &[
                SigningAlgorithm::Ed25519Sha512,
                SigningAlgorithm::Ed25519PhSha512,
            ],
            _ => &[],
        }
    }

    /// The MAC algorithms a key of this spec offers (empty unless HMAC).
    pub fn mac_algorithms(self) -> &'static [MacAlgorithm] {
        match self {
            KmsKeySpec::Hmac224 => &[MacAlgorithm::HmacSha224],
            KmsKeySpec::Hmac256 => &[MacAlgorithm::HmacSha256],
            KmsKeySpec::Hmac384 => &[MacAlgorithm::HmacSha384],
            KmsKeySpec::Hmac512 => &[MacAlgorithm::HmacSha512],
            _ => &[],
        }
    }

    /// RSA, ECC or Ed25519: a key pair with a public key (also the specs GenerateDataKeyPair accepts).
    pub fn is_asymmetric(self) -> bool {
        !matches!(self, KmsKeySpec::SymmetricDefault) && !self.is_hmac()
    }

    /// One of the HMAC specs.
    pub fn is_hmac(self) -> bool {
        matches!(
            self,
            KmsKeySpec::Hmac224 | KmsKeySpec::Hmac256 | KmsKeySpec::Hmac384 | KmsKeySpec::Hmac512
        )
    }

    /// The RSA modulus size in bits, for RSA specs.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            KmsKeySpec::Rsa2048 => Some(2048),
            KmsKeySpec::Rsa3072 => Some(3072),
            KmsKeySpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// The length of the raw key material of a symmetric or HMAC spec.
    pub fn secret_len(self) -> Option<usize> {
        match self {
            KmsKeySpec::SymmetricDefault => Some(32),
            KmsKeySpec::Hmac224 => Some(28),
            KmsKeySpec::Hmac256 => Some(32),
            KmsKeySpec::Hmac384 => Some(48),
            KmsKeySpec::Hmac512 => Some(64),
            _ => None,
        }
    }
}

impl SigningAlgorithm {
    /// The hash this algorithm applies to a RAW message; a DIGEST message must have its output length.
    pub(crate) fn digest_algorithm(self) -> &'static digest::Algorithm {
        use SigningAlgorithm::*;
        match self {
            RsassaPssSha256 | RsassaPkcs1V15Sha256 | EcdsaSha256 => &digest::SHA256,
            RsassaPssSha384 | RsassaPkcs1V15Sha384 | EcdsaSha384 => &digest::SHA384,
            RsassaPssSha512 | RsassaPkcs1V15Sha512 | EcdsaSha512 | Ed25519Sha512
            | Ed25519PhSha512 => &digest::SHA512,
        }
    }
}

impl EncryptionAlgorithm {
    /// The largest plaintext AWS (and OAEP) accepts for an RSA key of `modulus_bytes`: `k - 2·hLen - 2`
    /// (RSA_2048: 214 with SHA-1, 190 with SHA-256). `None` for SYMMETRIC_DEFAULT.
    pub fn rsa_max_plaintext(self, modulus_bytes: usize) -> Option<usize> {
        let hash_len = match self {
            EncryptionAlgorithm::SymmetricDefault => return None,
            EncryptionAlgorithm::RsaesOaepSha1 => 20,
            EncryptionAlgorithm::RsaesOaepSha256 => 32,
        };
        Some(modulus_bytes.saturating_sub(2 * hash_len + 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for spec in KmsKeySpec::ALL {
            assert_eq!(KmsKeySpec::parse(spec.as_str()), Some(*spec));
        }
        for alg in SigningAlgorithm::ALL {
            assert_eq!(SigningAlgorithm::parse(alg.as_str()), Some(*alg));
        }
        assert_eq!(KmsKeySpec::parse("rsa_2048"), None);
        assert_eq!(MessageType::parse("DIGEST"), Some(MessageType::Digest));
        assert_eq!(MacAlgorithm::HmacSha384.to_string(), "HMAC_SHA_384");
        assert_eq!(
            KmsKeyUsage::parse("GENERATE_VERIFY_MAC"),
            Some(KmsKeyUsage::GenerateVerifyMac)
        );
    }

    #[test]
    fn aws_tables() {
        use KmsKeyUsage::*;
        assert!(KmsKeySpec::SymmetricDefault.allows(EncryptDecrypt));
        assert!(!KmsKeySpec::SymmetricDefault.allows(SignVerify));
        assert!(
            KmsKeySpec::Rsa3072.allows(EncryptDecrypt) && KmsKeySpec::Rsa3072.allows(SignVerify)
        );
        assert!(!KmsKeySpec::EccNistP256.allows(EncryptDecrypt));
        assert!(KmsKeySpec::Hmac224.allows(GenerateVerifyMac));
        assert!(!KmsKeySpec::Hmac224.allows(SignVerify));
        assert_eq!(KmsKeySpec::Rsa2048.signing_algorithms().len(), 6);
        assert_eq!(
            KmsKeySpec::EccSecgP256k1.signing_algorithms(),
            &[SigningAlgorithm::EcdsaSha256]
        );
        assert!(KmsKeySpec::Hmac256.encryption_algorithms().is_empty());
        assert_eq!(
            EncryptionAlgorithm::RsaesOaepSha1.rsa_max_plaintext(256),
            Some(214)
        );
        assert_eq!(
            EncryptionAlgorithm::RsaesOaepSha256.rsa_max_plaintext(256),
            Some(190)
        );
        assert_eq!(
            EncryptionAlgorithm::RsaesOaepSha256.rsa_max_plaintext(512),
            Some(446)
        );
    }
}
