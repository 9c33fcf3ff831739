//! The PostgreSQL store's audit chain, KMS rows, access keys and key rotation against a real PostgreSQL 15 started
//! by `TempPostgres`: two stores (two nodes) appending to one chain at once get consecutive sequence numbers that
//! `verify_chain` accepts; the KMS and access-key cases shared with SQLite (`kms_cases`); and rotation's
//! compare-and-swap writes (a rerun, a stale expectation or a second node changes nothing).

mod common;
mod kms_cases;

use std::sync::Arc;

use arca_core::{
    AUDIT_KEY_VERSION, AuditRecord, AuditSealer, AuditedWrite, KekRow, KeyState, KmsKeyRow,
    KmsKeyVersionRow, NewKmsKey, QuotaCheck, QuotaResource, Resealed, RewrappedKey, RotationKind,
    StaleSealed, Store, WrappedKeyRow, audit_mac, verify_chain,
};
use arca_crypto::Key256;
use arca_store::postgres_testing::TempPostgres;
use arca_store::{PostgresOptions, PostgresStore};
use common::at;
use time::{Duration, OffsetDateTime};
use tokio::sync::Barrier;
use uuid::Uuid;

async fn connect(url: &str) -> PostgresStore {
    PostgresStore::connect(url, PostgresOptions::default())
        .await
        .expect("connect")
}

fn audit_key() -> Key256 {
    Key256::from_bytes([0x5a; 32])
}

/// The sealer `AuditLog` uses: the real MAC under the audit key.
fn sealer() -> AuditSealer {
    let key = audit_key();
    Arc::new(move |seq, prev_mac, event| {
        let mac = audit_mac(&key, seq, prev_mac, AUDIT_KEY_VERSION, event);
        (AUDIT_KEY_VERSION, mac.to_vec())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_append_one_gapless_chain() {
    let pg = TempPostgres::new();
    let url = pg.create_database("audit");
    let nodes = [Arc::new(connect(&url).await), Arc::new(connect(&url).await)];
    assert!(nodes[0].audit_records().await.unwrap().is_empty());

    const SINGLES: usize = 200;
    const BATCHES: usize = 10;
    const BATCH: usize = 5;
    let barrier = Arc::new(Barrier::new(nodes.len() * (SINGLES + BATCHES)));
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for i in 0..SINGLES {
            let (node, barrier) = (Arc::clone(node), Arc::clone(&barrier));
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let event = format!("{{\"node\":{n},\"i\":{i}}}").into_bytes();
                node.append_audit(event, sealer()).await.map(|r| vec![r])
            }));
        }
        for b in 0..BATCHES {
            let (node, barrier) = (Arc::clone(node), Arc::clone(&barrier));
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let events = (0..BATCH)
                    .map(|j| format!("{{\"node\":{n},\"batch\":{b},\"j\":{j}}}").into_bytes())
                    .collect();
                node.append_audit_batch(events, sealer()).await
            }));
        }
    }
    let mut returned: Vec<AuditRecord> = Vec::new();
    for task in tasks {
        let records = task.await.unwrap().expect("every append succeeds");
        // A batch's records are consecutive.
        for pair in records.windows(2) {
            assert_eq!(pair[1].seq, pair[0].seq + 1);
            assert_eq!(pair[1].prev_mac, pair[0].mac);
        }
        returned.extend(records);
    }
    let total = nodes.len() * (SINGLES + BATCHES * BATCH);
    assert_eq!(returned.len(), total);

    let stored = nodes[1].audit_records().await.unwrap();
    assert_eq!(
        stored.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=total as u64).collect::<Vec<_>>(),
        "sequence numbers 1..N without gaps"
    );
    assert_eq!(verify_chain(&audit_key(), &stored), Ok(total as u64));
    returned.sort_by_key(|r| r.seq);
    assert_eq!(
        returned, stored,
        "each caller got the record that was stored"
    );

    // The chain goes on from its head after a restart of both nodes.
    drop(nodes);
    let again = connect(&url).await;
    let next = again
        .append_audit(b"after".to_vec(), sealer())
        .await
        .unwrap();
    assert_eq!(next.seq, total as u64 + 1);
    assert_eq!(next.prev_mac, stored[total - 1].mac);
    let all = again.audit_records().await.unwrap();
    assert_eq!(verify_chain(&audit_key(), &all), Ok(total as u64 + 1));
    assert!(
        again
            .append_audit_batch(Vec::new(), sealer())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_record_breaks_verification() {
    let pg = TempPostgres::new();
    let store = connect(&pg.url()).await;
    store
        .append_audit_batch(vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()], sealer())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_log SET event = 'x' WHERE seq = 2")
        .execute(store.pool())
        .await
        .unwrap();
    let records = store.audit_records().await.unwrap();
    assert_eq!(verify_chain(&audit_key(), &records).unwrap_err().seq, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_cases_pass_on_postgres() {
    let pg = TempPostgres::new();
    let store = connect(&pg.create_database("keys")).await;
    kms_cases::key_round_trip_update_and_paging(&store).await;
    let store = connect(&pg.create_database("rotation")).await;
    kms_cases::rotation_is_atomic_and_checks_the_current_version(&store).await;
    let store = connect(&pg.create_database("aliases")).await;
    kms_cases::aliases_are_unique_per_project_and_go_with_their_key(&store).await;
    let store = connect(&pg.create_database("tags")).await;
    kms_cases::tags_upsert_delete_and_limit(&store).await;
    let store = connect(&pg.create_database("access")).await;
    kms_cases::access_keys_round_trip_and_revoke(&store).await;
}

fn kms_key(project: &str, material: Vec<u8>) -> NewKmsKey {
    let id = Uuid::now_v7();
    NewKmsKey {
        key: KmsKeyRow {
            id,
            project_id: project.to_owned(),
            description: String::new(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            key_usage: "ENCRYPT_DECRYPT".into(),
            state: KeyState::Enabled,
            created: at(0),
            deletion_date: None,
            current_version: 1,
            rotation: None,
        },
        version: KmsKeyVersionRow {
            key_id: id,
            version: 1,
            sealed: material,
            created: at(0),
            kind: RotationKind::Initial,
        },
        tags: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_rotations_of_a_kms_key_have_one_winner() {
    let pg = TempPostgres::new();
    let url = pg.create_database("race");
    let (a, b) = (connect(&url).await, connect(&url).await);
    let new = kms_key("p1", vec![1; 40]);
    a.insert_kms_key(&new).await.unwrap();
    let version = |tag: u8| KmsKeyVersionRow {
        key_id: new.key.id,
        version: 2,
        sealed: vec![tag; 40],
        created: at(2),
        kind: RotationKind::OnDemand,
    };
    let (va, vb) = (version(0xa), version(0xb));
    let (ra, rb) = tokio::join!(a.rotate_kms_key(&va, None), b.rotate_kms_key(&vb, None));
    assert_eq!(
        u8::from(ra.unwrap()) + u8::from(rb.unwrap()),
        1,
        "exactly one node rotates to version 2"
    );
    assert_eq!(
        a.get_kms_key(new.key.id)
            .await
            .unwrap()
            .unwrap()
            .current_version,
        2
    );
    assert_eq!(
        a.list_kms_key_versions(new.key.id, 10, 0)
            .await
            .unwrap()
            .len(),
        2
    );
}

fn wrapped(rk_version: u32, tag: u8) -> WrappedKeyRow {
    WrappedKeyRow {
        rk_version,
        wrap_alg: 1,
        wrapped: vec![tag; 40],
        mac: vec![tag ^ 0xff; 32],
    }
}

fn kek(project: &str, pkek_version: u32, rk_version: u32, tag: u8) -> KekRow {
    KekRow {
        project_id: project.to_owned(),
        pkek_version,
        key: wrapped(rk_version, tag),
    }
}

/// Seeds a KEK row behind the store's back (rotation must not depend on how rows were written).
async fn seed_kek(store: &PostgresStore, row: &KekRow, created: i64) {
    sqlx::query(
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac, created) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.project_id)
    .bind(i64::from(row.pkek_version))
    .bind(i64::from(row.key.rk_version))
    .bind(i64::from(row.key.wrap_alg))
    .bind(&row.key.wrapped)
    .bind(&row.key.mac)
    .bind(created)
    .execute(store.pool())
    .await
    .unwrap();
}

async fn seed_system_key(store: &PostgresStore, name: &str, row: &WrappedKeyRow) {
    sqlx::query(
        "INSERT INTO system_keys (name, rk_version, wrap_alg, wrapped, mac) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(name)
    .bind(i64::from(row.rk_version))
    .bind(i64::from(row.wrap_alg))
    .bind(&row.wrapped)
    .bind(&row.mac)
    .execute(store.pool())
    .await
    .unwrap();
}

async fn kek_row(store: &PostgresStore, project: &str, version: u32) -> KekRow {
    let row: (i64, i64, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT rk_version, wrap_alg, wrapped, mac FROM project_keks WHERE project_id = $1 AND pkek_version = $2",
    )
    .bind(project)
    .bind(i64::from(version))
    .fetch_one(store.pool())
    .await
    .unwrap();
    KekRow {
        project_id: project.to_owned(),
        pkek_version: version,
        key: WrappedKeyRow {
            rk_version: row.0 as u32,
            wrap_alg: row.1 as u8,
            wrapped: row.2,
            mac: row.3,
        },
    }
}

fn rewrapped(row: &KekRow, new_rk: u32, tag: u8) -> RewrappedKey {
    RewrappedKey::Kek {
        project_id: row.project_id.clone(),
        pkek_version: row.pkek_version,
        old_rk_version: row.key.rk_version,
        key: wrapped(new_rk, tag),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn root_rewrap_is_a_compare_and_swap() {
    let pg = TempPostgres::new();
    let url = pg.create_database("rewrap");
    let (a, b) = (connect(&url).await, connect(&url).await);
    let (p1v1, p1v2, p2v1) = (kek("p1", 1, 1, 1), kek("p1", 2, 1, 2), kek("p2", 1, 2, 3));
    for row in [&p1v1, &p1v2, &p2v1] {
        seed_kek(&a, row, 0).await;
    }
    seed_system_key(&a, "audit", &wrapped(1, 4)).await;
    seed_system_key(&a, "token", &wrapped(2, 5)).await;

    assert_eq!(
        a.keks_below_rk(2, 10).await.unwrap(),
        vec![p1v1.clone(), p1v2.clone()]
    );
    assert_eq!(a.keks_below_rk(2, 1).await.unwrap(), vec![p1v1.clone()]);
    assert_eq!(
        a.system_keys_below_rk(2).await.unwrap(),
        vec![("audit".to_owned(), wrapped(1, 4))]
    );
    assert_eq!(a.count_keys_below_rk(2).await.unwrap(), 3);
    assert_eq!(a.count_keys_under_rk(2).await.unwrap(), 2);
    assert_eq!(a.count_keys_under_rk(1).await.unwrap(), 3);

    let batch = vec![
        rewrapped(&p1v1, 2, 11),
        RewrappedKey::System {
            name: "audit".into(),
            old_rk_version: 1,
            key: wrapped(2, 14),
        },
    ];
    // Two nodes run the same batch at once: each row is written once.
    let (x, y) = tokio::join!(a.rewrap_keys(&batch), b.rewrap_keys(&batch));
    assert_eq!(x.unwrap() + y.unwrap(), 2);
    // A rerun (the rows no longer have the old version) writes nothing.
    assert_eq!(a.rewrap_keys(&batch).await.unwrap(), 0);
    // A stale expectation beside a fresh one: only the fresh one is written.
    let mixed = vec![rewrapped(&p1v1, 3, 99), rewrapped(&p1v2, 2, 12)];
    assert_eq!(b.rewrap_keys(&mixed).await.unwrap(), 1);
    assert_eq!(
        kek_row(&a, "p1", 1).await,
        kek("p1", 1, 2, 11),
        "the stale rewrap changed nothing"
    );
    assert_eq!(kek_row(&a, "p1", 2).await, kek("p1", 2, 2, 12));
    assert_eq!(a.count_keys_below_rk(2).await.unwrap(), 0);
    assert_eq!(a.count_keys_under_rk(2).await.unwrap(), 5);
    assert!(a.keks_below_rk(2, 10).await.unwrap().is_empty());
    assert!(a.system_keys_below_rk(2).await.unwrap().is_empty());
    assert_eq!(a.rewrap_keys(&[]).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pkek_rotation_records_and_finishes_the_rewrap() {
    let pg = TempPostgres::new();
    let url = pg.create_database("pkek");
    let (a, b) = (connect(&url).await, connect(&url).await);
    let long_ago = at(0).unix_timestamp_nanos() as i64;
    seed_kek(&a, &kek("p1", 1, 1, 1), long_ago).await;
    seed_kek(&a, &kek("p2", 1, 1, 2), long_ago).await;
    let now = OffsetDateTime::now_utc();

    assert_eq!(a.keks_created_before(now, 10).await.unwrap(), ["p1", "p2"]);
    assert_eq!(a.keks_created_before(now, 1).await.unwrap().len(), 1);
    assert!(a.keks_created_before(at(-1), 10).await.unwrap().is_empty());

    // Two nodes add version 2 at once: one wins, the other writes nothing.
    let (v2a, v2b) = (kek("p1", 2, 1, 7), kek("p1", 2, 1, 8));
    let (x, y) = tokio::join!(a.rotate_kek(&v2a, at(10)), b.rotate_kek(&v2b, at(10)));
    assert_eq!(u8::from(x.unwrap()) + u8::from(y.unwrap()), 1);
    assert!(!a.rotate_kek(&kek("p1", 2, 1, 9), at(11)).await.unwrap());
    let pending = a.pending_rewraps(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].project_id.as_str(),
            pending[0].pkek_version,
            pending[0].since
        ),
        ("p1", 2, at(10))
    );
    // p1's newest KEK was created now (the database's clock): only p2 is due.
    assert_eq!(
        a.keks_created_before(now - Duration::hours(1), 10)
            .await
            .unwrap(),
        ["p2"]
    );
    assert_eq!(
        a.keks_created_before(now + Duration::hours(1), 10)
            .await
            .unwrap(),
        ["p2", "p1"]
    );

    // A newer rotation replaces the pending version; finishing the older one is refused.
    assert!(b.rotate_kek(&kek("p1", 3, 1, 10), at(20)).await.unwrap());
    assert!(a.rotate_kek(&kek("p2", 2, 1, 11), at(15)).await.unwrap());
    let pending = a.pending_rewraps(10).await.unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|p| (p.project_id.as_str(), p.pkek_version))
            .collect::<Vec<_>>(),
        [("p2", 2), ("p1", 3)],
        "oldest first"
    );
    assert_eq!(a.pending_rewraps(1).await.unwrap().len(), 1);
    assert!(!a.finish_rewrap("p1", 2).await.unwrap());
    assert!(a.finish_rewrap("p1", 3).await.unwrap());
    assert!(!b.finish_rewrap("p1", 3).await.unwrap());
    assert_eq!(b.pending_rewraps(10).await.unwrap().len(), 1);
}

/// A seal envelope header under `pkek_version` followed by `tag` bytes.
fn sealed(format: u8, pkek_version: u32, tag: u8) -> Vec<u8> {
    let mut v = vec![format];
    v.extend_from_slice(&pkek_version.to_be_bytes());
    v.extend_from_slice(&[tag; 60]);
    v
}

async fn seed_secret(store: &PostgresStore, project: &str, ciphertext: &[u8]) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO secrets (id, project_id, creator_id, secret_type, created, updated) \
         VALUES ($1, $2, 'alice', 'opaque', 0, 0)",
    )
    .bind(id.hyphenated().to_string())
    .bind(project)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO secret_payloads (secret_id, ciphertext, content_type) VALUES ($1, $2, 'text/plain')",
    )
    .bind(id.hyphenated().to_string())
    .bind(ciphertext)
    .execute(store.pool())
    .await
    .unwrap();
    id
}

async fn payload_of(store: &PostgresStore, id: Uuid) -> Vec<u8> {
    sqlx::query_scalar("SELECT ciphertext FROM secret_payloads WHERE secret_id = $1")
        .bind(id.hyphenated().to_string())
        .fetch_one(store.pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reseal_is_a_compare_and_swap_on_the_envelope() {
    let pg = TempPostgres::new();
    let url = pg.create_database("reseal");
    let (a, b) = (connect(&url).await, connect(&url).await);
    let old = seed_secret(&a, "p1", &sealed(1, 1, 1)).await;
    let old2 = seed_secret(&a, "p1", &sealed(1, 2, 2)).await;
    let current = seed_secret(&a, "p1", &sealed(1, 3, 3)).await;
    let _other_format = seed_secret(&a, "p1", &sealed(2, 1, 4)).await;
    let _other_project = seed_secret(&a, "p2", &sealed(1, 1, 5)).await;
    let _empty = seed_secret(&a, "p1", &[]).await;
    let key = kms_key("p1", sealed(1, 1, 6));
    a.insert_kms_key(&key).await.unwrap();
    a.insert_kms_key(&kms_key("p1", sealed(1, 3, 7)))
        .await
        .unwrap();

    let stale = a.stale_sealed("p1", 3, 10).await.unwrap();
    assert_eq!(stale.len(), 3, "{stale:?}");
    let mut payloads: Vec<Uuid> = stale
        .iter()
        .filter_map(|s| match s {
            StaleSealed::SecretPayload { secret_id, .. } => Some(*secret_id),
            StaleSealed::KmsMaterial { .. } | StaleSealed::SecretLocator { .. } => None,
        })
        .collect();
    payloads.sort();
    assert_eq!(payloads, [old, old2]);
    assert!(matches!(
        &stale[2],
        StaleSealed::KmsMaterial { key_id, version: 1, key_spec, key_usage, sealed: s }
            if *key_id == key.key.id && key_spec == "SYMMETRIC_DEFAULT" && key_usage == "ENCRYPT_DECRYPT"
                && *s == sealed(1, 1, 6)
    ));
    assert_eq!(a.stale_sealed("p1", 3, 2).await.unwrap().len(), 2);
    assert_eq!(a.stale_sealed("p1", 2, 10).await.unwrap().len(), 2);
    assert!(a.stale_sealed("p1", 1, 10).await.unwrap().is_empty());

    let resealed: Vec<Resealed> = stale
        .iter()
        .map(|s| Resealed {
            old: s.clone(),
            sealed: sealed(1, 3, 0x33),
        })
        .collect();
    // The payload of `old2` changes meanwhile (a concurrent update): its re-seal must not overwrite it.
    sqlx::query("UPDATE secret_payloads SET ciphertext = $1 WHERE secret_id = $2")
        .bind(sealed(1, 3, 0x44))
        .bind(old2.hyphenated().to_string())
        .execute(a.pool())
        .await
        .unwrap();
    let (x, y) = tokio::join!(a.reseal(&resealed), b.reseal(&resealed));
    assert_eq!(x.unwrap() + y.unwrap(), 2, "each unchanged object once");
    assert_eq!(
        a.reseal(&resealed).await.unwrap(),
        0,
        "a rerun writes nothing"
    );
    assert_eq!(payload_of(&a, old).await, sealed(1, 3, 0x33));
    assert_eq!(payload_of(&a, old2).await, sealed(1, 3, 0x44));
    assert_eq!(payload_of(&a, current).await, sealed(1, 3, 3));
    assert_eq!(
        a.get_kms_key_version(key.key.id, 1)
            .await
            .unwrap()
            .unwrap()
            .sealed,
        sealed(1, 3, 0x33)
    );
    assert!(a.stale_sealed("p1", 3, 10).await.unwrap().is_empty());
    assert_eq!(a.stale_sealed("p2", 3, 10).await.unwrap().len(), 1);
}

/// A quota-checked insert and its audit record share one transaction (`append_audit_in`): from two nodes at once,
/// exactly the quota is inserted, every attempt leaves one record (accepted or refused), interleaved plain appends
/// keep the chain gapless, and it verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audited_inserts_from_two_nodes_share_the_chain() {
    let pg = TempPostgres::new();
    let url = pg.create_database("audited");
    let nodes = [Arc::new(connect(&url).await), Arc::new(connect(&url).await)];
    const PER_NODE: usize = 20;
    const QUOTA: i64 = 10;
    let check = QuotaCheck {
        resource: QuotaResource::Secrets,
        default: QUOTA,
    };
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for i in 0..PER_NODE {
            let node = Arc::clone(node);
            tasks.push(tokio::spawn(async move {
                let s = common::secret("p", i as i64);
                let audit = AuditedWrite {
                    accepted: format!("{{\"n\":{n},\"i\":{i},\"ok\":true}}").into_bytes(),
                    refused: format!("{{\"n\":{n},\"i\":{i},\"ok\":false}}").into_bytes(),
                    sealer: sealer(),
                };
                let (inserted, record) = node
                    .insert_secret_within_quota_audited(&s, None, check, audit)
                    .await?;
                let plain = node
                    .append_audit(format!("{{\"n\":{n},\"i\":{i}}}").into_bytes(), sealer())
                    .await?;
                Ok::<_, arca_core::StoreError>((inserted, record, plain))
            }));
        }
    }
    let mut inserted = 0;
    for task in tasks {
        let (ok, record, _plain) = task.await.unwrap().expect("every write succeeds");
        inserted += usize::from(ok);
        let text = String::from_utf8(record.event).unwrap();
        assert_eq!(text.ends_with("\"ok\":true}"), ok, "{text}");
    }
    assert_eq!(inserted as i64, QUOTA, "exactly the quota is inserted");
    let records = nodes[0].audit_records().await.unwrap();
    let total = nodes.len() * PER_NODE * 2;
    assert_eq!(records.len(), total);
    assert_eq!(verify_chain(&audit_key(), &records), Ok(total as u64));
}

/// Rows edited behind the store's back into values the domain cannot hold are errors, never panics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_rows_are_errors_not_panics() {
    let pg = TempPostgres::new();
    let store = connect(&pg.url()).await;
    let new = kms_key("p1", vec![1; 40]);
    store.insert_kms_key(&new).await.unwrap();
    store.append_audit(b"e".to_vec(), sealer()).await.unwrap();
    seed_kek(&store, &kek("p1", 1, 1, 1), 0).await;
    for sql in [
        "UPDATE kms_keys SET state = 'Melted'",
        "UPDATE kms_key_versions SET rotation_kind = 'Sideways'",
        "UPDATE audit_log SET key_version = -1",
        "UPDATE project_keks SET wrap_alg = 300",
    ] {
        sqlx::query(sql).execute(store.pool()).await.unwrap();
    }
    assert!(store.get_kms_key(new.key.id).await.is_err());
    assert!(store.list_kms_keys("p1", 10, None).await.is_err());
    assert!(store.get_kms_key_version(new.key.id, 1).await.is_err());
    assert!(store.audit_records().await.is_err());
    assert!(store.keks_below_rk(2, 10).await.is_err());
    sqlx::query(
        "INSERT INTO kms_keys (id, project_id, description, key_spec, key_usage, state, created, current_version) \
         VALUES ('not-a-uuid', 'p2', '', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'Enabled', 0, 1)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    assert!(store.list_kms_keys("p2", 10, None).await.is_err());
}

/// Tag writes from two nodes at once cannot both pass the per-key limit (the key row is locked before counting).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tag_writes_respect_the_limit() {
    let pg = TempPostgres::new();
    let url = pg.create_database("tags");
    let (a, b) = (connect(&url).await, connect(&url).await);
    let pairs = |keys: &[&str]| {
        keys.iter()
            .map(|k| ((*k).to_owned(), "v".to_owned()))
            .collect::<Vec<_>>()
    };
    let (ab, cd) = (pairs(&["a", "b"]), pairs(&["c", "d"]));
    for round in 0..20 {
        let new = kms_key("p1", vec![1; 40]);
        a.insert_kms_key(&new).await.unwrap();
        let id = new.key.id;
        let (x, y) = tokio::join!(a.put_kms_tags(id, &ab, 3), b.put_kms_tags(id, &cd, 3));
        assert_eq!(
            u8::from(x.unwrap()) + u8::from(y.unwrap()),
            1,
            "round {round}: exactly one write fits"
        );
        assert_eq!(a.list_kms_tags(id).await.unwrap().len(), 2);
    }
}
