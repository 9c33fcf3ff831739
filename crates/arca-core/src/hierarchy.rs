//! The key hierarchy: system keys and project KEKs wrapped by the root key provider and authenticated by a MAC
//! binding each row to its owner and versions; objects sealed under per-ciphertext keys derived from the
//! project KEK. Unwrapped KEKs sit in a bounded TTL cache (Barbican's `pkek_cache_ttl`/`pkek_cache_limit`);
//! a (project, version) key never changes, so the cache is safe across nodes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arca_crypto::{Binding, CryptoError, Key256, MacKey};
use zeroize::Zeroizing;

use crate::{CoreError, KekRow, RootKeyProvider, StaleSealed, Store, WrappedKeyRow};

/// How long a project's active KEK version is trusted before the store is asked again (capped by the cache
/// TTL): a `project rotate-kek` run by another process is noticed within it, and the background rewrap waits
/// well past it before declaring a project done.
pub const ACTIVE_VERSION_TTL: Duration = Duration::from_secs(5);

/// What a sealed object is; part of both the key derivation and the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ObjectKind {
    /// A Barbican secret payload.
    SecretPayload = 1,
    /// KMS key material.
    KmsKeyMaterial = 2,
    /// An access key's secret.
    AccessKeySecret = 3,
    /// Where an external secret store keeps a payload (a KMIP unique identifier, a KV v2 path).
    SecretLocator = 4,
}

/// The random system keys created at init and wrapped like project KEKs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemKey {
    /// MACs the audit chain.
    Audit,
    /// Digests API tokens.
    Token,
    /// Seals access-key secrets.
    AccessKey,
}

impl SystemKey {
    /// Every system key.
    pub const ALL: [SystemKey; 3] = [SystemKey::Audit, SystemKey::Token, SystemKey::AccessKey];

    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            SystemKey::Audit => "audit",
            SystemKey::Token => "token",
            SystemKey::AccessKey => "access-key",
        }
    }
}

/// Bounds of the in-memory caches: unwrapped project KEKs (Barbican's `pkek_cache_ttl`/`pkek_cache_limit`) and
/// validated token rows (as keystonemiddleware's `token_cache_time`, but short, so revocation bites quickly).
/// On a shared store ([`Store::is_shared`], several nodes over PostgreSQL) every cache of mutable state is off
/// (see [`shared`](Self::shared)); caches of immutable data (a KEK or KMS key version) stay.
#[derive(Debug, Clone, Copy)]
pub struct CacheLimits {
    /// How long an unwrapped KEK stays cached.
    pub ttl: Duration,
    /// How many unwrapped KEKs are cached at most.
    pub limit: usize,
    /// How long a validated token's row is reused before the store is asked again (zero: never cached).
    pub token_ttl: Duration,
    /// Whether other nodes change the same database: no mutable state (token and access-key rows, KMS key
    /// rows, a project's active KEK version) is reused from memory, so a change made through any node bites on
    /// this one at once. Set by [`Services::start`](crate::Services::start) from the store.
    pub shared: bool,
}

impl CacheLimits {
    /// These limits for a store other nodes change too (`shared`): the caches of mutable state are off.
    pub fn for_store(mut self, shared: bool) -> Self {
        if shared {
            self.shared = true;
            self.token_ttl = Duration::ZERO;
        }
        self
    }

    /// How long a project's active KEK version is reused (zero on a shared store).
    fn active_version_ttl(&self) -> Duration {
        if self.shared {
            Duration::ZERO
        } else {
            self.ttl.min(ACTIVE_VERSION_TTL)
        }
    }
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(900),
            limit: 1000,
            token_ttl: Duration::from_secs(5),
            shared: false,
        }
    }
}

struct CachedKek {
    key: Arc<Key256>,
    loaded: Instant,
}

/// The key hierarchy over a root key provider and a store.
pub struct KeyHierarchy {
    root: Arc<dyn RootKeyProvider>,
    store: Arc<dyn Store>,
    limits: CacheLimits,
    keks: Mutex<HashMap<(String, u32), CachedKek>>,
    active: Mutex<HashMap<String, (u32, Instant)>>,
    system: Mutex<HashMap<SystemKey, Arc<Key256>>>,
    /// The system keys that MAC a message per request (audit, token), prepared once.
    system_macs: Mutex<HashMap<SystemKey, Arc<MacKey>>>,
}

fn kek_binding(wrap_alg: u8, project: &str, pkek_version: u32, rk_version: u32) -> Binding {
    Binding::new()
        .raw(b"arca/v1/pkek")
        .u8(wrap_alg)
        .lp(project.as_bytes())
        .u32(pkek_version)
        .u32(rk_version)
}

fn system_binding(wrap_alg: u8, name: &str, rk_version: u32) -> Binding {
    Binding::new()
        .raw(b"arca/v1/syskey")
        .u8(wrap_alg)
        .lp(name.as_bytes())
        .u32(rk_version)
}

fn object_binding(project: &str, kind: ObjectKind, object_id: &str, revision: u32) -> Binding {
    Binding::new()
        .lp(project.as_bytes())
        .u8(kind as u8)
        .lp(object_id.as_bytes())
        .u32(revision)
}

/// The key-version field of objects sealed under a system key (system keys have one version).
const SYSTEM_SEAL_VERSION: u32 = 1;

/// The binding of KMS key material: the object binding plus the key spec and key usage.
fn kms_binding(project: &str, key_id: &str, version: u32, spec: &str, usage: &str) -> Binding {
    object_binding(project, ObjectKind::KmsKeyMaterial, key_id, version)
        .lp(spec.as_bytes())
        .lp(usage.as_bytes())
}

/// The binding of an object sealed under a system key.
fn system_object_binding(which: SystemKey, kind: ObjectKind, object_id: &str) -> Binding {
    Binding::new()
        .raw(b"arca/v1/system-object")
        .lp(which.name().as_bytes())
        .u8(kind as u8)
        .lp(object_id.as_bytes())
}

impl KeyHierarchy {
    /// A hierarchy over `root` and `store`.
    pub fn new(root: Arc<dyn RootKeyProvider>, store: Arc<dyn Store>, limits: CacheLimits) -> Self {
        Self {
            root,
            store,
            limits,
            keks: Mutex::new(HashMap::new()),
            active: Mutex::new(HashMap::new()),
            system: Mutex::new(HashMap::new()),
            system_macs: Mutex::new(HashMap::new()),
        }
    }

    /// Drops every unwrapped key (project KEKs, active-version hints, system keys and their prepared MAC keys)
    /// from memory: used when the root of trust is sealed, so nothing keyed answers until it is unsealed.
    pub fn purge(&self) {
        lock(&self.keks).clear();
        lock(&self.active).clear();
        lock(&self.system).clear();
        lock(&self.system_macs).clear();
    }

    /// The root of trust this hierarchy wraps under.
    pub fn root(&self) -> &Arc<dyn RootKeyProvider> {
        &self.root
    }

    /// Wraps and MACs `key` under the active root key.
    async fn wrap_row(&self, binding: Binding, key: &Key256) -> Result<WrappedKeyRow, CoreError> {
        self.wrap_row_at(self.root.active_version(), binding, key)
            .await
    }

    /// Wraps and MACs `key` under root key `rk_version`. Provider calls run on the blocking pool (CRYPTO.md:
    /// an HSM call must not stall the runtime).
    async fn wrap_row_at(
        &self,
        rk_version: u32,
        binding: Binding,
        key: &Key256,
    ) -> Result<WrappedKeyRow, CoreError> {
        let root = self.root.clone();
        let key = key.duplicate();
        off_runtime(move || {
            let wrapped = root.wrap(rk_version, &binding, &key)?;
            let mac = root.mac(rk_version, &binding.lp(&wrapped))?;
            Ok(WrappedKeyRow {
                rk_version,
                wrap_alg: root.wrap_alg(),
                wrapped,
                mac,
            })
        })
        .await
    }

    /// Verifies a row's MAC, then unwraps it (on the blocking pool). An unavailable root of trust stays
    /// `Unavailable` (503); any other failure is an integrity failure of `what`.
    async fn unwrap_row(
        &self,
        binding: Binding,
        row: &WrappedKeyRow,
        what: &str,
    ) -> Result<Key256, CoreError> {
        let _timer = CryptoTimer::start("unwrap");
        let root = self.root.clone();
        if !root.versions().contains(&row.rk_version) {
            // `arca root rotate` (another process) may have added a version since this one last read them.
            let reloading = root.clone();
            off_runtime(move || Ok(reloading.reload()?)).await?;
        }
        let (rk_version, wrapped, mac) = (row.rk_version, row.wrapped.clone(), row.mac.clone());
        let what = what.to_owned();
        off_runtime(move || {
            let integrity = || CoreError::Integrity(what.clone());
            let mac_input = Binding::new().raw(binding.as_bytes()).lp(&wrapped);
            if !root.verify_mac(rk_version, &mac_input, &mac)? {
                return Err(integrity());
            }
            root.unwrap(rk_version, &binding, &wrapped)
                .map_err(|e| match e {
                    CryptoError::Unavailable(why) => CoreError::Unavailable(why),
                    _ => integrity(),
                })
        })
        .await
    }

    /// Creates any missing system key (idempotent; run at init and start-up).
    pub async fn bootstrap_system_keys(&self) -> Result<(), CoreError> {
        for which in SystemKey::ALL {
            if self.store.get_system_key(which.name()).await?.is_none() {
                let key = Key256::generate()?;
                let rk = self.root.active_version();
                let row = self
                    .wrap_row(system_binding(self.root.wrap_alg(), which.name(), rk), &key)
                    .await?;
                self.store.insert_system_key(which.name(), &row).await?;
            }
        }
        Ok(())
    }

    /// A system key, unwrapped once and kept for the life of the process.
    pub async fn system_key(&self, which: SystemKey) -> Result<Arc<Key256>, CoreError> {
        if let Some(key) = lock(&self.system).get(&which) {
            return Ok(key.clone());
        }
        let row = self
            .store
            .get_system_key(which.name())
            .await?
            .ok_or_else(|| {
                CoreError::Integrity(format!("system key {} is missing", which.name()))
            })?;
        let binding = system_binding(row.wrap_alg, which.name(), row.rk_version);
        let key = Arc::new(
            self.unwrap_row(binding, &row, &format!("system key {}", which.name()))
                .await?,
        );
        lock(&self.system).insert(which, key.clone());
        Ok(key)
    }

    /// A system key prepared as an HMAC-SHA256 key, for the audit chain and token digests; cached beside the key
    /// itself (a system key never changes).
    pub async fn system_mac_key(&self, which: SystemKey) -> Result<Arc<MacKey>, CoreError> {
        if let Some(key) = lock(&self.system_macs).get(&which) {
            return Ok(key.clone());
        }
        let key = Arc::new(MacKey::new(&*self.system_key(which).await?));
        lock(&self.system_macs).insert(which, key.clone());
        Ok(key)
    }

    fn cached_kek(&self, project: &str, version: u32) -> Option<Arc<Key256>> {
        let cache = lock(&self.keks);
        let hit = cache.get(&(project.to_owned(), version))?;
        (hit.loaded.elapsed() < self.limits.ttl).then(|| hit.key.clone())
    }

    fn remember_kek(&self, project: &str, version: u32, key: Arc<Key256>) {
        let mut cache = lock(&self.keks);
        if cache.len() >= self.limits.limit {
            let ttl = self.limits.ttl;
            cache.retain(|_, c| c.loaded.elapsed() < ttl);
            if cache.len() >= self.limits.limit
                && let Some(oldest) = cache
                    .iter()
                    .min_by_key(|(_, c)| c.loaded)
                    .map(|(k, _)| k.clone())
            {
                cache.remove(&oldest);
            }
        }
        cache.insert(
            (project.to_owned(), version),
            CachedKek {
                key,
                loaded: Instant::now(),
            },
        );
    }

    async fn unwrap_kek(&self, row: &KekRow) -> Result<Key256, CoreError> {
        let binding = kek_binding(
            row.key.wrap_alg,
            &row.project_id,
            row.pkek_version,
            row.key.rk_version,
        );
        self.unwrap_row(
            binding,
            &row.key,
            &format!("the key of project {}", row.project_id),
        )
        .await
    }

    async fn kek(&self, project: &str, version: u32) -> Result<Arc<Key256>, CoreError> {
        if let Some(key) = self.cached_kek(project, version) {
            metrics::counter!("arca_pkek_cache_hits_total").increment(1);
            return Ok(key);
        }
        metrics::counter!("arca_pkek_cache_misses_total").increment(1);
        let row = self.store.get_kek(project, version).await?.ok_or_else(|| {
            CoreError::Integrity(format!(
                "key version {version} of project {project} is missing"
            ))
        })?;
        let key = Arc::new(self.unwrap_kek(&row).await?);
        self.remember_kek(project, version, key.clone());
        Ok(key)
    }

    /// The project's active KEK, created (version 1) on first use.
    async fn active_kek(&self, project: &str) -> Result<(u32, Arc<Key256>), CoreError> {
        let known = lock(&self.active).get(project).copied();
        if let Some((version, at)) = known
            && at.elapsed() < self.limits.active_version_ttl()
        {
            return Ok((version, self.kek(project, version).await?));
        }
        let row = match self.store.get_active_kek(project).await? {
            Some(row) => row,
            None => self.create_first_kek(project).await?,
        };
        // The active version is re-read every `ACTIVE_VERSION_TTL`; the key itself usually is still cached.
        let key = match self.cached_kek(project, row.pkek_version) {
            Some(key) => key,
            None => {
                let key = Arc::new(self.unwrap_kek(&row).await?);
                self.remember_kek(project, row.pkek_version, key.clone());
                key
            }
        };
        if !self.limits.shared {
            lock(&self.active).insert(project.to_owned(), (row.pkek_version, Instant::now()));
        }
        Ok((row.pkek_version, key))
    }

    /// A KEK row rewrapped under root key `rk_version` (root rotation): unwrapped and verified under its own
    /// version, wrapped and authenticated again under the new one.
    pub(crate) async fn rewrap_kek(
        &self,
        row: &KekRow,
        rk_version: u32,
    ) -> Result<WrappedKeyRow, CoreError> {
        let key = self.unwrap_kek(row).await?;
        let binding = kek_binding(
            self.root.wrap_alg(),
            &row.project_id,
            row.pkek_version,
            rk_version,
        );
        self.wrap_row_at(rk_version, binding, &key).await
    }

    /// A system key row rewrapped under root key `rk_version` (root rotation); the key itself is unchanged, so
    /// the audit chain, tokens and access keys survive.
    pub(crate) async fn rewrap_system(
        &self,
        name: &str,
        row: &WrappedKeyRow,
        rk_version: u32,
    ) -> Result<WrappedKeyRow, CoreError> {
        let binding = system_binding(row.wrap_alg, name, row.rk_version);
        let key = self
            .unwrap_row(binding, row, &format!("system key {name}"))
            .await?;
        let binding = system_binding(self.root.wrap_alg(), name, rk_version);
        self.wrap_row_at(rk_version, binding, &key).await
    }

    /// Adds the project's next KEK version (its first if it has none) and records the pending rewrap of its
    /// objects; this process uses it at once, others within `ACTIVE_VERSION_TTL` (at once on a shared store). Returns the new version.
    pub(crate) async fn rotate_kek(
        &self,
        project: &str,
        now: time::OffsetDateTime,
    ) -> Result<u32, CoreError> {
        let current = match self.store.get_active_kek(project).await? {
            Some(row) => row.pkek_version,
            None => self.create_first_kek(project).await?.pkek_version,
        };
        self.rotate_kek_from(project, current, now).await
    }

    /// Adds version `current + 1` of the project's KEK: a compare-and-swap, `Conflict` if that version exists
    /// (another process or node rotated first).
    pub(crate) async fn rotate_kek_from(
        &self,
        project: &str,
        current: u32,
        now: time::OffsetDateTime,
    ) -> Result<u32, CoreError> {
        let version = current + 1;
        let key = Key256::generate()?;
        let rk = self.root.active_version();
        let row = KekRow {
            project_id: project.to_owned(),
            pkek_version: version,
            key: self
                .wrap_row(
                    kek_binding(self.root.wrap_alg(), project, version, rk),
                    &key,
                )
                .await?,
        };
        if !self.store.rotate_kek(&row, now).await? {
            return Err(CoreError::Conflict(format!(
                "the key of project {project} was rotated concurrently; try again"
            )));
        }
        self.remember_kek(project, version, Arc::new(key));
        if !self.limits.shared {
            lock(&self.active).insert(project.to_owned(), (version, Instant::now()));
        }
        Ok(version)
    }

    /// An object sealed under an older KEK version, opened and sealed again under `pkek_version` with the same
    /// binding (the background rewrap).
    pub(crate) async fn reseal(
        &self,
        project: &str,
        object: &StaleSealed,
        pkek_version: u32,
    ) -> Result<Vec<u8>, CoreError> {
        let (kind, binding, sealed, id) = match object {
            StaleSealed::SecretPayload { secret_id, sealed }
            | StaleSealed::SecretLocator { secret_id, sealed } => {
                let kind = match object {
                    StaleSealed::SecretLocator { .. } => ObjectKind::SecretLocator,
                    _ => ObjectKind::SecretPayload,
                };
                let id = secret_id.to_string();
                let binding =
                    object_binding(project, kind, &id, crate::secret_service::PAYLOAD_REVISION);
                (kind, binding, sealed, id)
            }
            StaleSealed::KmsMaterial {
                key_id,
                version,
                key_spec,
                key_usage,
                sealed,
            } => {
                let id = key_id.to_string();
                let binding = kms_binding(project, &id, *version, key_spec, key_usage);
                (ObjectKind::KmsKeyMaterial, binding, sealed, id)
            }
        };
        let integrity = || CoreError::Integrity(format!("object {id}"));
        let old = arca_crypto::sealed_key_version(sealed).map_err(|_| integrity())?;
        let plaintext = arca_crypto::open(
            &*self.kek(project, old).await?,
            kind as u8,
            &binding,
            sealed,
        )
        .map_err(|_| integrity())?;
        let kek = self.kek(project, pkek_version).await?;
        Ok(arca_crypto::seal(
            &kek,
            pkek_version,
            kind as u8,
            &binding,
            &plaintext,
        )?)
    }

    async fn create_first_kek(&self, project: &str) -> Result<KekRow, CoreError> {
        let key = Key256::generate()?;
        let rk = self.root.active_version();
        let binding = kek_binding(self.root.wrap_alg(), project, 1, rk);
        let row = KekRow {
            project_id: project.to_owned(),
            pkek_version: 1,
            key: self.wrap_row(binding, &key).await?,
        };
        if self.store.insert_kek(&row).await? {
            return Ok(row);
        }
        // A concurrent request created it first: use theirs.
        self.store
            .get_active_kek(project)
            .await?
            .ok_or_else(|| CoreError::Integrity(format!("the key of project {project} vanished")))
    }

    /// Seals `plaintext` for an object of `project`, bound to its kind, id and revision.
    pub async fn seal(
        &self,
        project: &str,
        kind: ObjectKind,
        object_id: &str,
        revision: u32,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CoreError> {
        let (version, kek) = self.active_kek(project).await?;
        let binding = object_binding(project, kind, object_id, revision);
        let _timer = CryptoTimer::start("seal");
        Ok(arca_crypto::seal(
            &kek, version, kind as u8, &binding, plaintext,
        )?)
    }

    /// Seals one version of a KMS key's material: bound to the project, the key id (object id), the version
    /// (revision) and also the key spec and key usage, so a database edit cannot turn a signing key into an
    /// encryption key.
    pub async fn seal_kms_material(
        &self,
        project: &str,
        key_id: &str,
        version: u32,
        key_spec: &str,
        key_usage: &str,
        material: &[u8],
    ) -> Result<Vec<u8>, CoreError> {
        let (pkek_version, kek) = self.active_kek(project).await?;
        let kind = ObjectKind::KmsKeyMaterial;
        let binding = kms_binding(project, key_id, version, key_spec, key_usage);
        let _timer = CryptoTimer::start("seal");
        Ok(arca_crypto::seal(
            &kek,
            pkek_version,
            kind as u8,
            &binding,
            material,
        )?)
    }

    /// Opens KMS key material sealed by `seal_kms_material` with the same project, key, version, spec and usage.
    pub async fn open_kms_material(
        &self,
        project: &str,
        key_id: &str,
        version: u32,
        key_spec: &str,
        key_usage: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CoreError> {
        let integrity = || CoreError::Integrity(format!("version {version} of KMS key {key_id}"));
        let pkek_version = arca_crypto::sealed_key_version(sealed).map_err(|_| integrity())?;
        let kek = self.kek(project, pkek_version).await?;
        let binding = kms_binding(project, key_id, version, key_spec, key_usage);
        let _timer = CryptoTimer::start("open");
        arca_crypto::open(&kek, ObjectKind::KmsKeyMaterial as u8, &binding, sealed)
            .map_err(|_| integrity())
    }

    /// Seals `plaintext` under a system key (e.g. an access key's secret under `SystemKey::AccessKey`), bound
    /// to the system key's name, the kind and the object id.
    pub async fn seal_system(
        &self,
        which: SystemKey,
        kind: ObjectKind,
        object_id: &str,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CoreError> {
        let key = self.system_key(which).await?;
        let binding = system_object_binding(which, kind, object_id);
        let _timer = CryptoTimer::start("seal");
        Ok(arca_crypto::seal(
            &key,
            SYSTEM_SEAL_VERSION,
            kind as u8,
            &binding,
            plaintext,
        )?)
    }

    /// Opens what `seal_system` sealed with the same system key, kind and object id.
    pub async fn open_system(
        &self,
        which: SystemKey,
        kind: ObjectKind,
        object_id: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CoreError> {
        let integrity = || CoreError::Integrity(format!("object {object_id}"));
        if arca_crypto::sealed_key_version(sealed).map_err(|_| integrity())? != SYSTEM_SEAL_VERSION
        {
            return Err(integrity());
        }
        let key = self.system_key(which).await?;
        let binding = system_object_binding(which, kind, object_id);
        let _timer = CryptoTimer::start("open");
        arca_crypto::open(&key, kind as u8, &binding, sealed).map_err(|_| integrity())
    }

    /// Opens an object sealed by `seal` with the same project, kind, id and revision.
    pub async fn open(
        &self,
        project: &str,
        kind: ObjectKind,
        object_id: &str,
        revision: u32,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CoreError> {
        let integrity = || CoreError::Integrity(format!("object {object_id}"));
        let version = arca_crypto::sealed_key_version(sealed).map_err(|_| integrity())?;
        let kek = self.kek(project, version).await?;
        let binding = object_binding(project, kind, object_id, revision);
        let _timer = CryptoTimer::start("open");
        arca_crypto::open(&kek, kind as u8, &binding, sealed).map_err(|_| integrity())
    }
}

/// Records the duration of one cryptographic operation in `arca_crypto_duration_seconds{op}` when dropped.
struct CryptoTimer {
    op: &'static str,
    start: Instant,
}

impl CryptoTimer {
    fn start(op: &'static str) -> Self {
        Self {
            op,
            start: Instant::now(),
        }
    }
}

impl Drop for CryptoTimer {
    fn drop(&mut self) {
        metrics::histogram!("arca_crypto_duration_seconds", "op" => self.op)
            .record(self.start.elapsed().as_secs_f64());
    }
}

/// Runs a root-of-trust call on the blocking pool.
async fn off_runtime<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CoreError> + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        CoreError::Unavailable(format!("the root of trust call did not complete: {e}"))
    })?
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
