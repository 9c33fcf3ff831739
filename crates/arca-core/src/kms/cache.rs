//! The KMS service's caches. Unsealed key material by (key id, version): a version never changes, so entries
//! stay until evicted (bounded; the oldest goes first; `KeyMaterial` zeroizes itself when the last reference
//! drops). Key rows by id: invalidated on every local change and kept at most `ROW_TTL`, so a change made by
//! another process (a `arca` command on the data directory) bites within that; on a shared store (several
//! nodes over PostgreSQL) the row cache is off, so a change made through another node bites at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arca_crypto::KeyMaterial;
use uuid::Uuid;

use crate::KmsKeyRow;

/// How long a key row is reused before the store is asked again.
pub(crate) const ROW_TTL: Duration = Duration::from_secs(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One cached version's material and when it was cached.
type MaterialEntry = (Arc<KeyMaterial>, Instant);

/// Unsealed material by (key id, version).
pub(crate) struct MaterialCache {
    limit: usize,
    entries: Mutex<HashMap<(Uuid, u32), MaterialEntry>>,
}

impl MaterialCache {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: Uuid, version: u32) -> Option<Arc<KeyMaterial>> {
        let hit = lock(&self.entries)
            .get(&(key, version))
            .map(|(m, _)| m.clone());
        if hit.is_some() {
            metrics::counter!("arca_kms_material_cache_hits_total").increment(1);
        } else {
            metrics::counter!("arca_kms_material_cache_misses_total").increment(1);
        }
        hit
    }

    pub(crate) fn put(&self, key: Uuid, version: u32, material: Arc<KeyMaterial>) {
        let mut entries = lock(&self.entries);
        if entries.len() >= self.limit
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| *k)
        {
            entries.remove(&oldest);
        }
        entries.insert((key, version), (material, Instant::now()));
    }

    /// Drops every cached version (the root of trust is being sealed).
    pub(crate) fn purge(&self) {
        lock(&self.entries).clear();
    }

    /// Drops every version of a deleted key.
    pub(crate) fn forget(&self, key: Uuid) {
        lock(&self.entries).retain(|(k, _), _| *k != key);
    }
}

/// Key rows by id, briefly.
pub(crate) struct RowCache {
    limit: usize,
    enabled: bool,
    entries: Mutex<HashMap<Uuid, (KmsKeyRow, Instant)>>,
}

impl RowCache {
    /// A cache of at most `limit` rows; `enabled = false` (a shared store) caches nothing.
    pub(crate) fn new(limit: usize, enabled: bool) -> Self {
        Self {
            limit: limit.max(1),
            enabled,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, id: Uuid) -> Option<KmsKeyRow> {
        if !self.enabled {
            return None;
        }
        let entries = lock(&self.entries);
        let (row, at) = entries.get(&id)?;
        (at.elapsed() < ROW_TTL).then(|| row.clone())
    }

    pub(crate) fn put(&self, row: &KmsKeyRow) {
        if !self.enabled {
            return;
        }
        let mut entries = lock(&self.entries);
        if entries.len() >= self.limit {
            entries.retain(|_, (_, at)| at.elapsed() < ROW_TTL);
            if entries.len() >= self.limit {
                entries.clear();
            }
        }
        entries.insert(row.id, (row.clone(), Instant::now()));
    }

    pub(crate) fn invalidate(&self, id: Uuid) {
        lock(&self.entries).remove(&id);
    }
}
