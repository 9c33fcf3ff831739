//! Sign/Verify for every signing spec and algorithm: round trips, DIGEST vs RAW, tampering, wrong keys,
//! malformed signatures, and verification by aws-lc-rs over the SubjectPublicKeyInfo.

use arca_crypto::kms::message_digest;
use arca_crypto::{CryptoError, KmsKeySpec, MessageType, SigningAlgorithm};
use aws_lc_rs::signature::{self, UnparsedPublicKey};

use crate::keys::key;

const MSG: &[u8] = b"the message AWS would sign";

fn signing_specs() -> impl Iterator<Item = KmsKeySpec> {
    KmsKeySpec::ALL
        .iter()
        .copied()
        .filter(|s| !s.signing_algorithms().is_empty())
}

#[test]
fn every_algorithm_round_trips_and_rejects_tampering() {
    let mut count = 0;
    for spec in signing_specs() {
        let k = key(spec);
        for alg in spec.signing_algorithms() {
            // Ed25519ph signs a SHA-512 DIGEST only; every other algorithm takes the RAW message.
            let input = |m: &[u8]| match alg {
                SigningAlgorithm::Ed25519PhSha512 => (MessageType::Digest, message_digest(*alg, m)),
                _ => (MessageType::Raw, m.to_vec()),
            };
            let (mt, msg) = input(MSG);
            let sig = k.sign(*alg, mt, &msg).unwrap();
            assert!(k.verify(*alg, mt, &msg, &sig).unwrap(), "{spec} {alg}");
            let (_, another) = input(b"another message");
            assert!(!k.verify(*alg, mt, &another, &sig).unwrap());
            let mut bad = sig.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert!(!k.verify(*alg, mt, &msg, &bad).unwrap(), "{spec} {alg}");
            // Malformed signatures are a plain "no", never an error or a panic.
            for junk in [
                &[][..],
                &[0u8][..],
                &[0x30, 0xff][..],
                &sig[..sig.len() / 2],
            ] {
                assert!(!k.verify(*alg, mt, &msg, junk).unwrap());
            }
            count += 1;
        }
    }
    assert_eq!(count, 3 * 6 + 6);
}

#[test]
fn a_key_of_the_same_spec_does_not_verify() {
    for spec in [KmsKeySpec::EccNistP256, KmsKeySpec::EccNistEdwards25519] {
        let other = arca_crypto::KeyMaterial::generate(spec).unwrap();
        let alg = spec.signing_algorithms()[0];
        let sig = key(spec).sign(alg, MessageType::Raw, MSG).unwrap();
        assert!(!other.verify(alg, MessageType::Raw, MSG, &sig).unwrap());
    }
}

#[test]
fn digest_and_raw_are_equivalent() {
    for spec in signing_specs().filter(|s| *s != KmsKeySpec::EccNistEdwards25519) {
        let k = key(spec);
        for alg in spec.signing_algorithms() {
            let digest = message_digest(*alg, MSG);
            let raw_sig = k.sign(*alg, MessageType::Raw, MSG).unwrap();
            assert!(
                k.verify(*alg, MessageType::Digest, &digest, &raw_sig)
                    .unwrap(),
                "{spec} {alg}"
            );
            let digest_sig = k.sign(*alg, MessageType::Digest, &digest).unwrap();
            assert!(
                k.verify(*alg, MessageType::Raw, MSG, &digest_sig).unwrap(),
                "{spec} {alg}"
            );
        }
    }
}

#[test]
fn pkcs1_signatures_are_deterministic_pss_are_not() {
    let k = key(KmsKeySpec::Rsa2048);
    let a = k
        .sign(
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            MessageType::Raw,
            MSG,
        )
        .unwrap();
    let b = k
        .sign(
            SigningAlgorithm::RsassaPkcs1V15Sha256,
            MessageType::Raw,
            MSG,
        )
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 256);
    let a = k
        .sign(SigningAlgorithm::RsassaPssSha256, MessageType::Raw, MSG)
        .unwrap();
    let b = k
        .sign(SigningAlgorithm::RsassaPssSha256, MessageType::Raw, MSG)
        .unwrap();
    assert_ne!(a, b);
}

#[test]
fn digest_of_the_wrong_length_is_refused_clearly() {
    let k = key(KmsKeySpec::EccNistP384);
    let err = k
        .sign(
            SigningAlgorithm::EcdsaSha384,
            MessageType::Digest,
            &[0u8; 32],
        )
        .err()
        .unwrap();
    assert_eq!(
        err,
        CryptoError::InvalidInput(
            "a DIGEST message for ECDSA_SHA_384 must be 48 bytes, got 32".into()
        )
    );
    assert!(
        k.verify(
            SigningAlgorithm::EcdsaSha384,
            MessageType::Digest,
            &[0u8; 47],
            &[0u8; 8]
        )
        .is_err()
    );
}

#[test]
fn algorithms_outside_the_spec_are_refused() {
    let p256 = key(KmsKeySpec::EccNistP256);
    assert!(matches!(
        p256.sign(SigningAlgorithm::EcdsaSha384, MessageType::Raw, MSG),
        Err(CryptoError::InvalidInput(_))
    ));
    assert!(
        p256.sign(SigningAlgorithm::RsassaPssSha256, MessageType::Raw, MSG)
            .is_err()
    );
    let ed = key(KmsKeySpec::EccNistEdwards25519);
    assert!(
        ed.sign(SigningAlgorithm::Ed25519PhSha512, MessageType::Raw, MSG)
            .is_err(),
        "Ed25519ph signs a SHA-512 DIGEST only"
    );
    assert!(
        ed.sign(
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Digest,
            &[0u8; 32]
        )
        .is_err(),
        "a digest that is not 64 bytes"
    );
    assert!(
        ed.sign(
            SigningAlgorithm::Ed25519Sha512,
            MessageType::Digest,
            &[0u8; 64]
        )
        .is_err()
    );
    let hmac = key(KmsKeySpec::Hmac256);
    assert!(
        hmac.sign(SigningAlgorithm::EcdsaSha256, MessageType::Raw, MSG)
            .is_err()
    );
    let aes = key(KmsKeySpec::SymmetricDefault);
    assert!(
        aes.verify(SigningAlgorithm::EcdsaSha256, MessageType::Raw, MSG, b"x")
            .is_err()
    );
}

#[test]
fn signatures_verify_with_aws_lc_over_the_spki() {
    let rsa = key(KmsKeySpec::Rsa3072);
    let sig = rsa
        .sign(SigningAlgorithm::RsassaPssSha384, MessageType::Raw, MSG)
        .unwrap();
    let spki = rsa.public_key_der().unwrap();
    UnparsedPublicKey::new(&signature::RSA_PSS_2048_8192_SHA384, &spki)
        .verify(MSG, &sig)
        .unwrap();

    let ec = key(KmsKeySpec::EccNistP256);
    let sig = ec
        .sign(SigningAlgorithm::EcdsaSha256, MessageType::Raw, MSG)
        .unwrap();
    assert_eq!(
        sig[0], 0x30,
        "ECDSA signatures are DER, as AWS returns them"
    );
    let spki = ec.public_key_der().unwrap();
    UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_ASN1, &spki)
        .verify(MSG, &sig)
        .unwrap();

    let k1 = key(KmsKeySpec::EccSecgP256k1);
    let sig = k1
        .sign(SigningAlgorithm::EcdsaSha256, MessageType::Raw, MSG)
        .unwrap();
    UnparsedPublicKey::new(
        &signature::ECDSA_P256K1_SHA256_ASN1,
        &k1.public_key_der().unwrap(),
    )
    .verify(MSG, &sig)
    .unwrap();

    let p521 = key(KmsKeySpec::EccNistP521);
    let sig = p521
        .sign(SigningAlgorithm::EcdsaSha512, MessageType::Raw, MSG)
        .unwrap();
    UnparsedPublicKey::new(
        &signature::ECDSA_P521_SHA512_ASN1,
        &p521.public_key_der().unwrap(),
    )
    .verify(MSG, &sig)
    .unwrap();

    let ed = key(KmsKeySpec::EccNistEdwards25519);
    let sig = ed
        .sign(SigningAlgorithm::Ed25519Sha512, MessageType::Raw, MSG)
        .unwrap();
    UnparsedPublicKey::new(&signature::ED25519, &ed.public_key_der().unwrap())
        .verify(MSG, &sig)
        .unwrap();
}

#[test]
fn ed25519ph_signs_and_verifies_sha512_digests() {
    let ed = key(KmsKeySpec::EccNistEdwards25519);
    let digest = message_digest(SigningAlgorithm::Ed25519PhSha512, MSG);
    assert_eq!(digest.len(), 64);
    let sig = ed
        .sign(
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Digest,
            &digest,
        )
        .unwrap();
    assert_eq!(sig.len(), 64);
    assert!(
        ed.verify(
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Digest,
            &digest,
            &sig
        )
        .unwrap()
    );
    let other = message_digest(SigningAlgorithm::Ed25519PhSha512, b"other");
    assert!(
        !ed.verify(
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Digest,
            &other,
            &sig
        )
        .unwrap()
    );
    assert!(
        !ed.verify(
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Digest,
            &digest,
            &sig[..40]
        )
        .unwrap()
    );
    // Not a PureEdDSA signature of the message, nor of the digest.
    let spki = ed.public_key_der().unwrap();
    let pure = UnparsedPublicKey::new(&signature::ED25519, &spki);
    assert!(pure.verify(MSG, &sig).is_err());
    assert!(pure.verify(&digest, &sig).is_err());
    assert!(
        ed.verify(
            SigningAlgorithm::Ed25519PhSha512,
            MessageType::Raw,
            MSG,
            &sig
        )
        .is_err()
    );
}

/// A verifier pinned to salt length = digest length (AWS's PSS parameters).
static PSS_SHA512_DIGEST_SALT: signature::RsaParameters =
    signature::RSA_PSS_2048_8192_SHA512.with_pss_salt_length(signature::RsaPssSaltLength::Digest);

#[test]
fn pss_salt_is_the_digest_length() {
    let rsa = key(KmsKeySpec::Rsa2048);
    let sig = rsa
        .sign(SigningAlgorithm::RsassaPssSha512, MessageType::Raw, MSG)
        .unwrap();
    UnparsedPublicKey::new(&PSS_SHA512_DIGEST_SALT, rsa.public_key_der().unwrap())
        .verify(MSG, &sig)
        .unwrap();
}
