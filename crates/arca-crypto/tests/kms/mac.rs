//! GenerateMac/VerifyMac through `KeyMaterial` for every HMAC spec (RFC 4231 known answers are in the
//! crate's unit tests, since RFC keys have lengths KMS keys never have).

use arca_crypto::{CryptoError, KeyMaterial, KmsKeySpec, MacAlgorithm};
use aws_lc_rs::hmac;
use zeroize::Zeroizing;

use crate::keys::key;

#[test]
fn every_spec_round_trips_and_matches_plain_hmac() {
    let algs = [
        (
            KmsKeySpec::Hmac224,
            MacAlgorithm::HmacSha224,
            hmac::HMAC_SHA224,
            28,
        ),
        (
            KmsKeySpec::Hmac256,
            MacAlgorithm::HmacSha256,
            hmac::HMAC_SHA256,
            32,
        ),
        (
            KmsKeySpec::Hmac384,
            MacAlgorithm::HmacSha384,
            hmac::HMAC_SHA384,
            48,
        ),
        (
            KmsKeySpec::Hmac512,
            MacAlgorithm::HmacSha512,
            hmac::HMAC_SHA512,
            64,
        ),
    ];
    for (spec, alg, plain, len) in algs {
        let k = key(spec);
        assert_eq!(spec.mac_algorithms(), &[alg]);
        let mac = k.mac(alg, b"message").unwrap();
        assert_eq!(mac.len(), len);
        let expected = hmac::sign(&hmac::Key::new(plain, k.expose()), b"message");
        assert_eq!(mac, expected.as_ref());
        assert!(k.verify_mac(alg, b"message", &mac).unwrap());
        assert!(!k.verify_mac(alg, b"massage", &mac).unwrap());
        assert!(!k.verify_mac(alg, b"message", &mac[..len - 1]).unwrap());
        assert!(!k.verify_mac(alg, b"message", &[]).unwrap());
        let mut bad = mac.clone();
        bad[0] ^= 0x80;
        assert!(!k.verify_mac(alg, b"message", &bad).unwrap());
    }
}

#[test]
fn fixed_key_answer() {
    // HMAC-SHA-256 with the 32-byte key 00..1f over "abc", as Python's hmac computes it.
    let bytes: Vec<u8> = (0u8..32).collect();
    let k = KeyMaterial::from_bytes(KmsKeySpec::Hmac256, Zeroizing::new(bytes)).unwrap();
    let mac = k.mac(MacAlgorithm::HmacSha256, b"abc").unwrap();
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, FIXED_KEY_ABC);
}

const FIXED_KEY_ABC: &str = "f0133729c4163dede81e21cd47839256da58171238c8a0d874397c73b14e1e47";

#[test]
fn other_algorithms_and_keys_are_refused() {
    let k = key(KmsKeySpec::Hmac256);
    assert!(matches!(
        k.mac(MacAlgorithm::HmacSha512, b"m"),
        Err(CryptoError::InvalidInput(_))
    ));
    assert!(
        key(KmsKeySpec::SymmetricDefault)
            .mac(MacAlgorithm::HmacSha256, b"m")
            .is_err()
    );
    assert!(
        key(KmsKeySpec::Rsa2048)
            .verify_mac(MacAlgorithm::HmacSha256, b"m", b"x")
            .is_err()
    );
}
