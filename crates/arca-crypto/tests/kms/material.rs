//! Generation, lengths, parsing back, spec checks and public keys.

use arca_crypto::{CryptoError, KeyMaterial, KmsKeySpec};
use zeroize::Zeroizing;

use crate::keys::key;

#[test]
fn secret_lengths() {
    for (spec, len) in [
        (KmsKeySpec::SymmetricDefault, 32),
        (KmsKeySpec::Hmac224, 28),
        (KmsKeySpec::Hmac256, 32),
        (KmsKeySpec::Hmac384, 48),
        (KmsKeySpec::Hmac512, 64),
    ] {
        assert_eq!(key(spec).expose().len(), len, "{spec}");
        assert!(key(spec).public_key_der().is_err());
    }
    assert_ne!(
        KeyMaterial::generate(KmsKeySpec::SymmetricDefault)
            .unwrap()
            .expose(),
        key(KmsKeySpec::SymmetricDefault).expose()
    );
}

#[test]
fn every_spec_round_trips_through_bytes() {
    for spec in KmsKeySpec::ALL {
        let original = key(*spec);
        let again =
            KeyMaterial::from_bytes(*spec, Zeroizing::new(original.expose().to_vec())).unwrap();
        assert_eq!(again.spec(), *spec);
        if spec.is_asymmetric() {
            assert_eq!(
                again.public_key_der().unwrap(),
                original.public_key_der().unwrap()
            );
            // SubjectPublicKeyInfo is a DER SEQUENCE.
            assert_eq!(original.public_key_der().unwrap()[0], 0x30);
        }
    }
}

#[test]
fn material_of_another_spec_is_refused() {
    let cases = [
        (KmsKeySpec::Rsa2048, KmsKeySpec::Rsa3072),
        (KmsKeySpec::Rsa4096, KmsKeySpec::Rsa2048),
        (KmsKeySpec::EccNistP256, KmsKeySpec::EccSecgP256k1),
        (KmsKeySpec::EccNistP384, KmsKeySpec::EccNistP256),
        (KmsKeySpec::EccNistEdwards25519, KmsKeySpec::EccNistP521),
        (KmsKeySpec::EccNistP256, KmsKeySpec::EccNistEdwards25519),
        (KmsKeySpec::Hmac224, KmsKeySpec::Hmac256),
        (KmsKeySpec::Hmac512, KmsKeySpec::SymmetricDefault),
        (KmsKeySpec::Rsa2048, KmsKeySpec::EccNistP256),
    ];
    for (have, claim) in cases {
        let bytes = Zeroizing::new(key(have).expose().to_vec());
        assert!(
            matches!(
                KeyMaterial::from_bytes(claim, bytes),
                Err(CryptoError::InvalidKeyMaterial(_))
            ),
            "{have} as {claim}"
        );
    }
    let junk = Zeroizing::new(vec![0x30, 0x03, 0x02, 0x01, 0x00]);
    assert!(KeyMaterial::from_bytes(KmsKeySpec::Rsa2048, junk).is_err());
}

#[test]
fn errors_do_not_leak_material() {
    let k = key(KmsKeySpec::Hmac256);
    let err = KeyMaterial::from_bytes(KmsKeySpec::Hmac512, Zeroizing::new(k.expose().to_vec()))
        .err()
        .unwrap()
        .to_string();
    assert_eq!(err, "key material does not fit key spec HMAC_512");
}

#[test]
fn material_can_be_cached_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<KeyMaterial>();
}
