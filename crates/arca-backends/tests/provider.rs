//! The PKCS#11 root of trust against a real SoftHSM2 token: round trips, integrity failures, key attributes,
//! labels refused when identical or ambiguous, PIN handling, versions added and retired, concurrent use, the
//! RFC 5649 known-answer test, and recovery after the token goes away.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use arca_backends::{
    Pkcs11Error, Pkcs11RootKey, WRAP_ALG_PKCS11_AES_KW, WRAP_ALG_PKCS11_AES_KWP, WrapMechanism,
};
use arca_core::RootKeyProvider;
use arca_crypto::{Binding, CryptoError, Key256};
use common::{PIN, config, in_softhsm, test_dir, tokens_dir};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki::session::UserType;

fn binding(n: u8) -> Binding {
    Binding::new().raw(b"test").u8(n)
}

#[test]
fn wraps_unwraps_and_macs_inside_the_token() {
    in_softhsm("wraps_unwraps_and_macs_inside_the_token", || {
        let rk = Pkcs11RootKey::initialise(config()).unwrap();
        assert_eq!((rk.versions(), rk.active_version()), (vec![1], 1));
        assert_eq!(rk.wrap_alg(), WRAP_ALG_PKCS11_AES_KW);
        let key = Key256::generate().unwrap();
        let wrapped = rk.wrap(1, &binding(1), &key).unwrap();
        assert_eq!(wrapped.len(), 40, "RFC 3394 of 32 bytes");
        assert_eq!(
            rk.unwrap(1, &binding(1), &wrapped).unwrap().expose(),
            key.expose()
        );
        let mut bad = wrapped.clone();
        bad[5] ^= 1;
        let r = rk.unwrap(1, &binding(1), &bad);
        assert!(
            matches!(r, Err(CryptoError::Integrity)),
            "{:?}",
            r.err().map(|e| e.to_string())
        );
        assert!(
            rk.unwrap(7, &binding(1), &wrapped).is_err(),
            "unknown version"
        );

        let mac = rk.mac(1, &binding(1)).unwrap();
        assert_eq!(mac.len(), 32);
        assert!(rk.verify_mac(1, &binding(1), &mac).unwrap());
        assert!(!rk.verify_mac(1, &binding(2), &mac).unwrap());
        assert!(!rk.verify_mac(1, &binding(1), &mac[..31]).unwrap());
        let kcv = rk.kcv(1).unwrap();

        // A second opening (a restart) finds the same keys.
        drop(rk);
        let rk = Pkcs11RootKey::open(config()).unwrap();
        assert_eq!(
            rk.unwrap(1, &binding(1), &wrapped).unwrap().expose(),
            key.expose()
        );
        assert_eq!(rk.kcv(1).unwrap(), kcv);
        assert!(rk.verify_mac(1, &binding(1), &mac).unwrap());

        // init refuses to create a second set of keys.
        let err = Pkcs11RootKey::initialise(config())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("already holds root key objects"), "{err}");

        // The master key objects are what CRYPTO.md says; no temporary objects are left behind.
        let ctx = Pkcs11::new(common::LIB).unwrap();
        let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
        let slot = ctx.get_slots_with_token().unwrap()[0];
        let session = ctx.open_ro_session(slot).unwrap();
        let _ = session.login(UserType::User, Some(&PIN.to_owned().into()));
        let mkek = session
            .find_objects(&[Attribute::Label(b"arca-mkek-v1".to_vec())])
            .unwrap();
        assert_eq!(mkek.len(), 1);
        let attrs = session
            .get_attributes(
                mkek[0],
                &[
                    AttributeType::Token,
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Modifiable,
                    AttributeType::Wrap,
                    AttributeType::Unwrap,
                    AttributeType::Encrypt,
                    AttributeType::Sign,
                    AttributeType::KeyType,
                    AttributeType::ValueLen,
                ],
            )
            .unwrap();
        for a in &attrs {
            match a {
                Attribute::Token(v)
                | Attribute::Sensitive(v)
                | Attribute::Wrap(v)
                | Attribute::Unwrap(v) => {
                    assert!(*v, "{a:?}")
                }
                Attribute::Extractable(v)
                | Attribute::Modifiable(v)
                | Attribute::Encrypt(v)
                | Attribute::Sign(v) => {
                    assert!(!*v, "{a:?}")
                }
                Attribute::KeyType(t) => assert_eq!(*t, KeyType::AES),
                Attribute::ValueLen(l) => assert_eq!(u64::from(*l), 32),
                _ => {}
            }
        }
        let all = session
            .find_objects(&[Attribute::Class(ObjectClass::SECRET_KEY)])
            .unwrap();
        assert_eq!(all.len(), 2, "only the master KEK and the HMAC key remain");
    });
}

#[test]
fn identical_and_ambiguous_labels_are_refused() {
    in_softhsm("identical_and_ambiguous_labels_are_refused", || {
        let mut cfg = config();
        cfg.hmac_label = cfg.mkek_label.clone();
        let err = Pkcs11RootKey::initialise(cfg).err().unwrap().to_string();
        assert!(err.contains("must have different labels"), "{err}");

        drop(Pkcs11RootKey::initialise(config()).unwrap());
        // A second object under the master KEK's label makes it ambiguous.
        let ctx = Pkcs11::new(common::LIB).unwrap();
        let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
        let slot = ctx.get_slots_with_token().unwrap()[0];
        let session = ctx.open_rw_session(slot).unwrap();
        let _ = session.login(UserType::User, Some(&PIN.to_owned().into()));
        session
            .create_object(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::Token(true),
                Attribute::Label(b"arca-mkek-v1".to_vec()),
                Attribute::Value(vec![7; 32]),
            ])
            .unwrap();
        let err = Pkcs11RootKey::open(config()).err().unwrap().to_string();
        assert!(
            err.contains("2 objects") && err.contains("arca-mkek-v1"),
            "{err}"
        );

        // Other labels with no keys: a clear message naming `arca init`.
        let mut other = config();
        other.mkek_label = "other-mkek".into();
        other.hmac_label = "other-hmac".into();
        let err = Pkcs11RootKey::open(other).err().unwrap().to_string();
        assert!(
            err.contains("holds no root key objects") && err.contains("arca init --root pkcs11"),
            "{err}"
        );
    });
}

#[test]
fn pin_file_mode_and_wrong_pin_are_refused() {
    in_softhsm("pin_file_mode_and_wrong_pin_are_refused", || {
        drop(Pkcs11RootKey::initialise(config()).unwrap());
        let pin_file = test_dir().join("pin");
        std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();
        std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut cfg = config();
        cfg.pin_file = Some(pin_file.clone());
        let err = Pkcs11RootKey::open(cfg.clone()).err().unwrap().to_string();
        assert!(err.contains("0644") && err.contains("chmod 0400"), "{err}");
        std::fs::set_permissions(&pin_file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let rk = Pkcs11RootKey::open(cfg).unwrap();
        assert_eq!(rk.versions(), vec![1]);
        drop(rk);

        let wrong = test_dir().join("wrong-pin");
        std::fs::write(&wrong, "9999").unwrap();
        std::fs::set_permissions(&wrong, std::fs::Permissions::from_mode(0o400)).unwrap();
        let mut cfg = config();
        cfg.pin_file = Some(wrong);
        let err = Pkcs11RootKey::open(cfg).err().unwrap();
        assert!(matches!(err, Pkcs11Error::Login { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("refused the PIN") && msg.contains("PinIncorrect"),
            "{msg}"
        );
        assert!(!msg.contains("9999"));

        let mut cfg = config();
        cfg.token_label = "no-such-token".into();
        let err = Pkcs11RootKey::open(cfg).err().unwrap().to_string();
        assert!(err.contains("no token with this label"), "{err}");
    });
}

#[test]
fn many_tasks_share_the_session_pool() {
    in_softhsm("many_tasks_share_the_session_pool", || {
        let rk: Arc<dyn RootKeyProvider> = Arc::new(Pkcs11RootKey::initialise(config()).unwrap());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for t in 0..32u8 {
                let rk = rk.clone();
                tasks.push(tokio::task::spawn_blocking(move || {
                    for _ in 0..10 {
                        let key = Key256::generate().unwrap();
                        let w = rk.wrap(1, &binding(t), &key).unwrap();
                        let mac = rk.mac(1, &binding(t)).unwrap();
                        assert!(rk.verify_mac(1, &binding(t), &mac).unwrap());
                        assert_eq!(
                            rk.unwrap(1, &binding(t), &w).unwrap().expose(),
                            key.expose()
                        );
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
    });
}

#[test]
fn versions_are_added_and_retired() {
    in_softhsm("versions_are_added_and_retired", || {
        let rk = Pkcs11RootKey::initialise(config()).unwrap();
        let other = Pkcs11RootKey::open(config()).unwrap();
        let key = Key256::generate().unwrap();
        let w1 = rk.wrap(1, &binding(1), &key).unwrap();
        let kcv1 = rk.kcv(1).unwrap();
        assert_eq!(rk.add_version().unwrap(), 2);
        assert_eq!((rk.versions(), rk.active_version()), (vec![1, 2], 2));
        assert_ne!(rk.kcv(2).unwrap(), kcv1);
        assert_eq!(rk.kcv(1).unwrap(), kcv1);
        let w2 = rk.wrap(2, &binding(1), &key).unwrap();
        assert_ne!(w1, w2);
        assert_eq!(
            rk.unwrap(2, &binding(1), &w2).unwrap().expose(),
            key.expose()
        );
        // Another process learns the new version on reload.
        assert_eq!(other.versions(), vec![1]);
        other.reload().unwrap();
        assert_eq!(other.versions(), vec![1, 2]);
        assert_eq!(
            other.unwrap(2, &binding(1), &w2).unwrap().expose(),
            key.expose()
        );

        assert!(matches!(
            rk.retire_version(2),
            Err(CryptoError::Unsupported(_))
        ));
        rk.retire_version(1).unwrap();
        assert_eq!(rk.versions(), vec![2]);
        assert!(rk.unwrap(1, &binding(1), &w1).is_err());
        assert!(rk.retire_version(1).is_err(), "already gone");
        // The other instance notices the retired handles and re-scans by itself.
        assert!(other.unwrap(1, &binding(1), &w1).is_err());
        other.reload().unwrap();
        assert_eq!(other.versions(), vec![2]);
        drop(rk);
        assert_eq!(Pkcs11RootKey::open(config()).unwrap().versions(), vec![2]);
    });
}

#[test]
fn kwp_runs_only_after_its_known_answer_test() {
    in_softhsm("kwp_runs_only_after_its_known_answer_test", || {
        drop(Pkcs11RootKey::initialise(config()).unwrap());
        let kw = Pkcs11RootKey::open(config()).unwrap();
        let key = Key256::generate().unwrap();
        let old = kw.wrap(1, &binding(1), &key).unwrap();
        let mut cfg = config();
        cfg.wrap_mechanism = WrapMechanism::parse("CKM_AES_KEY_WRAP_PAD").unwrap();
        let kwp = Pkcs11RootKey::open(cfg).unwrap();
        assert_eq!(kwp.wrap_alg(), WRAP_ALG_PKCS11_AES_KWP);
        let w = kwp.wrap(1, &binding(1), &key).unwrap();
        assert_ne!(w, old);
        assert_eq!(
            kwp.unwrap(1, &binding(1), &w).unwrap().expose(),
            key.expose()
        );
        assert_eq!(
            kwp.unwrap(1, &binding(1), &old).unwrap().expose(),
            key.expose(),
            "KW rows stay readable"
        );
        assert!(WrapMechanism::parse("CKM_AES_GCM").is_err());
    });
}

#[test]
fn a_token_that_goes_away_answers_unavailable_and_recovers() {
    in_softhsm(
        "a_token_that_goes_away_answers_unavailable_and_recovers",
        || {
            let rk = Pkcs11RootKey::initialise(config()).unwrap();
            let key = Key256::generate().unwrap();
            let w = rk.wrap(1, &binding(1), &key).unwrap();
            let away = test_dir().join("tokens-away");
            std::fs::rename(tokens_dir(), &away).unwrap();
            let err = rk.unwrap(1, &binding(1), &w).err().unwrap();
            match &err {
                CryptoError::Unavailable(m) => {
                    assert!(m.contains("the HSM (token \"arca\") is unavailable"), "{m}")
                }
                other => panic!("expected Unavailable, got {other}"),
            }
            assert!(matches!(
                rk.mac(1, &binding(1)),
                Err(CryptoError::Unavailable(_))
            ));
            std::fs::rename(&away, tokens_dir()).unwrap();
            // Calls fail fast for a quarter second after a failed reconnection, then try again.
            std::thread::sleep(std::time::Duration::from_millis(300));
            assert_eq!(
                rk.unwrap(1, &binding(1), &w).unwrap().expose(),
                key.expose()
            );
            assert!(
                rk.verify_mac(1, &binding(1), &rk.mac(1, &binding(1)).unwrap())
                    .unwrap()
            );
        },
    );
}
