//! KmsService cryptographic operations over a real SQLite store: symmetric and RSA encrypt/decrypt, the error
//! kinds of Decrypt (IncorrectKey, InvalidCiphertext across projects and on tampering), ReEncrypt, data keys
//! and pairs, GenerateRandom, Sign/Verify, GetPublicKey, GenerateMac/VerifyMac; access keys.

mod kms_common;

use arca_core::{KmsErrorKind, Role};
use arca_crypto::{
    EncryptionAlgorithm, EncryptionContext, KmsKeySpec, KmsKeyUsage, MacAlgorithm, MessageType,
    SigningAlgorithm,
};
use kms_common::*;

const SYM: EncryptionAlgorithm = EncryptionAlgorithm::SymmetricDefault;

fn ctx(v: &str) -> EncryptionContext {
    [("k".to_owned(), v.to_owned())].into_iter().collect()
}

#[tokio::test]
async fn symmetric_encrypt_decrypt_and_its_errors() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let a = symmetric(&w, &p).await;
    let b = symmetric(&w, &p).await;
    let (ida, idb) = (a.id.to_string(), b.id.to_string());
    kms.create_alias(&p, "alias/a", &ida).await.unwrap();

    let enc = kms
        .encrypt(&p, "alias/a", b"secret", &ctx("1"), SYM)
        .await
        .unwrap();
    assert_eq!(enc.key_id, a.id);
    let dec = kms
        .decrypt(&p, None, &enc.ciphertext, &ctx("1"), SYM)
        .await
        .unwrap();
    assert_eq!((&dec.plaintext[..], dec.key_id), (&b"secret"[..], a.id));
    let dec = kms
        .decrypt(&p, Some("alias/a"), &enc.ciphertext, &ctx("1"), SYM)
        .await
        .unwrap();
    assert_eq!(&dec.plaintext[..], b"secret");

    assert_eq!(
        kind(
            kms.decrypt(&p, Some(&idb), &enc.ciphertext, &ctx("1"), SYM)
                .await
        ),
        KmsErrorKind::IncorrectKey
    );
    assert_eq!(
        kind(kms.decrypt(&p, None, &enc.ciphertext, &ctx("2"), SYM).await),
        KmsErrorKind::InvalidCiphertext
    );
    let mut tampered = enc.ciphertext.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        kind(kms.decrypt(&p, None, &tampered, &ctx("1"), SYM).await),
        KmsErrorKind::InvalidCiphertext
    );
    assert_eq!(
        kind(kms.decrypt(&p, None, b"garbage", &ctx("1"), SYM).await),
        KmsErrorKind::InvalidCiphertext
    );
    // Another project cannot decrypt it, even knowing nothing but the blob.
    let other = who("p2", "bob", "admin");
    assert_eq!(
        kind(
            kms.decrypt(&other, None, &enc.ciphertext, &ctx("1"), SYM)
                .await
        ),
        KmsErrorKind::InvalidCiphertext
    );
    assert_eq!(
        kind(kms.encrypt(&other, &ida, b"x", &ctx("1"), SYM).await),
        KmsErrorKind::NotFound
    );

    assert_eq!(
        kind(kms.encrypt(&p, &ida, &[0u8; 4097], &ctx("1"), SYM).await),
        KmsErrorKind::Validation
    );
    kms.encrypt(&p, &ida, &[0u8; 4096], &ctx("1"), SYM)
        .await
        .unwrap();
    assert_eq!(
        kind(
            kms.encrypt(
                &p,
                &ida,
                b"x",
                &ctx("1"),
                EncryptionAlgorithm::RsaesOaepSha256
            )
            .await
        ),
        KmsErrorKind::InvalidKeyUsage
    );

    // ReEncrypt from a to b, then decrypt under b.
    let re = kms
        .re_encrypt(
            &p,
            &enc.ciphertext,
            &ctx("1"),
            None,
            &idb,
            &ctx("3"),
            SYM,
            SYM,
        )
        .await
        .unwrap();
    assert_eq!((re.source_key_id, re.key_id), (a.id, b.id));
    let out = kms
        .decrypt(&p, None, &re.ciphertext, &ctx("3"), SYM)
        .await
        .unwrap();
    assert_eq!((&out.plaintext[..], out.key_id), (&b"secret"[..], b.id));
    assert_eq!(
        kind(
            kms.re_encrypt(
                &p,
                &enc.ciphertext,
                &ctx("1"),
                Some(&idb),
                &ida,
                &ctx("3"),
                SYM,
                SYM
            )
            .await
        ),
        KmsErrorKind::IncorrectKey
    );

    // Data keys.
    let dk = kms
        .generate_data_key(&p, &ida, 32, &ctx("d"))
        .await
        .unwrap();
    assert_eq!(dk.plaintext.len(), 32);
    let back = kms
        .decrypt(&p, None, &dk.ciphertext, &ctx("d"), SYM)
        .await
        .unwrap();
    assert_eq!(&back.plaintext[..], &dk.plaintext[..]);
    for n in [0, 1025] {
        assert_eq!(
            kind(kms.generate_data_key(&p, &ida, n, &ctx("d")).await),
            KmsErrorKind::Validation
        );
    }
    let pair = kms
        .generate_data_key_pair(&p, &ida, KmsKeySpec::EccNistP256, &ctx("e"))
        .await
        .unwrap();
    assert!(!pair.public_der.is_empty());
    let private = kms
        .decrypt(&p, None, &pair.private_ciphertext, &ctx("e"), SYM)
        .await
        .unwrap();
    assert_eq!(&private.plaintext[..], &pair.private_plaintext[..]);
    assert_eq!(
        kind(
            kms.generate_data_key_pair(&p, &ida, KmsKeySpec::Hmac256, &ctx("e"))
                .await
        ),
        KmsErrorKind::Validation
    );

    assert_eq!(kms.generate_random(&p, 1024).await.unwrap().len(), 1024);
    assert_eq!(
        kind(kms.generate_random(&p, 0).await),
        KmsErrorKind::Validation
    );
    assert_eq!(
        kind(kms.generate_random(&p, 1025).await),
        KmsErrorKind::Validation
    );

    // Symmetric keys have no public key and do not sign.
    assert_eq!(
        kind(kms.get_public_key(&p, &ida).await),
        KmsErrorKind::UnsupportedOperation
    );
    assert_eq!(
        kind(
            kms.sign(
                &p,
                &ida,
                b"m",
                MessageType::Raw,
                SigningAlgorithm::EcdsaSha256
            )
            .await
        ),
        KmsErrorKind::InvalidKeyUsage
    );
}

#[tokio::test]
async fn rsa_encryption_and_signing() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let rsa = kms
        .create_key(
            &p,
            request(KmsKeySpec::Rsa2048, KmsKeyUsage::EncryptDecrypt),
        )
        .await
        .unwrap();
    let id = rsa.id.to_string();
    let oaep = EncryptionAlgorithm::RsaesOaepSha256;
    let empty = EncryptionContext::empty();
    let enc = kms.encrypt(&p, &id, b"to rsa", &empty, oaep).await.unwrap();
    let dec = kms
        .decrypt(&p, Some(&id), &enc.ciphertext, &empty, oaep)
        .await
        .unwrap();
    assert_eq!(&dec.plaintext[..], b"to rsa");
    assert_eq!(
        kind(kms.decrypt(&p, None, &enc.ciphertext, &empty, oaep).await),
        KmsErrorKind::Validation
    );
    let mut bad = enc.ciphertext.clone();
    bad[0] ^= 0x55;
    assert_eq!(
        kind(kms.decrypt(&p, Some(&id), &bad, &empty, oaep).await),
        KmsErrorKind::InvalidCiphertext
    );
    assert_eq!(
        kind(kms.encrypt(&p, &id, b"x", &empty, SYM).await),
        KmsErrorKind::InvalidKeyUsage
    );
    assert!(!kms.get_public_key(&p, &id).await.unwrap().der.is_empty());
    assert_eq!(
        kind(
            kms.sign(
                &p,
                &id,
                b"m",
                MessageType::Raw,
                SigningAlgorithm::RsassaPssSha256
            )
            .await
        ),
        KmsErrorKind::InvalidKeyUsage
    );

    let ec = kms
        .create_key(
            &p,
            request(KmsKeySpec::EccNistP256, KmsKeyUsage::SignVerify),
        )
        .await
        .unwrap();
    let ec_id = ec.id.to_string();
    let alg = SigningAlgorithm::EcdsaSha256;
    let signed = kms
        .sign(&p, &ec_id, b"message", MessageType::Raw, alg)
        .await
        .unwrap();
    kms.verify(
        &p,
        &ec_id,
        b"message",
        MessageType::Raw,
        &signed.signature,
        alg,
    )
    .await
    .unwrap();
    assert_eq!(
        kind(
            kms.verify(
                &p,
                &ec_id,
                b"other",
                MessageType::Raw,
                &signed.signature,
                alg
            )
            .await
        ),
        KmsErrorKind::KmsInvalidSignature
    );
    assert_eq!(
        kind(
            kms.sign(
                &p,
                &ec_id,
                b"m",
                MessageType::Raw,
                SigningAlgorithm::EcdsaSha384
            )
            .await
        ),
        KmsErrorKind::InvalidKeyUsage
    );
    assert_eq!(
        kind(
            kms.sign(&p, &ec_id, &[0u8; 4097], MessageType::Raw, alg)
                .await
        ),
        KmsErrorKind::Validation
    );
    assert_eq!(
        kind(kms.encrypt(&p, &ec_id, b"x", &empty, SYM).await),
        KmsErrorKind::InvalidKeyUsage
    );
    let public = kms.get_public_key(&p, &ec_id).await.unwrap();
    assert_eq!(public.key.id, ec.id);
    kms.disable_key(&p, &ec_id).await.unwrap();
    assert_eq!(
        kind(kms.sign(&p, &ec_id, b"m", MessageType::Raw, alg).await),
        KmsErrorKind::Disabled
    );
}

#[tokio::test]
async fn hmac_generate_and_verify() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let key = kms
        .create_key(
            &p,
            request(KmsKeySpec::Hmac256, KmsKeyUsage::GenerateVerifyMac),
        )
        .await
        .unwrap();
    let id = key.id.to_string();
    let alg = MacAlgorithm::HmacSha256;
    let mac = kms.generate_mac(&p, &id, b"msg", alg).await.unwrap();
    assert_eq!(mac.mac.len(), 32);
    assert_eq!(
        kms.verify_mac(&p, &id, b"msg", &mac.mac, alg)
            .await
            .unwrap(),
        key.id
    );
    assert_eq!(
        kind(kms.verify_mac(&p, &id, b"msh", &mac.mac, alg).await),
        KmsErrorKind::KmsInvalidMac
    );
    assert_eq!(
        kind(
            kms.generate_mac(&p, &id, b"msg", MacAlgorithm::HmacSha512)
                .await
        ),
        KmsErrorKind::InvalidKeyUsage
    );
    assert_eq!(
        kind(
            kms.encrypt(&p, &id, b"x", &EncryptionContext::empty(), SYM)
                .await
        ),
        KmsErrorKind::InvalidKeyUsage
    );
    let sym = symmetric(&w, &p).await.id.to_string();
    assert_eq!(
        kind(kms.generate_mac(&p, &sym, b"msg", alg).await),
        KmsErrorKind::InvalidKeyUsage
    );
}

#[tokio::test]
async fn access_keys_issue_look_up_and_revoke() {
    let w = world().await;
    let ak = &w.services.access_keys;
    let issued = ak
        .create("p1", "alice", &[Role::Admin, Role::Observer])
        .await
        .unwrap();
    assert_eq!(issued.id.len(), 20);
    assert!(issued.id.starts_with("AKIA"));
    assert!(
        issued.id[4..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert_eq!(issued.secret.len(), 40);
    let (principal, secret) = ak.secret_for(&issued.id).await.unwrap().unwrap();
    assert_eq!(principal.project_id, "p1");
    assert_eq!(principal.user_id, "alice");
    assert_eq!(principal.roles, [Role::Admin, Role::Observer]);
    assert_eq!(&secret[..], issued.secret.as_bytes());
    // Stored sealed, never in clear.
    use arca_core::Store;
    let row = w.store.get_access_key(&issued.id).await.unwrap().unwrap();
    assert!(
        !row.sealed_secret
            .windows(40)
            .any(|win| win == issued.secret.as_bytes())
    );

    assert!(ak.revoke(&issued.id).await.unwrap());
    assert!(ak.secret_for(&issued.id).await.unwrap().is_none());
    assert!(!ak.revoke("AKIAUNKNOWN").await.unwrap());
    assert!(ak.secret_for("AKIAUNKNOWN").await.unwrap().is_none());
    assert!(ak.create("", "alice", &[]).await.is_err());
    let lines: Vec<String> = w
        .store
        .audit_records()
        .await
        .unwrap()
        .iter()
        .map(|r| r.json_line())
        .collect();
    assert!(lines.iter().any(|l| l.contains("access_key.create")));
    assert!(lines.iter().any(|l| l.contains("access_key.revoke")));
}

#[tokio::test]
async fn sealed_material_is_bound_to_spec_usage_version_and_project() {
    let w = world().await;
    let keys = &w.services.keys;
    let sealed = keys
        .seal_kms_material("p1", "k", 1, "ECC_NIST_P256", "SIGN_VERIFY", b"material")
        .await
        .unwrap();
    let opened = keys
        .open_kms_material("p1", "k", 1, "ECC_NIST_P256", "SIGN_VERIFY", &sealed)
        .await
        .unwrap();
    assert_eq!(&opened[..], b"material");
    for (project, id, version, spec, usage) in [
        ("p1", "k", 1, "ECC_NIST_P256", "ENCRYPT_DECRYPT"),
        ("p1", "k", 1, "ECC_NIST_P384", "SIGN_VERIFY"),
        ("p1", "k", 2, "ECC_NIST_P256", "SIGN_VERIFY"),
        ("p1", "j", 1, "ECC_NIST_P256", "SIGN_VERIFY"),
        ("p2", "k", 1, "ECC_NIST_P256", "SIGN_VERIFY"),
    ] {
        assert!(matches!(
            keys.open_kms_material(project, id, version, spec, usage, &sealed)
                .await,
            Err(arca_core::CoreError::Integrity(_))
        ));
    }
    // The secret-payload seal of the same bytes and ids does not open as KMS material.
    let payload = keys
        .seal(
            "p1",
            arca_core::ObjectKind::KmsKeyMaterial,
            "k",
            1,
            b"material",
        )
        .await
        .unwrap();
    assert!(
        keys.open_kms_material("p1", "k", 1, "ECC_NIST_P256", "SIGN_VERIFY", &payload)
            .await
            .is_err()
    );
}
