//! The KMS and access-key cases every `Store` must pass, written once against `&dyn Store` and run by `kms.rs`
//! (SQLite) and `postgres_audit_kms.rs` (PostgreSQL): round trips, paging by marker, atomic rotation and deletion,
//! alias uniqueness, the tag limit, due queries.
#![allow(dead_code)] // each test binary may run a subset

use crate::common::at;
use arca_core::{
    AccessKeyRecord, KeyState, KmsAlias, KmsKeyRow, KmsKeyVersionRow, NewKmsKey, RotationKind,
    RotationSchedule, Store,
};
use uuid::Uuid;

fn key(project: &str) -> KmsKeyRow {
    KmsKeyRow {
        id: Uuid::now_v7(),
        project_id: project.to_owned(),
        description: "d".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        state: KeyState::Enabled,
        created: at(0),
        deletion_date: None,
        current_version: 1,
        rotation: None,
    }
}

fn version(key_id: Uuid, version: u32, kind: RotationKind) -> KmsKeyVersionRow {
    KmsKeyVersionRow {
        key_id,
        version,
        sealed: vec![version as u8; 40],
        created: at(i64::from(version)),
        kind,
    }
}

fn new_key(project: &str, tags: &[(&str, &str)]) -> NewKmsKey {
    let key = key(project);
    NewKmsKey {
        version: version(key.id, 1, RotationKind::Initial),
        key,
        tags: tags
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

pub async fn key_round_trip_update_and_paging(store: &dyn Store) {
    let mut ids = Vec::new();
    for _ in 0..5 {
        let new = new_key("p1", &[("a", "1")]);
        store.insert_kms_key(&new).await.unwrap();
        assert_eq!(
            store.get_kms_key(new.key.id).await.unwrap(),
            Some(new.key.clone())
        );
        ids.push(new.key.id);
    }
    store.insert_kms_key(&new_key("p2", &[])).await.unwrap();
    ids.sort();
    let first = store.list_kms_keys("p1", 2, None).await.unwrap();
    assert_eq!(first.iter().map(|k| k.id).collect::<Vec<_>>(), ids[..2]);
    let rest = store.list_kms_keys("p1", 10, Some(ids[1])).await.unwrap();
    assert_eq!(rest.iter().map(|k| k.id).collect::<Vec<_>>(), ids[2..]);

    let mut row = store.get_kms_key(ids[0]).await.unwrap().unwrap();
    row.description = "new".into();
    row.state = KeyState::PendingDeletion;
    row.deletion_date = Some(at(100));
    row.rotation = Some(RotationSchedule {
        period_days: 90,
        next_rotation: at(50),
    });
    row.current_version = 7; // never written by update
    assert!(store.update_kms_key(&row).await.unwrap());
    let back = store.get_kms_key(ids[0]).await.unwrap().unwrap();
    assert_eq!(back.current_version, 1);
    row.current_version = 1;
    assert_eq!(back, row);
    assert_eq!(
        store
            .kms_keys_due_for_deletion(at(99), 10)
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        store.kms_keys_due_for_deletion(at(100), 10).await.unwrap()[0].id,
        ids[0]
    );
    assert_eq!(
        store.kms_keys_due_for_rotation(at(50), 10).await.unwrap()[0].id,
        ids[0]
    );
    assert!(
        store
            .kms_keys_due_for_rotation(at(49), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let mut gone = key("p1");
    gone.id = Uuid::now_v7();
    assert!(!store.update_kms_key(&gone).await.unwrap());
}

pub async fn rotation_is_atomic_and_checks_the_current_version(store: &dyn Store) {
    let mut new = new_key("p1", &[]);
    new.key.rotation = Some(RotationSchedule {
        period_days: 365,
        next_rotation: at(10),
    });
    store.insert_kms_key(&new).await.unwrap();
    let id = new.key.id;
    assert!(
        store
            .rotate_kms_key(&version(id, 2, RotationKind::Automatic), Some(at(20)))
            .await
            .unwrap()
    );
    // A stale rotation (version 2 again) changes nothing.
    assert!(
        !store
            .rotate_kms_key(&version(id, 2, RotationKind::OnDemand), None)
            .await
            .unwrap()
    );
    assert!(
        store
            .rotate_kms_key(&version(id, 3, RotationKind::OnDemand), None)
            .await
            .unwrap()
    );
    let row = store.get_kms_key(id).await.unwrap().unwrap();
    assert_eq!(row.current_version, 3);
    assert_eq!(row.rotation.unwrap().next_rotation, at(20));
    let v2 = store.get_kms_key_version(id, 2).await.unwrap().unwrap();
    assert_eq!(v2.kind, RotationKind::Automatic);
    assert_eq!(v2.sealed, vec![2; 40]);
    let listed = store.list_kms_key_versions(id, 10, 1).await.unwrap();
    assert_eq!(listed.iter().map(|v| v.version).collect::<Vec<_>>(), [2, 3]);
    let page = store.list_kms_key_versions(id, 1, 0).await.unwrap();
    assert_eq!(page.len(), 1);
    assert!(
        !store
            .rotate_kms_key(&version(Uuid::now_v7(), 2, RotationKind::OnDemand), None)
            .await
            .unwrap()
    );
}

pub async fn aliases_are_unique_per_project_and_go_with_their_key(store: &dyn Store) {
    let a = new_key("p1", &[("t", "v")]);
    let b = new_key("p1", &[]);
    let other = new_key("p2", &[]);
    for k in [&a, &b, &other] {
        store.insert_kms_key(k).await.unwrap();
    }
    let alias = |project: &str, name: &str, key_id| KmsAlias {
        project_id: project.to_owned(),
        name: name.to_owned(),
        key_id,
        created: at(1),
        updated: at(1),
    };
    assert!(
        store
            .insert_kms_alias(&alias("p1", "alias/x", a.key.id))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_kms_alias(&alias("p1", "alias/x", b.key.id))
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_kms_alias(&alias("p2", "alias/x", other.key.id))
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_kms_alias(&alias("p1", "alias/y", a.key.id))
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_kms_alias(&alias("p1", "alias/z", b.key.id))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_kms_alias(&alias("p1", "alias/q", Uuid::now_v7()))
            .await
            .unwrap()
    );

    let names = |v: Vec<KmsAlias>| v.into_iter().map(|a| a.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_kms_aliases("p1", None, 2, None).await.unwrap()),
        ["alias/x", "alias/y"]
    );
    assert_eq!(
        names(
            store
                .list_kms_aliases("p1", None, 2, Some("alias/y"))
                .await
                .unwrap()
        ),
        ["alias/z"]
    );
    assert_eq!(
        names(
            store
                .list_kms_aliases("p1", Some(a.key.id), 10, None)
                .await
                .unwrap()
        ),
        ["alias/x", "alias/y"]
    );
    assert!(
        store
            .update_kms_alias("p1", "alias/x", b.key.id, at(5))
            .await
            .unwrap()
    );
    let x = store.get_kms_alias("p1", "alias/x").await.unwrap().unwrap();
    assert_eq!((x.key_id, x.updated), (b.key.id, at(5)));
    assert!(
        !store
            .update_kms_alias("p1", "alias/none", b.key.id, at(5))
            .await
            .unwrap()
    );
    assert!(store.delete_kms_alias("p1", "alias/z").await.unwrap());
    assert!(!store.delete_kms_alias("p1", "alias/z").await.unwrap());

    // Deleting b takes its versions, aliases and tags with it; a's stay.
    assert!(store.delete_kms_key(b.key.id).await.unwrap());
    assert!(!store.delete_kms_key(b.key.id).await.unwrap());
    assert!(store.get_kms_key(b.key.id).await.unwrap().is_none());
    assert!(
        store
            .get_kms_key_version(b.key.id, 1)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_kms_alias("p1", "alias/x")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        names(store.list_kms_aliases("p1", None, 10, None).await.unwrap()),
        ["alias/y"]
    );
    assert_eq!(store.list_kms_tags(a.key.id).await.unwrap().len(), 1);
}

pub async fn tags_upsert_delete_and_limit(store: &dyn Store) {
    let k = new_key("p1", &[("a", "1"), ("b", "2")]);
    store.insert_kms_key(&k).await.unwrap();
    let id = k.key.id;
    let tags = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<Vec<_>>()
    };
    assert!(
        store
            .put_kms_tags(id, &tags(&[("a", "x"), ("c", "3")]), 3)
            .await
            .unwrap()
    );
    assert_eq!(
        store.list_kms_tags(id).await.unwrap(),
        tags(&[("a", "x"), ("b", "2"), ("c", "3")])
    );
    // One more would make 4 > 3: nothing written, not even the update.
    assert!(
        !store
            .put_kms_tags(id, &tags(&[("a", "y"), ("d", "4")]), 3)
            .await
            .unwrap()
    );
    assert_eq!(store.list_kms_tags(id).await.unwrap()[0].1, "x");
    assert!(
        store
            .delete_kms_tags(id, &["a".into(), "zz".into()])
            .await
            .unwrap()
    );
    assert_eq!(
        store.list_kms_tags(id).await.unwrap(),
        tags(&[("b", "2"), ("c", "3")])
    );
    assert!(
        !store
            .put_kms_tags(Uuid::now_v7(), &tags(&[("a", "1")]), 50)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_kms_tags(Uuid::now_v7(), &["a".into()])
            .await
            .unwrap()
    );
}

pub async fn access_keys_round_trip_and_revoke(store: &dyn Store) {
    let record = AccessKeyRecord {
        id: "AKIAABCDEFGHIJKLMNOP".into(),
        project_id: "p1".into(),
        user_id: "alice".into(),
        roles: vec!["admin".into(), "creator".into()],
        sealed_secret: vec![9; 70],
        created: at(3),
        revoked: false,
    };
    store.insert_access_key(&record).await.unwrap();
    assert_eq!(
        store.get_access_key(&record.id).await.unwrap(),
        Some(record.clone())
    );
    assert!(store.insert_access_key(&record).await.is_err());
    assert!(store.revoke_access_key(&record.id).await.unwrap());
    assert!(
        store
            .get_access_key(&record.id)
            .await
            .unwrap()
            .unwrap()
            .revoked
    );
    assert!(!store.revoke_access_key("AKIANOPE").await.unwrap());
    assert!(store.get_access_key("AKIANOPE").await.unwrap().is_none());
}
