//! API tokens: issuing (stored only as `HMAC(K_token, token)`), authenticating (lookup by id, constant-time
//! digest comparison, expiry, revocation) and revoking. Token rows are cached for a short TTL so a request does
//! not cost a database read; the digest is still recomputed and compared on every request, and a revocation
//! made on another node (or by `arca token` on the data directory) bites within that TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arca_crypto::{ApiToken, ParsedToken};
use time::Duration;
use zeroize::Zeroizing;

use crate::{Clock, CoreError, KeyHierarchy, Principal, Role, Store, SystemKey, TokenRow};

/// The longest lifetime a token may be given.
pub const MAX_TOKEN_TTL: Duration = Duration::days(366);

/// Most token rows cached at once; past it the cache is emptied (it refills from the store).
const TOKEN_CACHE_LIMIT: usize = 10_000;

struct CachedRow {
    /// Shared with the requests that authenticate with it, so a hit copies no strings.
    row: Arc<TokenRow>,
    fetched: time::OffsetDateTime,
}

/// A freshly issued token: shown once.
pub struct IssuedToken {
    /// The lookup id (not secret; for revocation).
    pub id: String,
    /// The token string.
    pub token: Zeroizing<String>,
    /// When it expires.
    pub expires_at: time::OffsetDateTime,
}

/// Issues and checks API tokens.
#[derive(Clone)]
pub struct TokenService {
    audit: crate::AuditLog,
    store: Arc<dyn Store>,
    keys: Arc<KeyHierarchy>,
    clock: Arc<dyn Clock>,
    cache_ttl: Duration,
    cache: Arc<Mutex<HashMap<String, CachedRow>>>,
}

impl TokenService {
    /// The same service, recording its security events in `audit`.
    pub(crate) fn with_audit(mut self, audit: crate::AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// A token service over the store and hierarchy, caching token rows for `cache_ttl`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyHierarchy>,
        clock: Arc<dyn Clock>,
        cache_ttl: std::time::Duration,
    ) -> Self {
        let cache_ttl = Duration::try_from(cache_ttl).unwrap_or(Duration::ZERO);
        Self {
            audit: crate::AuditLog::default(),
            store,
            keys,
            clock,
            cache_ttl,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedRow>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The token row for `id`, from the cache while fresh, else from the store.
    async fn row(&self, id: &str) -> Result<Option<Arc<TokenRow>>, CoreError> {
        let now = self.clock.now();
        if let Some(hit) = self
            .cache()
            .get(id)
            .filter(|c| now - c.fetched < self.cache_ttl)
        {
            return Ok(Some(Arc::clone(&hit.row)));
        }
        let row = self.store.get_token(id).await?.map(Arc::new);
        if let Some(row) = &row
            && self.cache_ttl > Duration::ZERO
        {
            let mut cache = self.cache();
            if cache.len() >= TOKEN_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(
                id.to_owned(),
                CachedRow {
                    row: Arc::clone(row),
                    fetched: now,
                },
            );
        }
        Ok(row)
    }

    /// Issues a token for `user` in `project` with `roles`, valid for `ttl`.
    pub async fn issue(
        &self,
        project: &str,
        user: &str,
        roles: &[Role],
        ttl: Duration,
    ) -> Result<IssuedToken, CoreError> {
        if project.trim().is_empty() || user.trim().is_empty() {
            return Err(CoreError::Invalid(
                "project and user must not be empty".into(),
            ));
        }
        if ttl <= Duration::ZERO || ttl > MAX_TOKEN_TTL {
            return Err(CoreError::Invalid(format!(
                "ttl must be positive and at most {} days",
                MAX_TOKEN_TTL.whole_days()
            )));
        }
        let key = self.keys.system_mac_key(SystemKey::Token).await?;
        let minted = ApiToken::generate()?;
        let now = self.clock.now();
        let row = TokenRow {
            id: minted.id.clone(),
            digest: ApiToken::digest(&key, &minted.token).to_vec(),
            project_id: project.to_owned(),
            user_id: user.to_owned(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            created: now,
            expires_at: now + ttl,
            revoked: false,
        };
        self.store.insert_token(&row).await?;
        // Recorded with the token's subject as the principal (issued by a local administrator, not a caller).
        let subject = Principal {
            project_id: row.project_id.clone(),
            user_id: row.user_id.clone(),
            roles: roles.to_vec(),
        };
        self.audit
            .record(
                Some(&subject),
                "token.create",
                "token",
                Some(row.id.clone()),
                crate::AuditOutcome::Success,
            )
            .await?;
        Ok(IssuedToken {
            id: minted.id,
            token: minted.token,
            expires_at: row.expires_at,
        })
    }

    /// The principal a presented token stands for; `Unauthenticated` for anything malformed, unknown,
    /// expired, revoked or with a wrong digest (all indistinguishable to the caller).
    pub async fn authenticate(&self, presented: &str) -> Result<Principal, CoreError> {
        let parsed = ParsedToken::parse(presented.trim()).ok_or(CoreError::Unauthenticated)?;
        let row = self
            .row(parsed.id)
            .await?
            .ok_or(CoreError::Unauthenticated)?;
        let key = self.keys.system_mac_key(SystemKey::Token).await?;
        let digest = ApiToken::digest(&key, parsed.whole);
        let matches = arca_crypto::constant_time_eq(&digest, &row.digest);
        if !matches || row.revoked || row.expires_at <= self.clock.now() {
            return Err(CoreError::Unauthenticated);
        }
        Ok(Principal {
            project_id: row.project_id.clone(),
            user_id: row.user_id.clone(),
            roles: row.roles.iter().map(|r| Role::parse(r)).collect(),
        })
    }

    /// Revokes a token by id; `NotFound` if unknown.
    pub async fn revoke(&self, id: &str) -> Result<(), CoreError> {
        self.cache().remove(id);
        let result = if self.store.revoke_token(id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound(format!("token {id} not found")))
        };
        let outcome = crate::AuditOutcome::of(&result);
        self.audit
            .record(None, "token.revoke", "token", Some(id.to_owned()), outcome)
            .await?;
        result
    }
}
