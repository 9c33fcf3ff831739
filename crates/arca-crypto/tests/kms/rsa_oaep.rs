//! RSA-OAEP: round trips for every size and algorithm, AWS's plaintext limits, opaque decryption failures.

use arca_crypto::{CryptoError, EncryptionAlgorithm, KmsKeySpec};
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey};

use crate::keys::{RSA, key};

const OAEP: [EncryptionAlgorithm; 2] = [
    EncryptionAlgorithm::RsaesOaepSha1,
    EncryptionAlgorithm::RsaesOaepSha256,
];

#[test]
fn round_trip_at_the_limit_and_refusal_above() {
    for (spec, limits) in RSA.iter().zip([[214, 190], [342, 318], [470, 446]]) {
        let k = key(*spec);
        for (alg, max) in OAEP.iter().zip(limits) {
            assert_eq!(spec.encryption_algorithms(), &OAEP);
            for len in [0, 1, max] {
                let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ct = k.rsa_encrypt(*alg, &pt).unwrap();
                assert_eq!(ct.len(), spec.rsa_bits().unwrap() / 8);
                assert_eq!(
                    &k.rsa_decrypt(*alg, &ct).unwrap()[..],
                    &pt[..],
                    "{spec} {alg}"
                );
            }
            let err = k.rsa_encrypt(*alg, &vec![7u8; max + 1]).err().unwrap();
            let CryptoError::InvalidInput(msg) = err else {
                panic!("{err}")
            };
            assert!(msg.contains(&format!("({max} bytes)")), "{msg}");
        }
    }
}

#[test]
fn every_decryption_failure_looks_the_same() {
    let k = key(KmsKeySpec::Rsa2048);
    let ct = k
        .rsa_encrypt(EncryptionAlgorithm::RsaesOaepSha256, b"secret")
        .unwrap();
    let mut flipped = ct.clone();
    flipped[10] ^= 1;
    let other = key(KmsKeySpec::Rsa3072);
    let failures = [
        k.rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha256, &flipped),
        k.rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha1, &ct),
        k.rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha256, &ct[1..]),
        k.rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha256, &[]),
        k.rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha256, &[0xff; 256]),
        other.rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha256, &ct),
    ];
    for f in failures {
        assert_eq!(f.err(), Some(CryptoError::Integrity));
    }
}

#[test]
fn an_outside_encryptor_using_the_spki_interoperates() {
    let k = key(KmsKeySpec::Rsa2048);
    let public = PublicEncryptingKey::from_der(&k.public_key_der().unwrap()).unwrap();
    let enc = OaepPublicEncryptingKey::new(public).unwrap();
    let mut ct = vec![0u8; enc.ciphertext_size()];
    let ct = enc
        .encrypt(&OAEP_SHA256_MGF1SHA256, b"from outside", &mut ct, None)
        .unwrap();
    assert_eq!(
        &k.rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha256, ct)
            .unwrap()[..],
        b"from outside"
    );
}

#[test]
fn non_rsa_keys_and_symmetric_default_are_refused() {
    let rsa = key(KmsKeySpec::Rsa2048);
    assert!(matches!(
        rsa.rsa_encrypt(EncryptionAlgorithm::SymmetricDefault, b"x"),
        Err(CryptoError::InvalidInput(_))
    ));
    let ec = key(KmsKeySpec::EccNistP256);
    assert!(matches!(
        ec.rsa_encrypt(EncryptionAlgorithm::RsaesOaepSha256, b"x"),
        Err(CryptoError::InvalidInput(_))
    ));
    assert!(
        key(KmsKeySpec::SymmetricDefault)
            .rsa_decrypt(EncryptionAlgorithm::RsaesOaepSha1, &[0; 256])
            .is_err()
    );
}
