//! Secret store placement on both stores (SQLite and a real PostgreSQL): syncing the configured stores (and
//! retiring the rest), the payloads each store holds, moving a payload by compare-and-swap with its orphan
//! recorded in the same transaction, and forgetting orphans.

mod common;

use arca_core::{
    SOFTWARE_STORE_ID, SecretStoreRecord, StaleSealed, Store, StoreOrphan, StoredPayload,
};
use arca_store::PostgresStore;
use arca_store::postgres_testing::TempPostgres;
use common::*;
use uuid::Uuid;

fn record(name: &str, plugin: &str, store_plugin: &str, default: bool) -> SecretStoreRecord {
    SecretStoreRecord {
        id: arca_core::secret_store_id(name, plugin),
        name: format!("{name} display"),
        store_plugin: store_plugin.into(),
        crypto_plugin: None,
        global_default: default,
        created: t0(),
        updated: t0(),
        config_name: name.into(),
        configured: true,
    }
}

async fn placement_cases(store: &dyn Store) {
    // Sync: the software row keeps its id; a new external store appears; both are configured.
    let software = record("software", "software", "store_crypto", true);
    let kmip = record("kmip", "kmip", "kmip_plugin", false);
    let rows = store
        .sync_secret_stores(&[software.clone(), kmip.clone()])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.configured));
    assert!(
        rows.iter()
            .any(|r| r.id == SOFTWARE_STORE_ID && r.global_default)
    );
    let again = store
        .sync_secret_stores(&[software.clone(), kmip.clone()])
        .await
        .unwrap();
    assert_eq!(
        again, rows,
        "syncing the same configuration changes nothing"
    );

    // Payloads in each store.
    let a = secret("p", 1);
    let b = secret("q", 2);
    // Envelopes as the hierarchy writes them: format 1, sealed under project KEK version 1.
    let sealed = |bytes: &[u8], store_id: Uuid| StoredPayload {
        ciphertext: [&[1u8, 0, 0, 0, 1][..], bytes].concat(),
        content_type: "text/plain".into(),
        store_id,
    };
    store
        .insert_secret(&a, Some(&sealed(b"in software", SOFTWARE_STORE_ID)))
        .await
        .unwrap();
    store
        .insert_secret(&b, Some(&sealed(b"locator-b", kmip.id)))
        .await
        .unwrap();
    assert_eq!(
        store
            .count_payloads_in_store(SOFTWARE_STORE_ID, None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.count_payloads_in_store(kmip.id, None).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .count_payloads_in_store(kmip.id, Some("p"))
            .await
            .unwrap(),
        0
    );
    let held = store
        .payloads_in_store(kmip.id, None, None, 10)
        .await
        .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].secret_id, held[0].project_id.as_str()),
        (b.id, "q")
    );
    assert_eq!(held[0].payload, sealed(b"locator-b", kmip.id));
    assert!(
        store
            .payloads_in_store(kmip.id, None, Some(b.id), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.get_payload(b.id).await.unwrap(),
        Some(sealed(b"locator-b", kmip.id))
    );

    // Stale payloads of external stores are locators (re-sealed as their own kind).
    let stale = store.stale_sealed("q", 7, 10).await.unwrap();
    assert!(
        matches!(stale.as_slice(), [StaleSealed::SecretLocator { secret_id, .. }] if *secret_id == b.id),
        "{stale:?}"
    );

    // A move is a compare-and-swap that records the orphan with it.
    let orphan = StoreOrphan {
        id: 0,
        store_id: kmip.id,
        secret_id: b.id,
        project_id: "q".into(),
        sealed_locator: [&[1u8, 0, 0, 0, 1][..], b"locator-b"].concat(),
    };
    let moved_to = sealed(b"sealed-b", SOFTWARE_STORE_ID);
    assert!(
        !store
            .move_payload(
                b.id,
                &sealed(b"not what is stored", kmip.id),
                &moved_to,
                Some(&orphan)
            )
            .await
            .unwrap(),
        "a stale expectation moves nothing"
    );
    assert!(
        store.store_orphans(kmip.id).await.unwrap().is_empty(),
        "and records no orphan"
    );
    assert!(
        store
            .move_payload(
                b.id,
                &sealed(b"locator-b", kmip.id),
                &moved_to,
                Some(&orphan)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.get_payload(b.id).await.unwrap(),
        Some(moved_to.clone())
    );
    assert_eq!(
        store.count_payloads_in_store(kmip.id, None).await.unwrap(),
        0
    );
    let orphans = store.store_orphans(kmip.id).await.unwrap();
    assert_eq!(orphans.len(), 1);
    assert_eq!(
        (orphans[0].secret_id, orphans[0].sealed_locator.as_slice()),
        (b.id, &b"\x01\0\0\0\x01locator-b"[..])
    );
    store.delete_store_orphan(orphans[0].id).await.unwrap();
    assert!(store.store_orphans(kmip.id).await.unwrap().is_empty());
    // Moving a deleted secret's payload does nothing.
    store.delete_secret(a.id).await.unwrap();
    assert!(
        !store
            .move_payload(
                a.id,
                &sealed(b"in software", SOFTWARE_STORE_ID),
                &moved_to,
                None
            )
            .await
            .unwrap()
    );

    // A store left out of the configuration stays, unconfigured and not the default.
    let vault = record("vault", "vault", "vault_plugin", true);
    let rows = store
        .sync_secret_stores(std::slice::from_ref(&vault))
        .await
        .unwrap();
    let by_id = |id: Uuid| rows.iter().find(|r| r.id == id).unwrap().clone();
    assert!(by_id(vault.id).configured && by_id(vault.id).global_default);
    assert!(!by_id(kmip.id).configured && !by_id(kmip.id).global_default);
    assert!(!by_id(SOFTWARE_STORE_ID).configured && !by_id(SOFTWARE_STORE_ID).global_default);
    // Preferences may only name a store that has a row.
    assert!(
        store
            .set_preferred_secret_store("p", vault.id, t0())
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_preferred_secret_store("p", Uuid::now_v7(), t0())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn placement_on_sqlite() {
    let (_dir, _path, store) = open_temp().await;
    placement_cases(&store).await;
}

#[tokio::test]
async fn placement_on_postgres() {
    let pg = TempPostgres::new();
    let store = PostgresStore::connect(&pg.url(), Default::default())
        .await
        .unwrap();
    placement_cases(&store).await;
}
