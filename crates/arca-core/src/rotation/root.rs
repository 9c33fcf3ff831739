//! Root key rotation (`arca root rotate`): adds a root key version (or, when the provider already holds more
//! than one, finishes the rotation a previous run left pending), rewraps every project KEK and system key row
//! still under an older version in batches (one transaction each, every row a compare-and-swap on its
//! `rk_version`), waits for running servers to pick up the new version (they reload it every few seconds) and
//! rewraps what they wrapped meanwhile, then retires each old version once no row references it — checked
//! again right before retiring. Audited as `root.rotate.start` and `root.rotate.finish`.

use std::sync::Arc;
use std::time::Duration;

use crate::{AuditLog, AuditOutcome, CoreError, KeyHierarchy, RewrappedKey, Store};

use super::blocking;

/// What a root rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRotationReport {
    /// The version every row is now wrapped under.
    pub to: u32,
    /// The versions retired.
    pub retired: Vec<u32>,
    /// Rows rewrapped by this run.
    pub rewrapped: u64,
    /// Whether this run finished a rotation a previous run had started.
    pub resumed: bool,
}

/// Rotates the root key over a store and key hierarchy.
pub struct RootRotation {
    store: Arc<dyn Store>,
    keys: Arc<KeyHierarchy>,
    audit: AuditLog,
}

impl RootRotation {
    /// A rotation over `store`, `keys` and its root of trust, recording to `audit`.
    pub fn new(store: Arc<dyn Store>, keys: Arc<KeyHierarchy>, audit: AuditLog) -> Self {
        Self { store, keys, audit }
    }

    /// Runs (or finishes) a rotation: rewraps `batch` rows per transaction, calls `progress(done, total)` after
    /// each batch, and waits `settle` (longer than a server's reload period) before the final check.
    pub async fn run(
        &self,
        batch: u32,
        settle: Duration,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<RootRotationReport, CoreError> {
        let root = self.keys.root().clone();
        blocking(&root, |r| r.reload()).await?;
        let before = root.versions();
        let resumed = before.len() > 1;
        let to = if resumed {
            root.active_version()
        } else {
            blocking(&root, |r| r.add_version()).await?
        };
        let from = versions_text(&before, to);
        let total = self.store.count_keys_below_rk(to).await?;
        let start = format!("v{from} -> v{to}: {total} rows to rewrap");
        self.audit
            .record(
                None,
                "root.rotate.start",
                "root_key",
                Some(start),
                AuditOutcome::Success,
            )
            .await?;
        let result = self.finish(to, batch.max(1), settle, total, progress).await;
        let outcome = AuditOutcome::of(&result);
        let finish = match &result {
            Ok(r) => format!(
                "v{from} -> v{to}: {} rows rewrapped, retired {}",
                r.rewrapped,
                versions_text(&r.retired, 0)
            ),
            Err(_) => format!("v{from} -> v{to}"),
        };
        self.audit
            .record(
                None,
                "root.rotate.finish",
                "root_key",
                Some(finish),
                outcome,
            )
            .await?;
        result.map(|mut r| {
            r.resumed = resumed;
            r
        })
    }

    async fn finish(
        &self,
        to: u32,
        batch: u32,
        settle: Duration,
        total: u64,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<RootRotationReport, CoreError> {
        let mut rewrapped = self.rewrap_all(to, batch, total, 0, progress).await?;
        // Servers reload the root key file every few seconds; until they have, they may still wrap new KEKs
        // under the old version. Wait them out, then sweep again until a pass finds nothing.
        loop {
            tokio::time::sleep(settle).await;
            let more = self
                .rewrap_all(to, batch, total, rewrapped, progress)
                .await?;
            if more == 0 {
                break;
            }
            rewrapped += more;
        }
        let root = self.keys.root().clone();
        let mut retired = Vec::new();
        for old in root.versions().into_iter().filter(|v| *v < to) {
            // Checked again right before retiring: a row under `old` keeps it.
            if self
                .rewrap_all(to, batch, total, rewrapped, progress)
                .await?
                > 0
                || self.store.count_keys_under_rk(old).await? > 0
            {
                return Err(CoreError::Conflict(format!(
                    "rows are still wrapped under root key version {old}; run `arca root rotate` again"
                )));
            }
            blocking(&root, move |r| r.retire_version(old)).await?;
            retired.push(old);
        }
        Ok(RootRotationReport {
            to,
            retired,
            rewrapped,
            resumed: false,
        })
    }

    /// Rewraps every row below `to`, batch by batch, until none is left; how many this call wrote.
    async fn rewrap_all(
        &self,
        to: u32,
        batch: u32,
        total: u64,
        already: u64,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<u64, CoreError> {
        let mut written = 0;
        let mut rows = Vec::new();
        for (name, row) in self.store.system_keys_below_rk(to).await? {
            rows.push(RewrappedKey::System {
                key: self.keys.rewrap_system(&name, &row, to).await?,
                old_rk_version: row.rk_version,
                name,
            });
        }
        if !rows.is_empty() {
            written += self.store.rewrap_keys(&rows).await?;
        }
        loop {
            let keks = self.store.keks_below_rk(to, batch).await?;
            if keks.is_empty() {
                break;
            }
            let mut rows = Vec::with_capacity(keks.len());
            for kek in &keks {
                rows.push(RewrappedKey::Kek {
                    key: self.keys.rewrap_kek(kek, to).await?,
                    project_id: kek.project_id.clone(),
                    pkek_version: kek.pkek_version,
                    old_rk_version: kek.key.rk_version,
                });
            }
            written += self.store.rewrap_keys(&rows).await?;
            metrics::counter!("arca_root_rewrapped_total").increment(rows.len() as u64);
            progress(already + written, total.max(already + written));
        }
        Ok(written)
    }
}

/// `1,2` for the versions below `to` (all of them when `to` is 0); `-` for none.
fn versions_text(versions: &[u32], to: u32) -> String {
    let old: Vec<String> = versions
        .iter()
        .filter(|v| to == 0 || **v < to)
        .map(u32::to_string)
        .collect();
    if old.is_empty() {
        "-".into()
    } else {
        old.join(",")
    }
}
