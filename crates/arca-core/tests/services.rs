//! The domain services over a real SQLite store and a real root key file: KEK creation and integrity, the
//! payload seal, policy on every secret operation, token lifecycle and expiry with a controllable clock.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use arca_core::{
    CacheLimits, CoreError, FileRootKey, ManualClock, NewSecret, Payload, Principal, Role,
    SecretQuery, SecretType, Services, Store,
};
use arca_store::SqliteStore;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

struct World {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    clock: Arc<ManualClock>,
    services: Services,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let rk_path = dir.path().join("root.key");
    FileRootKey::create(&rk_path).unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("arca.db"))
            .await
            .unwrap(),
    );
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let services = start(
        store.clone(),
        Arc::new(FileRootKey::open(&rk_path).unwrap()),
        clock.clone(),
    )
    .await;
    World {
        _dir: dir,
        store,
        clock,
        services,
    }
}

/// The services over `store` and `root`, with a KEK cache of two and 5 s token rows.
async fn start(
    store: Arc<SqliteStore>,
    root: Arc<dyn arca_core::RootKeyProvider>,
    clock: Arc<ManualClock>,
) -> Services {
    Services::start(
        store,
        root,
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

fn who(project: &str, user: &str, role: &str) -> Principal {
    Principal {
        project_id: project.into(),
        user_id: user.into(),
        roles: vec![Role::parse(role)],
    }
}

fn new_secret(payload: Option<&[u8]>) -> NewSecret {
    NewSecret {
        name: Some("n".into()),
        algorithm: None,
        bit_length: None,
        mode: None,
        secret_type: SecretType::Opaque,
        expiration: None,
        payload: payload.map(|p| Payload {
            bytes: Zeroizing::new(p.to_vec()),
            content_type: "text/plain".into(),
        }),
    }
}

#[tokio::test]
async fn payload_round_trips_and_is_sealed_at_rest() {
    let w = world().await;
    let alice = who("p1", "alice", "creator");
    let secret = w
        .services
        .secrets
        .create(&alice, new_secret(Some(b"top secret value")))
        .await
        .unwrap();
    let stored = w.store.get_payload(secret.id).await.unwrap().unwrap();
    assert!(
        !stored
            .ciphertext
            .windows(16)
            .any(|win| win == b"top secret value")
    );
    assert_eq!(stored.ciphertext[0], 1, "format byte");
    let (_, payload) = w.services.secrets.payload(&alice, secret.id).await.unwrap();
    assert_eq!(&payload.bytes[..], b"top secret value");
}

#[tokio::test]
async fn one_kek_per_project_even_under_concurrent_first_use() {
    let w = world().await;
    let alice = who("p1", "alice", "creator");
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = w.services.secrets.clone();
        let a = alice.clone();
        tasks.push(tokio::spawn(async move {
            s.create(&a, new_secret(Some(format!("v{i}").as_bytes())))
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    let kek = w.store.get_active_kek("p1").await.unwrap().unwrap();
    assert_eq!(kek.pkek_version, 1);
    for (i, id) in ids.iter().enumerate() {
        let (_, p) = w.services.secrets.payload(&alice, *id).await.unwrap();
        assert_eq!(&p.bytes[..], format!("v{i}").as_bytes());
    }
}

#[tokio::test]
async fn a_kek_row_moved_to_another_project_fails_integrity() {
    let w = world().await;
    w.services
        .secrets
        .create(&who("p1", "a", "creator"), new_secret(Some(b"one")))
        .await
        .unwrap();
    let b = w
        .services
        .secrets
        .create(&who("p2", "b", "creator"), new_secret(Some(b"two")))
        .await
        .unwrap();
    let p1 = w.store.get_active_kek("p1").await.unwrap().unwrap();
    // A database writer plants p1's wrapped key and MAC as the KEK of project p3: the MAC and the wrap's
    // associated data bind the project, so it must be refused rather than let p3 share p1's key.
    let forged = arca_core::KekRow {
        project_id: "p3".into(),
        pkek_version: 1,
        key: p1.key.clone(),
    };
    assert!(w.store.insert_kek(&forged).await.unwrap());
    let err = w
        .services
        .secrets
        .create(&who("p3", "c", "creator"), new_secret(Some(b"x")))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, CoreError::Integrity(_)), "{err:?}");
    // The honest projects still work.
    let (_, p) = w
        .services
        .secrets
        .payload(&who("p2", "b", "creator"), b.id)
        .await
        .unwrap();
    assert_eq!(&p.bytes[..], b"two");
}

#[tokio::test]
async fn policy_is_enforced_on_every_operation() {
    let w = world().await;
    let owner = who("p1", "alice", "creator");
    let s = w
        .services
        .secrets
        .create(&owner, new_secret(Some(b"v")))
        .await
        .unwrap();
    let forbidden = |r: Result<(), CoreError>| matches!(r, Err(CoreError::Forbidden(_)));
    let foreign = who("p2", "mallory", "admin");
    assert!(forbidden(
        w.services.secrets.get(&foreign, s.id).await.map(|_| ())
    ));
    assert!(forbidden(
        w.services.secrets.payload(&foreign, s.id).await.map(|_| ())
    ));
    assert!(forbidden(w.services.secrets.delete(&foreign, s.id).await));
    assert!(forbidden(
        w.services
            .secrets
            .metadata(&foreign, s.id)
            .await
            .map(|_| ())
    ));
    let audit = who("p1", "auditor", "audit");
    assert!(w.services.secrets.get(&audit, s.id).await.is_ok());
    assert!(forbidden(
        w.services.secrets.payload(&audit, s.id).await.map(|_| ())
    ));
    // Barbican's legacy `secret:delete` lets any creator-role caller delete a non-private secret; not an observer.
    assert!(forbidden(
        w.services
            .secrets
            .delete(&who("p1", "olga", "observer"), s.id)
            .await
    ));
    let observer = who("p1", "olga", "observer");
    assert!(w.services.secrets.payload(&observer, s.id).await.is_ok());
    assert!(forbidden(
        w.services
            .secrets
            .create(&observer, new_secret(None))
            .await
            .map(|_| ())
    ));
    w.services.secrets.delete(&owner, s.id).await.unwrap();
    assert!(matches!(
        w.services.secrets.get(&owner, s.id).await,
        Err(CoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn two_step_create_then_conflict() {
    let w = world().await;
    let alice = who("p1", "alice", "admin");
    let s = w
        .services
        .secrets
        .create(&alice, new_secret(None))
        .await
        .unwrap();
    assert!(matches!(
        w.services.secrets.payload(&alice, s.id).await,
        Err(CoreError::NotFound(_))
    ));
    let put = |b: &[u8]| Payload {
        bytes: Zeroizing::new(b.to_vec()),
        content_type: "application/octet-stream".into(),
    };
    w.services
        .secrets
        .put_payload(&alice, s.id, put(b"\x00\x01"))
        .await
        .unwrap();
    assert!(matches!(
        w.services
            .secrets
            .put_payload(&alice, s.id, put(b"x"))
            .await,
        Err(CoreError::Conflict(_))
    ));
    let (meta, p) = w.services.secrets.payload(&alice, s.id).await.unwrap();
    assert_eq!(&p.bytes[..], b"\x00\x01");
    assert_eq!(
        meta.content_type.as_deref(),
        Some("application/octet-stream")
    );
}

#[tokio::test]
async fn expiry_follows_the_clock() {
    let w = world().await;
    let alice = who("p1", "alice", "creator");
    let mut new = new_secret(Some(b"v"));
    new.expiration = Some(w.clock.now_for_test() + Duration::minutes(5));
    let s = w.services.secrets.create(&alice, new).await.unwrap();
    let query = || SecretQuery::for_project("ignored", OffsetDateTime::UNIX_EPOCH, 10, 0);
    assert_eq!(
        w.services
            .secrets
            .list(&alice, query())
            .await
            .unwrap()
            .total,
        1
    );
    w.clock.advance(Duration::minutes(6));
    assert!(matches!(
        w.services.secrets.payload(&alice, s.id).await,
        Err(CoreError::NotFound(_))
    ));
    assert_eq!(
        w.services
            .secrets
            .list(&alice, query())
            .await
            .unwrap()
            .total,
        0
    );
    let mut past = new_secret(Some(b"v"));
    past.expiration = Some(w.clock.now_for_test() - Duration::seconds(1));
    assert!(matches!(
        w.services.secrets.create(&alice, past).await,
        Err(CoreError::Invalid(_))
    ));
}

#[tokio::test]
async fn tokens_authenticate_until_expiry_or_revocation() {
    let w = world().await;
    let issued = w
        .services
        .tokens
        .issue("p1", "alice", &[Role::Creator], Duration::hours(1))
        .await
        .unwrap();
    let p = w.services.tokens.authenticate(&issued.token).await.unwrap();
    assert_eq!((p.project_id.as_str(), p.user_id.as_str()), ("p1", "alice"));
    assert_eq!(p.roles, vec![Role::Creator]);
    // Stored only as a digest.
    let row = w.store.get_token(&issued.id).await.unwrap().unwrap();
    assert_ne!(row.digest, issued.token.as_bytes());
    assert_eq!(row.digest.len(), 32);
    // A different token with the same id does not pass.
    let other = w
        .services
        .tokens
        .issue("p1", "bob", &[Role::Admin], Duration::hours(1))
        .await
        .unwrap();
    let forged = format!(
        "arca_{}_{}",
        issued.id,
        other.token.split_once(&format!("{}_", other.id)).unwrap().1
    );
    assert!(matches!(
        w.services.tokens.authenticate(&forged).await,
        Err(CoreError::Unauthenticated)
    ));
    assert!(matches!(
        w.services.tokens.authenticate("garbage").await,
        Err(CoreError::Unauthenticated)
    ));
    w.clock.advance(Duration::minutes(61));
    assert!(matches!(
        w.services.tokens.authenticate(&issued.token).await,
        Err(CoreError::Unauthenticated)
    ));
    w.services.tokens.revoke(&other.id).await.unwrap();
    assert!(matches!(
        w.services.tokens.authenticate(&other.token).await,
        Err(CoreError::Unauthenticated)
    ));
    // A revocation written by another process (not through this service, so not evicted from its cache)
    // bites once the cached row is older than the token cache TTL (5 s here).
    let third = w
        .services
        .tokens
        .issue("p1", "carol", &[Role::Admin], Duration::hours(1))
        .await
        .unwrap();
    w.services.tokens.authenticate(&third.token).await.unwrap();
    assert!(w.store.revoke_token(&third.id).await.unwrap());
    assert!(
        w.services.tokens.authenticate(&third.token).await.is_ok(),
        "cached within the TTL"
    );
    w.clock.advance(Duration::seconds(6));
    assert!(matches!(
        w.services.tokens.authenticate(&third.token).await,
        Err(CoreError::Unauthenticated)
    ));
    assert!(
        w.services
            .tokens
            .issue("p1", "x", &[Role::Admin], Duration::days(400))
            .await
            .is_err()
    );
    assert!(
        w.services
            .tokens
            .issue("", "x", &[Role::Admin], Duration::hours(1))
            .await
            .is_err()
    );
}

trait NowForTest {
    fn now_for_test(&self) -> OffsetDateTime;
}

impl NowForTest for ManualClock {
    fn now_for_test(&self) -> OffsetDateTime {
        arca_core::Clock::now(self)
    }
}

/// Sealing drops every key the hierarchy unwrapped, the prepared token MAC key among them: a token that
/// authenticated a moment before is refused until the root is unsealed again.
#[tokio::test]
async fn sealing_forgets_the_prepared_token_key() {
    use arca_core::{Sealable, ShamirRoot, root_sealed_path};
    let dir = tempfile::tempdir().unwrap();
    let (root, shares) = ShamirRoot::create(&root_sealed_path(dir.path()), 2, 3).unwrap();
    let root = Arc::new(root);
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("arca.db"))
            .await
            .unwrap(),
    );
    let services = start(
        store,
        root.clone(),
        Arc::new(ManualClock::new(OffsetDateTime::now_utc())),
    )
    .await;
    let issued = services
        .tokens
        .issue("p1", "alice", &[Role::Creator], Duration::hours(1))
        .await
        .unwrap();
    assert!(services.tokens.authenticate(&issued.token).await.is_ok());

    root.seal();
    services.purge_keys();
    assert!(
        services.tokens.authenticate(&issued.token).await.is_err(),
        "a sealed root authenticates nothing"
    );

    for share in &shares[..2] {
        root.submit_share(&share.to_text()).unwrap();
    }
    assert!(services.tokens.authenticate(&issued.token).await.is_ok());
}
