//! Shared setup of the KMS service tests: services over a real SQLite store and root key file with a manual
//! clock, principals, and error-kind assertions.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;
use std::time::Duration as StdDuration;

use arca_core::{
    CacheLimits, CoreError, CreateKeyRequest, FileRootKey, KmsErrorKind, KmsKey, ManualClock,
    Principal, Role, Services,
};
use arca_crypto::{KmsKeySpec, KmsKeyUsage};
use arca_store::SqliteStore;
use time::OffsetDateTime;

pub struct World {
    pub _dir: tempfile::TempDir,
    pub store: Arc<SqliteStore>,
    pub clock: Arc<ManualClock>,
    pub services: Services,
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let rk_path = dir.path().join("root.key");
    FileRootKey::create(&rk_path).unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("arca.db"))
            .await
            .unwrap(),
    );
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let services = Services::start(
        store.clone(),
        Arc::new(FileRootKey::open(&rk_path).unwrap()),
        clock.clone(),
        CacheLimits {
            ttl: StdDuration::from_secs(900),
            limit: 4,
            token_ttl: StdDuration::from_secs(5),
            shared: false,
        },
    )
    .await
    .unwrap();
    World {
        _dir: dir,
        store,
        clock,
        services,
    }
}

pub fn who(project: &str, user: &str, role: &str) -> Principal {
    Principal {
        project_id: project.into(),
        user_id: user.into(),
        roles: vec![Role::parse(role)],
    }
}

pub fn admin() -> Principal {
    who("p1", "alice", "admin")
}

pub fn request(spec: KmsKeySpec, usage: KmsKeyUsage) -> CreateKeyRequest {
    CreateKeyRequest {
        description: "test key".into(),
        key_spec: Some(spec),
        key_usage: Some(usage),
        tags: Vec::new(),
    }
}

pub async fn symmetric(w: &World, p: &Principal) -> KmsKey {
    w.services
        .kms
        .create_key(p, CreateKeyRequest::default())
        .await
        .unwrap()
}

#[track_caller]
pub fn kind<T>(result: Result<T, CoreError>) -> KmsErrorKind {
    match result {
        Err(e) => e
            .kms_kind()
            .unwrap_or_else(|| panic!("not a KMS error: {e:?}")),
        Ok(_) => panic!("expected an error"),
    }
}

#[track_caller]
pub fn forbidden<T>(result: Result<T, CoreError>) {
    assert!(
        matches!(result, Err(CoreError::Forbidden(_))),
        "expected Forbidden"
    );
}
