//! KmsService key management over a real SQLite store: create/describe/list, description, enable/disable,
//! deletion scheduling and the due deletion (ManualClock), aliases, tags, rotation (old ciphertexts still
//! decrypt), roles, cross-project refusal, concurrent creates, audit.

mod kms_common;

use arca_core::{Clock, CreateKeyRequest, KeyState, KmsErrorKind, RotationKind};
use arca_crypto::{EncryptionAlgorithm, EncryptionContext, KmsKeySpec, KmsKeyUsage};
use kms_common::*;
use time::Duration;

#[tokio::test]
async fn create_describe_list_and_refs() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(symmetric(&w, &p).await.id);
    }
    let key = kms.describe_key(&p, &ids[0].to_string()).await.unwrap();
    assert_eq!(key.key_spec, KmsKeySpec::SymmetricDefault);
    assert_eq!(key.key_usage, KmsKeyUsage::EncryptDecrypt);
    assert_eq!(key.state, KeyState::Enabled);
    assert_eq!(key.current_version, 1);
    assert_eq!(
        key.arn("eu-west-1"),
        format!("arn:aws:kms:eu-west-1:p1:key/{}", key.id)
    );
    // Any region in an ARN resolves; another project's account does not.
    let by_arn = kms.describe_key(&p, &key.arn("us-east-2")).await.unwrap();
    assert_eq!(by_arn.id, key.id);
    let foreign_arn = format!("arn:aws:kms:us-east-1:p2:key/{}", key.id);
    assert_eq!(
        kind(kms.describe_key(&p, &foreign_arn).await),
        KmsErrorKind::NotFound
    );
    assert_eq!(
        kind(
            kms.describe_key(&p, &uuid::Uuid::now_v7().to_string())
                .await
        ),
        KmsErrorKind::NotFound
    );

    let page = kms.list_keys(&p, Some(2), None).await.unwrap();
    assert_eq!(page.keys.len(), 2);
    let marker = page.next_marker.unwrap();
    let rest = kms.list_keys(&p, Some(2), Some(&marker)).await.unwrap();
    assert_eq!(rest.keys.len(), 1);
    assert!(rest.next_marker.is_none());
    assert_eq!(
        kind(kms.list_keys(&p, None, Some("junk")).await),
        KmsErrorKind::InvalidMarker
    );
    assert_eq!(
        kind(kms.list_keys(&p, Some(0), None).await),
        KmsErrorKind::Validation
    );
    // Another project sees none of them.
    let other = who("p2", "bob", "admin");
    assert!(
        kms.list_keys(&other, None, None)
            .await
            .unwrap()
            .keys
            .is_empty()
    );
    assert_eq!(
        kind(kms.describe_key(&other, &key.id.to_string()).await),
        KmsErrorKind::NotFound
    );

    // Validation on create.
    let long = CreateKeyRequest {
        description: "x".repeat(8193),
        ..CreateKeyRequest::default()
    };
    assert_eq!(
        kind(kms.create_key(&p, long).await),
        KmsErrorKind::Validation
    );
    let mismatched = request(KmsKeySpec::EccNistP256, KmsKeyUsage::EncryptDecrypt);
    assert_eq!(
        kind(kms.create_key(&p, mismatched).await),
        KmsErrorKind::Validation
    );
    let hmac_default = CreateKeyRequest {
        key_spec: Some(KmsKeySpec::Hmac256),
        ..CreateKeyRequest::default()
    };
    assert_eq!(
        kind(kms.create_key(&p, hmac_default).await),
        KmsErrorKind::Validation
    );
    let bad_tag = CreateKeyRequest {
        tags: vec![("aws:x".into(), "v".into())],
        ..CreateKeyRequest::default()
    };
    assert_eq!(kind(kms.create_key(&p, bad_tag).await), KmsErrorKind::Tag);
}

#[tokio::test]
async fn description_enable_disable_and_deletion() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let key = symmetric(&w, &p).await;
    let id = key.id.to_string();
    kms.update_key_description(&p, &id, "new words")
        .await
        .unwrap();
    assert_eq!(
        kms.describe_key(&p, &id).await.unwrap().description,
        "new words"
    );

    let ctx = EncryptionContext::empty();
    let sym = EncryptionAlgorithm::SymmetricDefault;
    let blob = kms
        .encrypt(&p, &id, b"hello", &ctx, sym)
        .await
        .unwrap()
        .ciphertext;
    kms.disable_key(&p, &id).await.unwrap();
    assert_eq!(
        kind(kms.encrypt(&p, &id, b"x", &ctx, sym).await),
        KmsErrorKind::Disabled
    );
    assert_eq!(
        kind(kms.decrypt(&p, None, &blob, &ctx, sym).await),
        KmsErrorKind::Disabled
    );
    kms.enable_key(&p, &id).await.unwrap();
    assert_eq!(
        &kms.decrypt(&p, None, &blob, &ctx, sym)
            .await
            .unwrap()
            .plaintext[..],
        b"hello"
    );

    assert_eq!(
        kind(kms.schedule_key_deletion(&p, &id, Some(6)).await),
        KmsErrorKind::Validation
    );
    assert_eq!(
        kind(kms.schedule_key_deletion(&p, &id, Some(31)).await),
        KmsErrorKind::Validation
    );
    assert_eq!(
        kind(kms.cancel_key_deletion(&p, &id).await),
        KmsErrorKind::KmsInvalidState
    );
    let pending = kms.schedule_key_deletion(&p, &id, None).await.unwrap();
    assert_eq!(pending.state, KeyState::PendingDeletion);
    assert_eq!(
        pending.deletion_date,
        Some(w.clock.now() + Duration::days(30))
    );
    assert_eq!(
        kind(kms.encrypt(&p, &id, b"x", &ctx, sym).await),
        KmsErrorKind::KmsInvalidState
    );
    assert_eq!(
        kind(kms.enable_key(&p, &id).await),
        KmsErrorKind::KmsInvalidState
    );
    assert_eq!(
        kind(kms.update_key_description(&p, &id, "x").await),
        KmsErrorKind::KmsInvalidState
    );
    assert_eq!(
        kind(kms.schedule_key_deletion(&p, &id, None).await),
        KmsErrorKind::KmsInvalidState
    );
    let back = kms.cancel_key_deletion(&p, &id).await.unwrap();
    assert_eq!((back.state, back.deletion_date), (KeyState::Disabled, None));

    // Scheduled again with 7 days: not gone after 6, gone after 7 (with its alias and versions).
    kms.create_alias(&p, "alias/doomed", &id).await.unwrap();
    kms.schedule_key_deletion(&p, &id, Some(7)).await.unwrap();
    w.clock.advance(Duration::days(6));
    assert_eq!(kms.run_due(w.clock.now()).await.unwrap(), (0, 0));
    assert!(kms.describe_key(&p, &id).await.is_ok());
    w.clock.advance(Duration::days(1));
    // Through the sweeper, as `arca server` runs it.
    w.services.expiry().sweep(Duration::days(1)).await.unwrap();
    assert_eq!(
        kind(kms.describe_key(&p, &id).await),
        KmsErrorKind::NotFound
    );
    assert_eq!(
        kind(kms.describe_key(&p, "alias/doomed").await),
        KmsErrorKind::NotFound
    );
    assert_eq!(
        kind(kms.decrypt(&p, None, &blob, &ctx, sym).await),
        KmsErrorKind::InvalidCiphertext
    );
}

#[tokio::test]
async fn aliases() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let a = symmetric(&w, &p).await;
    let b = symmetric(&w, &p).await;
    let hmac = kms
        .create_key(
            &p,
            request(KmsKeySpec::Hmac256, KmsKeyUsage::GenerateVerifyMac),
        )
        .await
        .unwrap();
    let (ida, idb) = (a.id.to_string(), b.id.to_string());
    kms.create_alias(&p, "alias/app", &ida).await.unwrap();
    assert_eq!(kms.describe_key(&p, "alias/app").await.unwrap().id, a.id);
    assert_eq!(
        kms.describe_key(&p, "arn:aws:kms:eu-central-1:p1:alias/app")
            .await
            .unwrap()
            .id,
        a.id
    );
    assert_eq!(
        kind(kms.create_alias(&p, "alias/app", &idb).await),
        KmsErrorKind::AlreadyExists
    );
    for bad in [
        "app",
        "alias/aws/app",
        "alias/a b",
        &format!("alias/{}", "x".repeat(251)),
    ] {
        assert_eq!(
            kind(kms.create_alias(&p, bad, &ida).await),
            KmsErrorKind::InvalidAliasName,
            "{bad}"
        );
    }
    assert_eq!(
        kind(
            kms.create_alias(&p, "alias/x", &uuid::Uuid::now_v7().to_string())
                .await
        ),
        KmsErrorKind::NotFound
    );
    // The same name in another project is another alias.
    let other = who("p2", "bob", "creator");
    let c = symmetric(&w, &other).await;
    kms.create_alias(&other, "alias/app", &c.id.to_string())
        .await
        .unwrap();
    assert_eq!(
        kind(kms.create_alias(&other, "alias/steal", &ida).await),
        KmsErrorKind::NotFound
    );

    kms.update_alias(&p, "alias/app", &idb).await.unwrap();
    assert_eq!(kms.describe_key(&p, "alias/app").await.unwrap().id, b.id);
    assert_eq!(
        kind(
            kms.update_alias(&p, "alias/app", &hmac.id.to_string())
                .await
        ),
        KmsErrorKind::Validation
    );
    assert_eq!(
        kind(kms.update_alias(&p, "alias/none", &ida).await),
        KmsErrorKind::NotFound
    );
    kms.create_alias(&p, "alias/b2", &idb).await.unwrap();
    kms.create_alias(&p, "alias/c3", &ida).await.unwrap();

    let page = kms.list_aliases(&p, None, Some(2), None).await.unwrap();
    let names: Vec<_> = page.aliases.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["alias/app", "alias/b2"]);
    let rest = kms
        .list_aliases(&p, None, Some(2), page.next_marker.as_deref())
        .await
        .unwrap();
    assert_eq!(rest.aliases.len(), 1);
    assert!(rest.next_marker.is_none());
    let of_b = kms.list_aliases(&p, Some(&idb), None, None).await.unwrap();
    assert_eq!(of_b.aliases.len(), 2);
    assert_eq!(
        kind(kms.list_aliases(&p, None, None, Some("zzz")).await),
        KmsErrorKind::InvalidMarker
    );

    kms.delete_alias(&p, "alias/app").await.unwrap();
    assert_eq!(
        kind(kms.delete_alias(&p, "alias/app").await),
        KmsErrorKind::NotFound
    );
    assert!(kms.describe_key(&p, &idb).await.is_ok());
}

#[tokio::test]
async fn tags() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let key = kms
        .create_key(
            &p,
            CreateKeyRequest {
                tags: vec![("team".into(), "a".into())],
                ..CreateKeyRequest::default()
            },
        )
        .await
        .unwrap();
    let id = key.id.to_string();
    kms.tag_resource(
        &p,
        &id,
        vec![("team".into(), "b".into()), ("env".into(), "prod".into())],
    )
    .await
    .unwrap();
    let tags = kms.list_resource_tags(&p, &id, None, None).await.unwrap();
    assert_eq!(
        tags.tags,
        [
            ("env".to_owned(), "prod".to_owned()),
            ("team".to_owned(), "b".to_owned())
        ]
    );
    let first = kms
        .list_resource_tags(&p, &id, Some(1), None)
        .await
        .unwrap();
    assert_eq!(first.next_marker.as_deref(), Some("env"));
    let second = kms
        .list_resource_tags(&p, &id, Some(1), first.next_marker.as_deref())
        .await
        .unwrap();
    assert_eq!(second.tags[0].0, "team");
    kms.untag_resource(&p, &id, vec!["team".into(), "absent".into()])
        .await
        .unwrap();
    assert_eq!(
        kms.list_resource_tags(&p, &id, None, None)
            .await
            .unwrap()
            .tags
            .len(),
        1
    );

    assert_eq!(
        kind(
            kms.tag_resource(&p, &id, vec![("k".repeat(129), "v".into())])
                .await
        ),
        KmsErrorKind::Tag
    );
    assert_eq!(
        kind(
            kms.tag_resource(&p, &id, vec![("k".into(), "v".repeat(257))])
                .await
        ),
        KmsErrorKind::Tag
    );
    let many: Vec<_> = (0..50).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    assert_eq!(
        kind(kms.tag_resource(&p, &id, many).await),
        KmsErrorKind::LimitExceeded
    );
    let fill: Vec<_> = (0..49).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    kms.tag_resource(&p, &id, fill).await.unwrap();
    assert_eq!(
        kind(
            kms.tag_resource(&p, &id, vec![("one-more".into(), "v".into())])
                .await
        ),
        KmsErrorKind::LimitExceeded
    );
}

#[tokio::test]
async fn rotation_keeps_old_ciphertexts_readable() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let key = symmetric(&w, &p).await;
    let id = key.id.to_string();
    let ctx: EncryptionContext = [("purpose".to_owned(), "test".to_owned())]
        .into_iter()
        .collect();
    let sym = EncryptionAlgorithm::SymmetricDefault;
    let old = kms
        .encrypt(&p, &id, b"before", &ctx, sym)
        .await
        .unwrap()
        .ciphertext;

    let status = kms.get_key_rotation_status(&p, &id).await.unwrap();
    assert!(!status.enabled && status.period_days.is_none());
    assert_eq!(
        kind(kms.enable_key_rotation(&p, &id, Some(89)).await),
        KmsErrorKind::Validation
    );
    assert_eq!(
        kind(kms.enable_key_rotation(&p, &id, Some(2561)).await),
        KmsErrorKind::Validation
    );
    kms.enable_key_rotation(&p, &id, Some(90)).await.unwrap();
    let status = kms.get_key_rotation_status(&p, &id).await.unwrap();
    assert_eq!(status.period_days, Some(90));
    assert_eq!(
        status.next_rotation,
        Some(w.clock.now() + Duration::days(90))
    );

    kms.rotate_key_on_demand(&p, &id).await.unwrap();
    let mid = kms
        .encrypt(&p, &id, b"middle", &ctx, sym)
        .await
        .unwrap()
        .ciphertext;
    assert_eq!(kms.describe_key(&p, &id).await.unwrap().current_version, 2);

    // Nothing due yet; after 90 days one automatic rotation.
    assert_eq!(kms.run_due(w.clock.now()).await.unwrap(), (0, 0));
    w.clock.advance(Duration::days(90));
    assert_eq!(kms.run_due(w.clock.now()).await.unwrap(), (0, 1));
    assert_eq!(kms.run_due(w.clock.now()).await.unwrap(), (0, 0));
    let key_now = kms.describe_key(&p, &id).await.unwrap();
    assert_eq!(key_now.current_version, 3);
    assert_eq!(
        key_now.rotation.unwrap().next_rotation,
        status.next_rotation.unwrap() + Duration::days(90)
    );

    for (blob, text) in [(&old, &b"before"[..]), (&mid, &b"middle"[..])] {
        let out = kms.decrypt(&p, Some(&id), blob, &ctx, sym).await.unwrap();
        assert_eq!(&out.plaintext[..], text);
    }
    // The wrong context fails as an invalid ciphertext.
    assert_eq!(
        kind(
            kms.decrypt(&p, None, &old, &EncryptionContext::empty(), sym)
                .await
        ),
        KmsErrorKind::InvalidCiphertext
    );

    let rotations = kms
        .list_key_rotations(&p, &id, Some(1), None)
        .await
        .unwrap();
    assert_eq!(rotations.rotations[0].kind, RotationKind::OnDemand);
    let next = kms
        .list_key_rotations(&p, &id, Some(1), rotations.next_marker.as_deref())
        .await
        .unwrap();
    assert_eq!(next.rotations[0].kind, RotationKind::Automatic);
    assert!(next.next_marker.is_none());

    kms.disable_key_rotation(&p, &id).await.unwrap();
    assert!(!kms.get_key_rotation_status(&p, &id).await.unwrap().enabled);

    // Only symmetric keys rotate.
    let hmac = kms
        .create_key(
            &p,
            request(KmsKeySpec::Hmac256, KmsKeyUsage::GenerateVerifyMac),
        )
        .await
        .unwrap()
        .id
        .to_string();
    assert_eq!(
        kind(kms.enable_key_rotation(&p, &hmac, None).await),
        KmsErrorKind::UnsupportedOperation
    );
    assert_eq!(
        kind(kms.rotate_key_on_demand(&p, &hmac).await),
        KmsErrorKind::UnsupportedOperation
    );
    assert_eq!(
        kind(kms.get_key_rotation_status(&p, &hmac).await),
        KmsErrorKind::UnsupportedOperation
    );
    // A disabled key does not rotate on demand.
    kms.disable_key(&p, &id).await.unwrap();
    assert_eq!(
        kind(kms.rotate_key_on_demand(&p, &id).await),
        KmsErrorKind::Disabled
    );
}

#[tokio::test]
async fn roles_decide_what_is_allowed() {
    let w = world().await;
    let kms = &w.services.kms;
    let key = symmetric(&w, &admin()).await;
    let id = key.id.to_string();
    let creator = who("p1", "carol", "creator");
    let ctx = EncryptionContext::empty();
    let sym = EncryptionAlgorithm::SymmetricDefault;
    kms.encrypt(&creator, &id, b"x", &ctx, sym).await.unwrap();
    kms.create_alias(&creator, "alias/c", &id).await.unwrap();

    let observer = who("p1", "olga", "observer");
    kms.describe_key(&observer, &id).await.unwrap();
    kms.list_keys(&observer, None, None).await.unwrap();
    kms.list_aliases(&observer, None, None, None).await.unwrap();
    kms.get_key_rotation_status(&observer, &id).await.unwrap();
    kms.list_key_rotations(&observer, &id, None, None)
        .await
        .unwrap();
    kms.list_resource_tags(&observer, &id, None, None)
        .await
        .unwrap();
    forbidden(kms.encrypt(&observer, &id, b"x", &ctx, sym).await);
    forbidden(kms.create_key(&observer, CreateKeyRequest::default()).await);
    forbidden(kms.disable_key(&observer, &id).await);
    forbidden(kms.generate_random(&observer, 8).await);

    for role in ["audit", "member"] {
        let nobody = who("p1", "eve", role);
        forbidden(kms.describe_key(&nobody, &id).await);
        forbidden(kms.list_keys(&nobody, None, None).await);
        forbidden(kms.encrypt(&nobody, &id, b"x", &ctx, sym).await);
        forbidden(kms.create_key(&nobody, CreateKeyRequest::default()).await);
    }
}

#[tokio::test]
async fn concurrent_creates_all_land() {
    let w = world().await;
    let p = admin();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let kms = w.services.kms.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            kms.create_key(&p, CreateKeyRequest::default())
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
    let listed = w
        .services
        .kms
        .list_keys(&p, Some(1000), None)
        .await
        .unwrap();
    assert_eq!(listed.keys.len(), 16);
}

#[tokio::test]
async fn management_and_uses_are_audited() {
    let w = world().await;
    let kms = &w.services.kms;
    let p = admin();
    let key = symmetric(&w, &p).await;
    let id = key.id.to_string();
    kms.encrypt(
        &p,
        &id,
        b"x",
        &EncryptionContext::empty(),
        EncryptionAlgorithm::SymmetricDefault,
    )
    .await
    .unwrap();
    let _ = kms.disable_key(&who("p1", "olga", "observer"), &id).await;
    // Uses are appended in the background: wait for them.
    w.services.audit.flush().await;
    use arca_core::Store;
    let records = w.store.audit_records().await.unwrap();
    let lines: Vec<String> = records.iter().map(|r| r.json_line()).collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle) && l.contains(&id));
    assert!(has("kms.CreateKey"));
    assert!(has("kms.Encrypt"));
    assert!(lines.iter().any(|l| l.contains("kms.DisableKey")));
    assert!(
        lines
            .iter()
            .all(|l| l.contains("kms-key") || !l.contains("kms."))
    );
}
