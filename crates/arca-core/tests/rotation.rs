//! Key rotation over a real SQLite store and a real root key file: project KEK rotation (new writes under the
//! new version, old objects readable, the background rewrap moving secret payloads and KMS key material, the
//! pending rewrap closing only after the settle time, scheduled rotation), and root key rotation (every KEK and
//! system key rewrapped, the old version retired, a pending rotation finished, another process's hierarchy
//! learning the new version on its own).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use arca_core::{
    CacheLimits, CreateKeyRequest, FileRootKey, ManualClock, NewSecret, Payload, Principal, Role,
    RootKeyProvider, SecretType, Services, Store,
};
use arca_crypto::{EncryptionAlgorithm, EncryptionContext};
use arca_store::SqliteStore;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

struct World {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    services: Services,
}

async fn services_on(dir: &Path, store: Arc<SqliteStore>, clock: Arc<ManualClock>) -> Services {
    Services::start(
        store,
        Arc::new(FileRootKey::open(&dir.join("root.key")).unwrap()),
        clock,
        CacheLimits {
            ttl: StdDuration::from_secs(900),
            limit: 2,
            token_ttl: StdDuration::from_secs(5),
            shared: false,
        },
    )
    .await
    .unwrap()
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    FileRootKey::create(&dir.path().join("root.key")).unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("arca.db"))
            .await
            .unwrap(),
    );
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let services = services_on(dir.path(), store.clone(), clock.clone()).await;
    World {
        dir,
        store,
        clock,
        services,
    }
}

fn who(project: &str) -> Principal {
    Principal {
        project_id: project.into(),
        user_id: "alice".into(),
        roles: vec![Role::parse("admin")],
    }
}

fn secret(value: &str) -> NewSecret {
    NewSecret {
        name: Some("n".into()),
        algorithm: None,
        bit_length: None,
        mode: None,
        secret_type: SecretType::Opaque,
        expiration: None,
        payload: Some(Payload {
            bytes: Zeroizing::new(value.as_bytes().to_vec()),
            content_type: "text/plain".into(),
        }),
    }
}

/// The PKEK version in a seal header.
fn header_version(sealed: &[u8]) -> u32 {
    assert_eq!(sealed[0], 1, "format byte");
    u32::from_be_bytes(sealed[1..5].try_into().unwrap())
}

async fn payload_version(store: &SqliteStore, id: Uuid) -> u32 {
    header_version(&store.get_payload(id).await.unwrap().unwrap().ciphertext)
}

async fn read(services: &Services, project: &str, id: Uuid) -> String {
    let (_, p) = services.secrets.payload(&who(project), id).await.unwrap();
    String::from_utf8(p.bytes.to_vec()).unwrap()
}

fn ctx() -> EncryptionContext {
    [("k".to_owned(), "v".to_owned())].into_iter().collect()
}

const SYM: EncryptionAlgorithm = EncryptionAlgorithm::SymmetricDefault;

#[tokio::test]
async fn pkek_rotation_moves_payloads_and_kms_material_to_the_new_version() {
    let w = world().await;
    let p = who("p1");
    let mut old = Vec::new();
    for i in 0..5 {
        old.push(
            w.services
                .secrets
                .create(&p, secret(&format!("old {i}")))
                .await
                .unwrap()
                .id,
        );
    }
    let other = w
        .services
        .secrets
        .create(&who("p2"), secret("p2"))
        .await
        .unwrap()
        .id;
    let key = w
        .services
        .kms
        .create_key(&p, CreateKeyRequest::default())
        .await
        .unwrap();
    let kms_id = key.id.to_string();
    let blob = w
        .services
        .kms
        .encrypt(&p, &kms_id, b"kms data", &ctx(), SYM)
        .await
        .unwrap();
    assert_eq!(payload_version(&w.store, old[0]).await, 1);

    let rotation = w.services.pkek_rotation();
    assert_eq!(rotation.rotate("p1").await.unwrap(), 2);
    // New writes use version 2 at once in this process; old objects still read under version 1.
    let new = w
        .services
        .secrets
        .create(&p, secret("new"))
        .await
        .unwrap()
        .id;
    assert_eq!(payload_version(&w.store, new).await, 2);
    assert_eq!(payload_version(&w.store, old[3]).await, 1);
    assert_eq!(read(&w.services, "p1", old[3]).await, "old 3");
    let pending = w.store.pending_rewraps(10).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].project_id.as_str(), pending[0].pkek_version),
        ("p1", 2)
    );

    // The background rewrap, in small batches: every object of p1 ends under version 2; p2 is untouched.
    let resealed = rotation.rewrap_pending(2, 1_000).await.unwrap();
    assert_eq!(resealed, 6, "five payloads and one KMS key version");
    for id in old.iter().chain([&new]) {
        assert_eq!(payload_version(&w.store, *id).await, 2);
    }
    let material = w
        .store
        .get_kms_key_version(key.id, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(header_version(&material.sealed), 2);
    assert_eq!(payload_version(&w.store, other).await, 1);
    assert!(w.store.stale_sealed("p1", 2, 100).await.unwrap().is_empty());

    // The project stays pending until every node must have noticed the new version, then closes.
    assert_eq!(w.store.pending_rewraps(10).await.unwrap().len(), 1);
    w.clock.advance(Duration::seconds(11));
    assert_eq!(rotation.rewrap_pending(2, 1_000).await.unwrap(), 0);
    assert!(w.store.pending_rewraps(10).await.unwrap().is_empty());

    // A fresh process (no cached KEKs, no cached KMS material) reads everything and the KMS key still works.
    let fresh = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    for (i, id) in old.iter().enumerate() {
        assert_eq!(read(&fresh, "p1", *id).await, format!("old {i}"));
    }
    assert_eq!(read(&fresh, "p1", new).await, "new");
    let plain = fresh
        .kms
        .decrypt(&p, None, &blob.ciphertext, &ctx(), SYM)
        .await
        .unwrap();
    assert_eq!(&plain.plaintext[..], b"kms data");
    let again = fresh
        .kms
        .encrypt(&p, &kms_id, b"more", &ctx(), SYM)
        .await
        .unwrap();
    let plain = fresh
        .kms
        .decrypt(&p, None, &again.ciphertext, &ctx(), SYM)
        .await
        .unwrap();
    assert_eq!(&plain.plaintext[..], b"more");
    assert!(w.services.audit.verify().await.unwrap().is_ok());
    let actions: Vec<String> = w
        .store
        .audit_records()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.event).into_owned())
        .collect();
    assert!(
        actions
            .iter()
            .any(|e| e.contains("project.kek.rotate") && e.contains("p1 v2"))
    );
    assert!(actions.iter().any(|e| e.contains("project.kek.rewrapped")));
}

#[tokio::test]
async fn scheduled_rotation_rotates_keks_older_than_the_period() {
    let w = world().await;
    for project in ["a", "b"] {
        w.services
            .secrets
            .create(&who(project), secret(project))
            .await
            .unwrap();
    }
    let rotation = w.services.pkek_rotation();
    let period = StdDuration::from_secs(90 * 86_400);
    assert_eq!(
        rotation.rotate_due(period, 100).await.unwrap(),
        0,
        "nothing is old yet"
    );
    w.clock.advance(Duration::days(91));
    assert_eq!(rotation.rotate_due(period, 100).await.unwrap(), 2);
    assert_eq!(
        w.store
            .get_active_kek("a")
            .await
            .unwrap()
            .unwrap()
            .pkek_version,
        2
    );
    // Rows are stamped with the time of insertion, so the fresh versions are not due again at once.
    w.clock.advance(Duration::days(-91));
    assert_eq!(rotation.rotate_due(period, 100).await.unwrap(), 0);
}

#[tokio::test]
async fn scheduled_rotation_on_two_nodes_at_once_rotates_each_project_once() {
    let w = world().await;
    // A second node: its own services (hierarchy, caches) over the same database.
    let other = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    for project in ["a", "b", "c"] {
        w.services
            .secrets
            .create(&who(project), secret(project))
            .await
            .unwrap();
    }
    w.clock.advance(Duration::days(91));
    let period = StdDuration::from_secs(90 * 86_400);
    let (one, two) = (w.services.pkek_rotation(), other.pkek_rotation());
    let (x, y) = tokio::join!(one.rotate_due(period, 100), two.rotate_due(period, 100));
    assert_eq!(x.unwrap() + y.unwrap(), 3, "each due project rotated once");
    for project in ["a", "b", "c"] {
        let active = w.store.get_active_kek(project).await.unwrap().unwrap();
        assert_eq!(
            active.pkek_version, 2,
            "{project} rotated once, not once per node"
        );
    }
}

#[tokio::test]
async fn root_rotation_rewraps_every_key_and_retires_the_old_version() {
    let w = world().await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let project = format!("p{i}");
        let id = w
            .services
            .secrets
            .create(&who(&project), secret(&project))
            .await
            .unwrap()
            .id;
        ids.push((project, id));
    }
    // A second KEK version for one project: every version is rewrapped.
    w.services.pkek_rotation().rotate("p0").await.unwrap();
    let token = w
        .services
        .tokens
        .issue("p1", "u", &[Role::parse("admin")], Duration::hours(1))
        .await
        .unwrap();

    // The rotation runs as another process would: its own provider and services on the same files.
    let admin = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    let progress = |_: u64, _: u64| {};
    let report = admin
        .root_rotation()
        .run(3, StdDuration::ZERO, &progress)
        .await
        .unwrap();
    assert_eq!(
        (report.to, report.retired.clone(), report.resumed),
        (2, vec![1], false)
    );
    assert_eq!(report.rewrapped, 21 + 3, "21 KEK rows and 3 system keys");
    let text = std::fs::read_to_string(w.dir.path().join("root.key")).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with("2 "));
    assert_eq!(w.store.count_keys_below_rk(2).await.unwrap(), 0);

    // The first services never reloaded: meeting rk_version 2 (KEKs not in its tiny cache) it reloads once.
    for (project, id) in &ids {
        assert_eq!(&read(&w.services, project, *id).await, project);
    }
    assert_eq!(w.services.keys.root().versions(), vec![2]);
    // System keys survived: tokens still validate, the audit chain still verifies, in a fresh process too.
    let fresh = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    fresh
        .tokens
        .authenticate(token.token.as_str())
        .await
        .unwrap();
    assert!(fresh.audit.verify().await.unwrap().is_ok());
    for (project, id) in &ids {
        assert_eq!(&read(&fresh, project, *id).await, project);
    }
    // New KEKs are wrapped under the new version.
    fresh
        .secrets
        .create(&who("newcomer"), secret("x"))
        .await
        .unwrap();
    assert_eq!(
        w.store
            .get_active_kek("newcomer")
            .await
            .unwrap()
            .unwrap()
            .key
            .rk_version,
        2
    );
}

#[tokio::test]
async fn a_pending_root_rotation_is_finished_not_restarted() {
    let w = world().await;
    let id = w
        .services
        .secrets
        .create(&who("p"), secret("v"))
        .await
        .unwrap()
        .id;
    // A run killed right after adding the version left two versions and every row under the old one.
    let rk = FileRootKey::open(&w.dir.path().join("root.key")).unwrap();
    assert_eq!(rk.add_version().unwrap(), 2);
    let admin = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    let progress = |_: u64, _: u64| {};
    let report = admin
        .root_rotation()
        .run(1, StdDuration::ZERO, &progress)
        .await
        .unwrap();
    assert_eq!(
        (report.to, report.retired, report.resumed),
        (2, vec![1], true)
    );
    rk.reload().unwrap();
    assert_eq!(rk.versions(), vec![2]);
    let fresh = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    assert_eq!(read(&fresh, "p", id).await, "v");
}

#[tokio::test]
async fn keks_wrapped_under_the_old_version_during_the_rotation_are_rewrapped_before_retiring() {
    let w = world().await;
    w.services
        .secrets
        .create(&who("first"), secret("first"))
        .await
        .unwrap();
    // `w.services` stands for a server that has not reloaded root.key yet: it keeps wrapping new projects'
    // KEKs under version 1 while the rotation (another process) runs.
    let server = w.services.clone();
    let writer = tokio::spawn(async move {
        let mut ids = Vec::new();
        for i in 0..10 {
            let project = format!("late{i}");
            ids.push((
                project.clone(),
                server
                    .secrets
                    .create(&who(&project), secret(&project))
                    .await
                    .unwrap()
                    .id,
            ));
            tokio::time::sleep(StdDuration::from_millis(30)).await;
        }
        ids
    });
    let admin = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    let progress = |_: u64, _: u64| {};
    let report = admin
        .root_rotation()
        .run(2, StdDuration::from_millis(700), &progress)
        .await
        .unwrap();
    let late = writer.await.unwrap();
    assert_eq!((report.to, report.retired), (2, vec![1]));
    assert_eq!(
        report.rewrapped,
        1 + 10 + 3,
        "the late KEKs were rewrapped too"
    );
    assert_eq!(
        w.store.count_keys_below_rk(2).await.unwrap(),
        0,
        "nothing left under version 1"
    );
    let fresh = services_on(w.dir.path(), w.store.clone(), w.clock.clone()).await;
    for (project, id) in &late {
        assert_eq!(&read(&fresh, project, *id).await, project);
    }
}
