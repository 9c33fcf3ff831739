//! A database written by an earlier Arca opens under the newest schema with nothing lost: a file at schema version
//! 8 (payloads in their own `secret_payloads` table) is migrated so each payload sits in its secret's row, and
//! reads, payload attachment, deletes and the `secret_payloads` view behave as on a new file; and its secrets,
//! counted by a trigger until version 10, are counted once each after it (by the insert itself).

mod common;

use arca_core::{SOFTWARE_STORE_ID, Store, StoredPayload};
use common::*;
use uuid::Uuid;

/// The migrations a version-8 file had applied, in order.
const UP_TO_8: [&str; 8] = [
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_containers.sql"),
    include_str!("../migrations/0003_acls_orders_quotas.sql"),
    include_str!("../migrations/0004_secret_counts.sql"),
    include_str!("../migrations/0005_audit.sql"),
    include_str!("../migrations/0006_kms.sql"),
    include_str!("../migrations/0007_rotation.sql"),
    include_str!("../migrations/0008_secret_store_placement.sql"),
];

/// Writes a version-8 database at `path` holding `with` (a secret with a payload) and `without` (one without).
fn version_8_file(path: &std::path::Path, with: Uuid, without: Uuid) {
    let conn = raw(path);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; \
         CREATE TABLE schema_version (version INTEGER PRIMARY KEY NOT NULL, applied INTEGER NOT NULL);",
    )
    .unwrap();
    for (i, sql) in UP_TO_8.iter().enumerate() {
        conn.execute_batch(sql).unwrap();
        conn.execute(
            "INSERT INTO schema_version (version, applied) VALUES (?, 0)",
            [i64::try_from(i + 1).unwrap()],
        )
        .unwrap();
    }
    for (id, created) in [(with, 1_i64), (without, 2)] {
        conn.execute(
            "INSERT INTO secrets (id, project_id, creator_id, secret_type, created, updated, content_type) \
             VALUES (?, 'p', 'alice', 'opaque', ?, ?, 'text/plain')",
            rusqlite::params![id.to_string(), created, created],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO secret_payloads (secret_id, ciphertext, content_type) VALUES (?, x'01020304', 'text/plain')",
        [with.to_string()],
    )
    .unwrap();
}

#[tokio::test]
async fn a_version_8_file_keeps_its_payloads_in_the_secret_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arca.db");
    let (with, without) = (Uuid::now_v7(), Uuid::now_v7());
    version_8_file(&path, with, without);

    let store = arca_store::SqliteStore::open(&path).await.unwrap();
    let (secret, payload) = store.get_secret_with_payload(with).await.unwrap().unwrap();
    assert_eq!(secret.id, with);
    let payload = payload.expect("the payload survived the migration");
    assert_eq!(payload.ciphertext, [1, 2, 3, 4]);
    assert_eq!(payload.content_type, "text/plain");
    assert_eq!(payload.store_id, SOFTWARE_STORE_ID);
    let (_, none) = store
        .get_secret_with_payload(without)
        .await
        .unwrap()
        .unwrap();
    assert!(none.is_none(), "a secret without a payload gains none");
    assert_eq!(count_rows(&path, "secret_payloads").await, 1);

    // The payload-less secret takes one once, as before; a second attach is refused.
    let attached = StoredPayload {
        ciphertext: vec![9; 40],
        content_type: "application/octet-stream".to_owned(),
        store_id: SOFTWARE_STORE_ID,
    };
    assert!(
        store
            .attach_payload(without, &attached, at(3))
            .await
            .unwrap()
    );
    assert!(
        !store
            .attach_payload(without, &attached, at(4))
            .await
            .unwrap()
    );
    assert!(!store.attach_payload(with, &attached, at(4)).await.unwrap());
    let now = store.get_payload(without).await.unwrap().unwrap();
    assert_eq!(now.ciphertext, attached.ciphertext);
    assert_eq!(count_rows(&path, "secret_payloads").await, 2);

    assert!(store.delete_secret(with).await.unwrap());
    assert!(store.get_payload(with).await.unwrap().is_none());
    assert_eq!(count_rows(&path, "secret_payloads").await, 1);
    store.close().await;

    let versions: Vec<i64> =
        first_column(&path, "SELECT version FROM schema_version ORDER BY version");
    assert_eq!(versions, (1..=10).collect::<Vec<_>>());
}

/// A project's row of `project_secret_counts`: (total, expiring).
fn counts(path: &std::path::Path, project: &str) -> (i64, i64) {
    raw(path)
        .query_row(
            "SELECT total, expiring FROM project_secret_counts WHERE project_id = ?",
            [project],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
}

#[tokio::test]
async fn secrets_stored_after_the_upgrade_are_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arca.db");
    version_8_file(&path, Uuid::now_v7(), Uuid::now_v7());
    assert_eq!(
        counts(&path, "p"),
        (2, 0),
        "the version-8 trigger counted both"
    );

    let store = arca_store::SqliteStore::open(&path).await.unwrap();
    let mut expiring = secret("p", 5);
    expiring.expiration = Some(at(3600));
    let plain = secret("p", 6);
    let elsewhere = secret("q", 7);
    for s in [&expiring, &plain, &elsewhere] {
        store
            .insert_secret(s, Some(&payload(b"x", "text/plain")))
            .await
            .unwrap();
    }
    // A second insert of the same id is refused and counts nothing.
    assert!(
        store
            .insert_secret(&plain, Some(&payload(b"y", "text/plain")))
            .await
            .is_err()
    );
    store.close().await;
    assert_eq!(counts(&path, "p"), (4, 1));
    assert_eq!(counts(&path, "q"), (1, 0));
    let triggers: Vec<String> = first_column(
        &path,
        "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
    );
    assert_eq!(
        triggers,
        ["secrets_counted_on_delete", "secrets_counted_on_update"]
    );
}
