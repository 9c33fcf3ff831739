//! Round trips of every `Store` method on a real SQLite file: system keys, KEKs, tokens, secrets and payloads,
//! metadata CRUD and conflicts, deletes with their cascades, the schema's names, and errors (not panics) on
//! corrupt rows and unstorable values.

mod common;

use std::collections::BTreeMap;

use arca_core::{SecretQuery, SecretType, Store};
use common::*;
use rusqlite::OptionalExtension;
use uuid::Uuid;

#[tokio::test]
async fn system_keys_insert_once_and_read_back() {
    let (_dir, _path, store) = open_temp().await;
    assert_eq!(store.get_system_key("audit").await.unwrap(), None);
    assert!(store.insert_system_key("audit", &wrapped(1)).await.unwrap());
    assert!(
        !store.insert_system_key("audit", &wrapped(2)).await.unwrap(),
        "second insert must lose"
    );
    assert_eq!(
        store.get_system_key("audit").await.unwrap(),
        Some(wrapped(1)),
        "the first key wins"
    );
    assert!(store.insert_system_key("token", &wrapped(3)).await.unwrap());
    assert_eq!(
        store.get_system_key("token").await.unwrap(),
        Some(wrapped(3))
    );
}

#[tokio::test]
async fn keks_are_versioned_per_project() {
    let (_dir, _path, store) = open_temp().await;
    assert_eq!(store.get_active_kek("p1").await.unwrap(), None);
    assert!(store.insert_kek(&kek("p1", 1, 10)).await.unwrap());
    assert!(store.insert_kek(&kek("p1", 2, 20)).await.unwrap());
    assert!(store.insert_kek(&kek("p2", 1, 30)).await.unwrap());
    assert!(
        !store.insert_kek(&kek("p1", 2, 99)).await.unwrap(),
        "same (project, version) must conflict"
    );

    assert_eq!(
        store.get_active_kek("p1").await.unwrap(),
        Some(kek("p1", 2, 20))
    );
    assert_eq!(
        store.get_kek("p1", 1).await.unwrap(),
        Some(kek("p1", 1, 10))
    );
    assert_eq!(store.get_kek("p1", 3).await.unwrap(), None);
    assert_eq!(
        store.get_active_kek("p2").await.unwrap(),
        Some(kek("p2", 1, 30))
    );

    let big = kek("p3", u32::MAX, 5);
    assert!(store.insert_kek(&big).await.unwrap());
    assert_eq!(store.get_kek("p3", u32::MAX).await.unwrap(), Some(big));
}

#[tokio::test]
async fn tokens_round_trip_and_revoke() {
    let (_dir, _path, store) = open_temp().await;
    let row = token("tok1");
    store.insert_token(&row).await.unwrap();
    assert_eq!(store.get_token("tok1").await.unwrap(), Some(row.clone()));
    assert_eq!(store.get_token("nope").await.unwrap(), None);
    assert!(
        store.insert_token(&row).await.is_err(),
        "a duplicate token id is an error"
    );

    assert!(store.revoke_token("tok1").await.unwrap());
    assert!(store.get_token("tok1").await.unwrap().unwrap().revoked);
    assert!(
        store.revoke_token("tok1").await.unwrap(),
        "revoking twice still finds the token"
    );
    assert!(!store.revoke_token("nope").await.unwrap());

    let mut no_roles = token("tok2");
    no_roles.roles.clear();
    store.insert_token(&no_roles).await.unwrap();
    assert_eq!(store.get_token("tok2").await.unwrap(), Some(no_roles));

    let mut bad = token("tok3");
    bad.roles = vec!["a,b".to_owned()];
    assert!(
        store.insert_token(&bad).await.is_err(),
        "a comma in a role name cannot round-trip"
    );
}

#[tokio::test]
async fn secret_with_payload_round_trips_at_full_precision() {
    let (_dir, _path, store) = open_temp().await;
    let mut s = secret("p1", 0);
    s.name = Some("db password".to_owned());
    s.algorithm = Some("aes".to_owned());
    s.bit_length = Some(256);
    s.mode = Some("cbc".to_owned());
    s.secret_type = SecretType::Symmetric;
    s.expiration = Some(at(3600));
    s.content_type = Some("application/octet-stream".to_owned());
    let p = payload(&[1, 2, 3, 0, 255], "application/octet-stream");

    store.insert_secret(&s, Some(&p)).await.unwrap();
    assert_eq!(store.get_secret(s.id).await.unwrap(), Some(s.clone()));
    assert_eq!(store.get_payload(s.id).await.unwrap(), Some(p));
    assert!(
        store.insert_secret(&s, None).await.is_err(),
        "a duplicate id is an error"
    );
    assert_eq!(store.get_secret(Uuid::now_v7()).await.unwrap(), None);
    assert_eq!(store.get_payload(Uuid::now_v7()).await.unwrap(), None);
}

#[tokio::test]
async fn insert_takes_the_content_type_from_the_payload_when_the_record_has_none() {
    let (_dir, _path, store) = open_temp().await;
    let s = secret("p1", 0);
    store
        .insert_secret(&s, Some(&payload(b"x", "text/plain")))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_secret(s.id)
            .await
            .unwrap()
            .unwrap()
            .content_type
            .as_deref(),
        Some("text/plain")
    );
}

#[tokio::test]
async fn attach_payload_once() {
    let (_dir, _path, store) = open_temp().await;
    let s = secret("p1", 0);
    store.insert_secret(&s, None).await.unwrap();
    assert_eq!(store.get_payload(s.id).await.unwrap(), None);

    let p = payload(b"sealed", "text/plain");
    assert!(store.attach_payload(s.id, &p, at(60)).await.unwrap());
    let got = store.get_secret(s.id).await.unwrap().unwrap();
    assert_eq!(got.updated, at(60));
    assert_eq!(got.created, s.created);
    assert_eq!(got.content_type.as_deref(), Some("text/plain"));
    assert_eq!(store.get_payload(s.id).await.unwrap(), Some(p));

    let other = payload(b"other", "application/octet-stream");
    assert!(
        !store.attach_payload(s.id, &other, at(120)).await.unwrap(),
        "already has a payload"
    );
    assert_eq!(
        store.get_secret(s.id).await.unwrap().unwrap().updated,
        at(60),
        "a refused attach changes nothing"
    );
    assert!(
        !store
            .attach_payload(Uuid::now_v7(), &other, at(120))
            .await
            .unwrap(),
        "unknown secret"
    );
}

#[tokio::test]
async fn metadata_crud_and_conflicts() {
    let (_dir, _path, store) = open_temp().await;
    let s = secret("p1", 0);
    store.insert_secret(&s, None).await.unwrap();
    assert!(store.get_secret_metadata(s.id).await.unwrap().is_empty());

    let initial: BTreeMap<String, String> = [("a", "1"), ("b", "2")]
        .map(|(k, v)| (k.into(), v.into()))
        .into();
    store.replace_secret_metadata(s.id, &initial).await.unwrap();
    assert_eq!(store.get_secret_metadata(s.id).await.unwrap(), initial);

    assert!(store.insert_secret_metadatum(s.id, "c", "3").await.unwrap());
    assert!(
        !store.insert_secret_metadatum(s.id, "c", "4").await.unwrap(),
        "existing key"
    );
    assert!(store.update_secret_metadatum(s.id, "c", "5").await.unwrap());
    assert!(
        !store
            .update_secret_metadatum(s.id, "zz", "5")
            .await
            .unwrap(),
        "missing key"
    );
    assert!(store.delete_secret_metadatum(s.id, "a").await.unwrap());
    assert!(
        !store.delete_secret_metadatum(s.id, "a").await.unwrap(),
        "already gone"
    );

    let now: BTreeMap<String, String> = [("b", "2"), ("c", "5")]
        .map(|(k, v)| (k.into(), v.into()))
        .into();
    assert_eq!(store.get_secret_metadata(s.id).await.unwrap(), now);

    let replaced: BTreeMap<String, String> = [("x", "9")].map(|(k, v)| (k.into(), v.into())).into();
    store
        .replace_secret_metadata(s.id, &replaced)
        .await
        .unwrap();
    assert_eq!(store.get_secret_metadata(s.id).await.unwrap(), replaced);
    store
        .replace_secret_metadata(s.id, &BTreeMap::new())
        .await
        .unwrap();
    assert!(store.get_secret_metadata(s.id).await.unwrap().is_empty());

    let ghost = Uuid::now_v7();
    assert!(
        store
            .insert_secret_metadatum(ghost, "k", "v")
            .await
            .is_err(),
        "metadata needs a secret"
    );
    assert!(
        store
            .replace_secret_metadata(ghost, &replaced)
            .await
            .is_err()
    );
    assert!(
        !store
            .update_secret_metadatum(ghost, "k", "v")
            .await
            .unwrap()
    );
    assert!(!store.delete_secret_metadatum(ghost, "k").await.unwrap());
}

#[tokio::test]
async fn delete_cascades_to_payload_and_metadata() {
    let (_dir, path, store) = open_temp().await;
    let s = secret("p1", 0);
    let keep = secret("p1", 1);
    store
        .insert_secret(&s, Some(&payload(b"gone", "text/plain")))
        .await
        .unwrap();
    store
        .insert_secret(&keep, Some(&payload(b"kept", "text/plain")))
        .await
        .unwrap();
    assert!(store.insert_secret_metadatum(s.id, "k", "v").await.unwrap());
    assert!(
        store
            .insert_secret_metadatum(keep.id, "k", "v")
            .await
            .unwrap()
    );

    assert!(store.delete_secret(s.id).await.unwrap());
    assert!(!store.delete_secret(s.id).await.unwrap(), "already deleted");
    assert_eq!(store.get_secret(s.id).await.unwrap(), None);
    assert_eq!(store.get_payload(s.id).await.unwrap(), None);
    assert_eq!(count_rows(&path, "secrets").await, 1);
    assert_eq!(count_rows(&path, "secret_payloads").await, 1);
    assert_eq!(count_rows(&path, "secret_metadata").await, 1);
    assert!(store.get_payload(keep.id).await.unwrap().is_some());
}

fn file_contains(path: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read(path)
        .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        .unwrap_or(false)
}

/// The ciphertext first reaches the main file (a clean close checkpoints it), is deleted through a reopened
/// store, and then disappears from the main file while that store is still open: `secure_delete` zeroed it and
/// the writer's checkpoint after deletes copied the zeroed page over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_payload_bytes_are_wiped_from_the_main_file() {
    let (_dir, path, store) = open_temp().await;
    let marker = b"MARKER-3b0f1c6e-ciphertext-bytes";
    let s = secret("p1", 0);
    store
        .insert_secret(&s, Some(&payload(marker, "text/plain")))
        .await
        .unwrap();
    store.close().await;
    assert!(
        file_contains(&path, marker),
        "precondition: the payload is in the main file"
    );

    let store = arca_store::SqliteStore::open(&path).await.unwrap();
    assert!(store.delete_secret(s.id).await.unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while file_contains(&path, marker) {
        assert!(
            std::time::Instant::now() < deadline,
            "payload bytes still in the main file after the delete"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    store.close().await;
    assert!(!file_contains(&path, marker));
}

#[tokio::test]
async fn schema_has_the_documented_names_and_pragmas() {
    let (_dir, path, store) = open_temp().await;
    let conn = raw(&path);
    let tables: Vec<String> = first_column(
        &path,
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    for wanted in [
        "project_keks",
        "secret_metadata",
        "secrets",
        "system_keys",
        "tokens",
    ] {
        assert!(
            tables.iter().any(|t| t == wanted),
            "missing table {wanted}: {tables:?}"
        );
    }
    // Payloads live in their secret's row; `secret_payloads` is a view with PostgreSQL's table's shape.
    let payloads_kind: String = conn
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'secret_payloads'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(payloads_kind, "view");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let index: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'secrets_project_created'",
            [],
            |row| row.get(0),
        )
        .optional()
        .unwrap();
    assert!(index.is_some());
    drop(store);
}

#[tokio::test]
async fn corrupt_rows_are_errors_not_panics() {
    let (_dir, path, store) = open_temp().await;
    let conn = raw(&path);
    conn.execute(
        "INSERT INTO secrets (id, project_id, creator_id, secret_type, created, updated) \
         VALUES ('not-a-uuid', 'bad', 'x', 'opaque', 0, 0)",
        [],
    )
    .unwrap();
    let id = Uuid::now_v7();
    conn.execute(
        "INSERT INTO secrets (id, project_id, creator_id, secret_type, created, updated) \
         VALUES (?, 'bad2', 'x', 'no-such-type', 0, 0)",
        [id.to_string()],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac) \
         VALUES ('bad', 1, -1, 1000, x'00', x'00')",
        [],
    )
    .unwrap();

    let err = store
        .list_secrets(&SecretQuery::for_project("bad", t0(), 10, 0))
        .await
        .unwrap_err();
    assert!(err.0.contains("not-a-uuid"), "{err}");
    let err = store.get_secret(id).await.unwrap_err();
    assert!(err.0.contains("no-such-type"), "{err}");
    assert!(store.get_active_kek("bad").await.is_err());
}

#[tokio::test]
async fn unstorable_timestamps_are_errors() {
    let (_dir, _path, store) = open_temp().await;
    let mut s = secret("p1", 0);
    s.expiration = Some(time::macros::datetime!(9999-12-31 23:59:59 UTC));
    let err = store.insert_secret(&s, None).await.unwrap_err();
    assert!(err.0.contains("range"), "{err}");
    assert_eq!(
        store.get_secret(s.id).await.unwrap(),
        None,
        "nothing half-written"
    );
}

#[tokio::test]
async fn secret_with_payload_in_one_read() {
    let (_dir, _path, store) = open_temp().await;
    let with = secret("p", 1);
    store
        .insert_secret(&with, Some(&payload(b"sealed", "text/plain")))
        .await
        .unwrap();
    let without = secret("p", 2);
    store.insert_secret(&without, None).await.unwrap();
    let (record, stored) = store
        .get_secret_with_payload(with.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.id, with.id);
    assert_eq!(record.content_type.as_deref(), Some("text/plain"));
    assert_eq!(stored, Some(payload(b"sealed", "text/plain")));
    let (record, stored) = store
        .get_secret_with_payload(without.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((record.id, stored), (without.id, None));
    assert!(
        store
            .get_secret_with_payload(uuid::Uuid::now_v7())
            .await
            .unwrap()
            .is_none()
    );
}
