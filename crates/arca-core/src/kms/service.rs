//! `KmsService`: the struct, its authorisation (admin and creator do everything in their project; observer
//! only the read operations; anyone else nothing), key resolution (by id, ARN or alias, inside the caller's
//! project only), state checks, material loading through the caches, and auditing. The operations live in
//! `keys`, `crypto_ops`, `aliases`, `rotation` and `tags`.

use std::sync::Arc;

use arca_crypto::{KeyMaterial, KmsKeySpec};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::cache::{MaterialCache, RowCache};
use super::key::{KeyState, KmsKey};
use super::key_ref::{KeyRef, parse_key_ref};
use crate::{
    AuditLog, AuditOutcome, CacheLimits, Clock, CoreError, KeyHierarchy, KmsErrorKind, KmsKeyRow,
    Principal, Role, Store,
};

/// The audit object kind of KMS keys.
pub(crate) const OBJECT_KIND: &str = "kms-key";

/// Operations an observer may perform.
const READ_OPERATIONS: [&str; 6] = [
    "DescribeKey",
    "ListKeys",
    "ListAliases",
    "GetKeyRotationStatus",
    "ListKeyRotations",
    "ListResourceTags",
];

/// The AWS-KMS-compatible key service.
#[derive(Clone)]
pub struct KmsService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: Arc<KeyHierarchy>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) audit: AuditLog,
    pub(crate) materials: Arc<MaterialCache>,
    pub(crate) rows: Arc<RowCache>,
}

impl std::fmt::Debug for KmsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsService").finish_non_exhaustive()
    }
}

impl KmsService {
    /// A service over the store and hierarchy; caches sized by `limits.limit`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyHierarchy>,
        clock: Arc<dyn Clock>,
        limits: CacheLimits,
    ) -> Self {
        Self {
            store,
            keys,
            clock,
            audit: AuditLog::default(),
            materials: Arc::new(MaterialCache::new(limits.limit)),
            rows: Arc::new(RowCache::new(limits.limit.max(1) * 10, !limits.shared)),
        }
    }

    /// The same service, recording to `audit`.
    pub(crate) fn with_audit(mut self, audit: AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// Drops every cached unsealed key material (the root of trust is being sealed).
    pub fn purge_cache(&self) {
        self.materials.purge();
    }

    /// Refuses `operation` unless the caller's roles allow it.
    pub(crate) fn authorize(&self, p: &Principal, operation: &str) -> Result<(), CoreError> {
        let manage = p.roles.contains(&Role::Admin) || p.roles.contains(&Role::Creator);
        let read = p.roles.contains(&Role::Observer) && READ_OPERATIONS.contains(&operation);
        if manage || read {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!(
                "User {} is not authorized to perform kms:{operation} in project {}",
                p.user_id, p.project_id
            )))
        }
    }

    /// Records a management operation's outcome and passes the result on.
    pub(crate) async fn managed<T>(
        &self,
        p: &Principal,
        operation: &str,
        key: Option<Uuid>,
        result: Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        self.audit
            .outcome(
                p,
                &format!("kms.{operation}"),
                OBJECT_KIND,
                key.map(|k| k.to_string()),
                result,
            )
            .await
    }

    /// Records a cryptographic use's outcome and passes the result on.
    pub(crate) async fn used<T>(
        &self,
        p: &Principal,
        operation: &str,
        key: Option<Uuid>,
        result: Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        self.audit
            .record_use(
                Some(p),
                &format!("kms.{operation}"),
                OBJECT_KIND,
                key.map(|k| k.to_string()),
                AuditOutcome::of(&result),
            )
            .await?;
        result
    }

    /// A key row by id through the row cache (any project).
    pub(crate) async fn row(&self, id: Uuid) -> Result<Option<KmsKeyRow>, CoreError> {
        if let Some(row) = self.rows.get(id) {
            return Ok(Some(row));
        }
        let row = self.store.get_kms_key(id).await?;
        if let Some(row) = &row {
            self.rows.put(row);
        }
        Ok(row)
    }

    /// Forgets the cached row after a local change.
    pub(crate) fn changed(&self, id: Uuid) {
        self.rows.invalidate(id);
    }

    /// The caller's key named by `key_ref`; another project's and a missing key alike are `NotFound`.
    pub(crate) async fn resolve(&self, p: &Principal, key_ref: &str) -> Result<KmsKey, CoreError> {
        let id = match parse_key_ref(&p.project_id, key_ref)? {
            KeyRef::Id(id) => id,
            KeyRef::Alias(name) => {
                self.store
                    .get_kms_alias(&p.project_id, &name)
                    .await?
                    .ok_or_else(|| {
                        CoreError::kms(KmsErrorKind::NotFound, format!("Alias {name} is not found"))
                    })?
                    .key_id
            }
        };
        self.key_by_id(p, id, key_ref).await
    }

    /// The caller's key by id.
    pub(crate) async fn key_by_id(
        &self,
        p: &Principal,
        id: Uuid,
        shown: &str,
    ) -> Result<KmsKey, CoreError> {
        match self.row(id).await? {
            Some(row) if row.project_id == p.project_id => KmsKey::from_row(&row),
            _ => Err(CoreError::kms(
                KmsErrorKind::NotFound,
                format!("Key {shown} does not exist in this account"),
            )),
        }
    }

    /// The key's row, fresh from the store, for a read-modify-write.
    pub(crate) async fn fresh_row(&self, key: &KmsKey) -> Result<KmsKeyRow, CoreError> {
        self.changed(key.id);
        self.store.get_kms_key(key.id).await?.ok_or_else(|| {
            CoreError::kms(
                KmsErrorKind::NotFound,
                format!("Key {} does not exist", key.id),
            )
        })
    }

    /// Refuses a key that is not enabled (for cryptographic operations).
    pub(crate) fn require_enabled(key: &KmsKey) -> Result<(), CoreError> {
        match key.state {
            KeyState::Enabled => Ok(()),
            KeyState::Disabled => Err(CoreError::kms(
                KmsErrorKind::Disabled,
                format!("{} is disabled", key.id),
            )),
            KeyState::PendingDeletion => Err(pending(key)),
        }
    }

    /// Refuses a key pending deletion (for management operations).
    pub(crate) fn require_not_pending(key: &KmsKey) -> Result<(), CoreError> {
        if key.state == KeyState::PendingDeletion {
            return Err(pending(key));
        }
        Ok(())
    }

    /// The unsealed material of one version, from the cache or unsealed once.
    pub(crate) async fn material(
        &self,
        key: &KmsKey,
        version: u32,
    ) -> Result<Arc<KeyMaterial>, CoreError> {
        if let Some(m) = self.materials.get(key.id, version) {
            return Ok(m);
        }
        let row = self
            .store
            .get_kms_key_version(key.id, version)
            .await?
            .ok_or_else(|| {
                CoreError::kms(
                    KmsErrorKind::InvalidCiphertext,
                    format!("version {version} of key {} does not exist", key.id),
                )
            })?;
        let bytes = self
            .keys
            .open_kms_material(
                &key.project_id,
                &key.id.to_string(),
                version,
                key.key_spec.as_str(),
                key.key_usage.as_str(),
                &row.sealed,
            )
            .await?;
        let material = Arc::new(parse_material(key.key_spec, bytes).await?);
        self.materials.put(key.id, version, material.clone());
        Ok(material)
    }

    /// Seals fresh material as `version` of `key`.
    pub(crate) async fn seal_material(
        &self,
        project: &str,
        id: Uuid,
        version: u32,
        spec: KmsKeySpec,
        usage: arca_crypto::KmsKeyUsage,
        material: &KeyMaterial,
    ) -> Result<Vec<u8>, CoreError> {
        self.keys
            .seal_kms_material(
                project,
                &id.to_string(),
                version,
                spec.as_str(),
                usage.as_str(),
                material.expose(),
            )
            .await
    }
}

fn pending(key: &KmsKey) -> CoreError {
    CoreError::kms(
        KmsErrorKind::KmsInvalidState,
        format!("{} is pending deletion", key.id),
    )
}

/// Whether work on this spec is slow enough (RSA) to leave the async runtime for.
pub(crate) fn is_slow(spec: KmsKeySpec) -> bool {
    spec.rsa_bits().is_some()
}

/// Runs `work` on the blocking pool when `slow`, else in place.
pub(crate) async fn run_crypto<T: Send + 'static>(
    slow: bool,
    work: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    if slow {
        tokio::task::spawn_blocking(work).await.map_err(|e| {
            CoreError::Crypto(arca_crypto::CryptoError::InvalidInput(format!(
                "a cryptographic task failed: {e}"
            )))
        })?
    } else {
        work()
    }
}

/// Parses stored material (RSA parsing checks the key: off the runtime).
async fn parse_material(
    spec: KmsKeySpec,
    bytes: Zeroizing<Vec<u8>>,
) -> Result<KeyMaterial, CoreError> {
    run_crypto(is_slow(spec), move || {
        KeyMaterial::from_bytes(spec, bytes).map_err(CoreError::from)
    })
    .await
}
