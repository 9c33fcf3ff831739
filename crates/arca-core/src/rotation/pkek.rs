//! Project KEK rotation: `rotate` adds KEK version n+1 (new writes use it; old versions stay readable), and the
//! background rewrap moves the project's secret payloads and KMS key material to it in batches — each batch one
//! transaction, each object a compare-and-swap on its stored envelope — so it is resumable by construction: a
//! crash loses at most one uncommitted batch, and the next run finds what is still under an old version. A
//! project leaves the pending list only when nothing is left AND every node must have noticed the new version
//! (twice `ACTIVE_VERSION_TTL` after the rotation). `rotate_due` rotates projects whose newest KEK is older than
//! the configured period. Audited as `project.kek.rotate` and `project.kek.rewrapped`.

use std::sync::Arc;
use std::time::Duration;

use crate::hierarchy::ACTIVE_VERSION_TTL;
use crate::{AuditLog, AuditOutcome, Clock, CoreError, KeyHierarchy, Resealed, Store};

/// How many projects one rewrap pass looks at.
const PROJECTS_PER_PASS: u32 = 64;

/// Rotates project KEKs and rewraps their objects.
#[derive(Clone)]
pub struct PkekRotation {
    store: Arc<dyn Store>,
    keys: Arc<KeyHierarchy>,
    clock: Arc<dyn Clock>,
    audit: AuditLog,
}

impl PkekRotation {
    /// Rotation over `store` and `keys`, reading `clock`, recording to `audit`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<KeyHierarchy>,
        clock: Arc<dyn Clock>,
        audit: AuditLog,
    ) -> Self {
        Self {
            store,
            keys,
            clock,
            audit,
        }
    }

    /// Adds the project's next KEK version and schedules the rewrap of its objects; returns the new version.
    pub async fn rotate(&self, project: &str) -> Result<u32, CoreError> {
        if project.is_empty() {
            return Err(CoreError::Invalid(
                "the project id must not be empty".into(),
            ));
        }
        let result = self.keys.rotate_kek(project, self.clock.now()).await;
        self.record_rotation(project, result).await
    }

    async fn record_rotation(
        &self,
        project: &str,
        result: Result<u32, CoreError>,
    ) -> Result<u32, CoreError> {
        let id = match &result {
            Ok(v) => format!("{project} v{v}"),
            Err(_) => project.to_owned(),
        };
        self.audit
            .record(
                None,
                "project.kek.rotate",
                "project_kek",
                Some(id),
                AuditOutcome::of(&result),
            )
            .await?;
        result
    }

    /// Rotates (at most `limit`) projects whose newest KEK was created more than `period` ago; how many.
    ///
    /// Safe on several nodes at once: the active versions are read, then the due list again (a project another
    /// node rotated meanwhile is no longer due), and each rotation is a compare-and-swap on the version read —
    /// a node that loses the race skips the project, so a due project is rotated once, not once per node.
    pub async fn rotate_due(&self, period: Duration, limit: u32) -> Result<u64, CoreError> {
        let cutoff = self.clock.now() - period;
        let mut seen = Vec::new();
        for project in self.store.keks_created_before(cutoff, limit).await? {
            if let Some(row) = self.store.get_active_kek(&project).await? {
                seen.push((project, row.pkek_version));
            }
        }
        let still_due = self.store.keks_created_before(cutoff, limit).await?;
        let mut rotated = 0;
        for (project, current) in seen {
            if !still_due.contains(&project) {
                continue;
            }
            match self
                .keys
                .rotate_kek_from(&project, current, self.clock.now())
                .await
            {
                // Another node rotated it first.
                Err(CoreError::Conflict(_)) => continue,
                result => {
                    self.record_rotation(&project, result).await?;
                    rotated += 1;
                }
            }
        }
        Ok(rotated)
    }

    /// One pass of the background rewrap: re-seals at most `budget` objects, `batch` per transaction, across
    /// the pending projects, and closes the projects that are done; returns how many objects it re-sealed.
    pub async fn rewrap_pending(&self, batch: u32, budget: u64) -> Result<u64, CoreError> {
        let batch = batch.max(1);
        let mut resealed = 0u64;
        for pending in self.store.pending_rewraps(PROJECTS_PER_PASS).await? {
            let project = &pending.project_id;
            loop {
                if resealed >= budget {
                    return Ok(resealed);
                }
                let stale = self
                    .store
                    .stale_sealed(project, pending.pkek_version, batch)
                    .await?;
                if stale.is_empty() {
                    break;
                }
                let mut objects = Vec::with_capacity(stale.len());
                for old in stale {
                    let sealed = self
                        .keys
                        .reseal(project, &old, pending.pkek_version)
                        .await?;
                    objects.push(Resealed { old, sealed });
                }
                let n = objects.len() as u64;
                self.store.reseal(&objects).await?;
                metrics::counter!("arca_pkek_resealed_total").increment(n);
                resealed += n;
            }
            let settled = self.clock.now() - pending.since > ACTIVE_VERSION_TTL * 2;
            if settled
                && self
                    .store
                    .finish_rewrap(project, pending.pkek_version)
                    .await?
            {
                let id = format!("{project} v{}", pending.pkek_version);
                self.audit
                    .record(
                        None,
                        "project.kek.rewrapped",
                        "project_kek",
                        Some(id),
                        AuditOutcome::Success,
                    )
                    .await?;
            }
        }
        Ok(resealed)
    }
}
