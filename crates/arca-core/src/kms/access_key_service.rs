//! `AccessKeyService`: issuing SigV4 access keys (id `AKIA` + 16 random characters of A–Z2–7, secret 40 random
//! characters of A–Za–z0–9+/, shown once and stored only sealed under the access-key system key with the id in
//! the associated data), looking a secret up for signature checks (cached briefly, like token rows, so a
//! revocation bites within the TTL) and revoking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use super::access_key::AccessKeyRecord;
use crate::{
    AuditLog, AuditOutcome, Clock, CoreError, KeyHierarchy, ObjectKind, Principal, Role, Store,
    SystemKey,
};

/// Most secrets cached at once; past it the cache is emptied (it refills from the store).
const CACHE_LIMIT: usize = 10_000;
const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A freshly issued access key: the secret is shown once.
pub struct IssuedAccessKey {
    /// `AKIA…` (public).
    pub id: String,
    /// The secret access key.
    pub secret: Zeroizing<String>,
}

struct Cached {
    principal: Principal,
    secret: Zeroizing<Vec<u8>>,
    fetched: OffsetDateTime,
}

/// Issues, looks up and revokes access keys.
#[derive(Clone)]
pub struct AccessKeyService {
    store: Arc<dyn Store>,
    keys: Arc<KeyHierarchy>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
    ttl: Duration,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

impl std::fmt::Debug for AccessKeyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyService").finish_non_exhaustive()
    }
}

fn random_chars(n: usize, alphabet: &[u8]) -> Result<Zeroizing<String>, CoreError> {
    let mut bytes = Zeroizing::new(vec![0u8; n]);
    arca_crypto::fill_random(&mut bytes)?;
    // Both alphabets have a power-of-two size, so masking keeps the choice uniform.
    let mask = alphabet.len() - 1;
    Ok(Zeroizing::new(
        bytes
            .iter()
            .map(|b| char::from(alphabet[usize::from(*b) & mask]))
            .collect(),
    ))
}

impl AccessKeyService {
    /// A service over the store and hierarchy, caching looked-up secrets for `cache_ttl`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyHierarchy>,
        clock: Arc<dyn Clock>,
        cache_ttl: std::time::Duration,
    ) -> Self {
        Self {
            store,
            keys,
            clock,
            audit: AuditLog::default(),
            ttl: Duration::try_from(cache_ttl).unwrap_or(Duration::ZERO),
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The same service, recording to `audit`.
    pub(crate) fn with_audit(mut self, audit: AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// Drops every cached secret (the root of trust is being sealed).
    pub fn purge_cache(&self) {
        self.cache().clear();
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<String, Cached>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues an access key acting as `user` in `project` with `roles`.
    pub async fn create(
        &self,
        project: &str,
        user: &str,
        roles: &[Role],
    ) -> Result<IssuedAccessKey, CoreError> {
        if project.trim().is_empty() || user.trim().is_empty() {
            return Err(CoreError::Invalid(
                "project and user must not be empty".into(),
            ));
        }
        if let Some(bad) = roles
            .iter()
            .find(|r| r.as_str().is_empty() || r.as_str().contains(','))
        {
            return Err(CoreError::Invalid(format!(
                "role name {:?} must be non-empty and contain no comma",
                bad.as_str()
            )));
        }
        let id = format!("AKIA{}", random_chars(16, ID_ALPHABET)?.as_str());
        let secret = random_chars(40, SECRET_ALPHABET)?;
        let sealed = self
            .keys
            .seal_system(
                SystemKey::AccessKey,
                ObjectKind::AccessKeySecret,
                &id,
                secret.as_bytes(),
            )
            .await?;
        let record = AccessKeyRecord {
            id: id.clone(),
            project_id: project.to_owned(),
            user_id: user.to_owned(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            sealed_secret: sealed,
            created: self.clock.now(),
            revoked: false,
        };
        let result = self
            .store
            .insert_access_key(&record)
            .await
            .map_err(CoreError::from);
        let principal = Principal {
            project_id: project.to_owned(),
            user_id: user.to_owned(),
            roles: roles.to_vec(),
        };
        self.audit
            .outcome(
                &principal,
                "access_key.create",
                "access-key",
                Some(id.clone()),
                result,
            )
            .await?;
        Ok(IssuedAccessKey { id, secret })
    }

    /// The principal an access key acts as and its secret, for checking a SigV4 signature; `None` if the key
    /// is unknown or revoked.
    pub async fn secret_for(
        &self,
        id: &str,
    ) -> Result<Option<(Principal, Zeroizing<Vec<u8>>)>, CoreError> {
        let now = self.clock.now();
        if let Some(hit) = self.cache().get(id).filter(|c| now - c.fetched < self.ttl) {
            return Ok(Some((hit.principal.clone(), hit.secret.clone())));
        }
        let Some(record) = self.store.get_access_key(id).await? else {
            return Ok(None);
        };
        if record.revoked {
            self.cache().remove(id);
            return Ok(None);
        }
        let secret = self
            .keys
            .open_system(
                SystemKey::AccessKey,
                ObjectKind::AccessKeySecret,
                id,
                &record.sealed_secret,
            )
            .await?;
        let principal = Principal {
            project_id: record.project_id,
            user_id: record.user_id,
            roles: record.roles.iter().map(|r| Role::parse(r)).collect(),
        };
        if self.ttl > Duration::ZERO {
            let mut cache = self.cache();
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(
                id.to_owned(),
                Cached {
                    principal: principal.clone(),
                    secret: secret.clone(),
                    fetched: now,
                },
            );
        }
        Ok(Some((principal, secret)))
    }

    /// Revokes an access key; `false` if unknown.
    pub async fn revoke(&self, id: &str) -> Result<bool, CoreError> {
        let result = self
            .store
            .revoke_access_key(id)
            .await
            .map_err(CoreError::from);
        self.cache().remove(id);
        let outcome = match &result {
            Ok(true) => AuditOutcome::Success,
            Ok(false) => AuditOutcome::Failed("not found".into()),
            Err(_) => AuditOutcome::Failed("storage error".into()),
        };
        self.audit
            .record(
                None,
                "access_key.revoke",
                "access-key",
                Some(id.to_owned()),
                outcome,
            )
            .await?;
        result
    }
}
