//! Moving payloads between secret stores (`arca secret-store migrate`), safe while servers run: each payload is
//! read from the source, placed in the target, read back and compared, then swapped in its row by a
//! compare-and-swap (a concurrent delete or move wins, and the copy is removed). When the source is external,
//! the swap records the source object as an orphan in the same transaction, and the object is destroyed and the
//! orphan forgotten afterwards, so a kill at any point leaves every payload in exactly one place and a rerun
//! finishes the work. Every move is audited.

use std::sync::Arc;

use arca_crypto::constant_time_eq as ct_eq;
use uuid::Uuid;

use crate::payload_stores::{ConfiguredStore, PayloadBackend};
use crate::{AuditLog, AuditOutcome, CoreError, Payloads, Store, StoreOrphan, StoredPayload};

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationReport {
    /// Payloads moved to the target store.
    pub moved: u64,
    /// Payloads deleted or moved by someone else while this ran (left alone).
    pub skipped: u64,
    /// Objects destroyed on the source store after their payload moved (including ones an interrupted run left).
    pub destroyed: u64,
}

/// Payload moves between the configured stores.
#[derive(Clone)]
pub struct StoreMigration {
    store: Arc<dyn Store>,
    payloads: Payloads,
    audit: AuditLog,
}

impl StoreMigration {
    /// A migration over the store, the payload placement and the audit log.
    pub fn new(store: Arc<dyn Store>, payloads: Payloads, audit: AuditLog) -> Self {
        Self {
            store,
            payloads,
            audit,
        }
    }

    fn configured(&self, name: &str) -> Result<Arc<ConfiguredStore>, CoreError> {
        self.payloads
            .stores()
            .by_name(name)
            .cloned()
            .ok_or_else(|| {
                let known: Vec<&str> = self
                    .payloads
                    .stores()
                    .all()
                    .iter()
                    .map(|s| s.config_name())
                    .collect();
                CoreError::Invalid(format!(
                    "no secret store named '{name}' is configured (configured: {})",
                    known.join(", ")
                ))
            })
    }

    /// How many payloads store `from` holds (of `project` only, if given).
    pub async fn pending(&self, from: &str, project: Option<&str>) -> Result<u64, CoreError> {
        let from = self.configured(from)?;
        Ok(self
            .store
            .count_payloads_in_store(from.record.id, project)
            .await?)
    }

    /// Moves every payload of store `from` (of `project` only, if given) to store `to`, `batch` rows per read;
    /// `progress(done, total)` after each payload.
    pub async fn run(
        &self,
        from: &str,
        to: &str,
        project: Option<&str>,
        batch: u32,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<MigrationReport, CoreError> {
        let source = self.configured(from)?;
        let target = self.configured(to)?;
        if source.record.id == target.record.id {
            return Err(CoreError::Invalid(
                "--from and --to name the same secret store".into(),
            ));
        }
        let what = Some(format!("{from} -> {to}"));
        self.audit
            .record(
                None,
                "secret_store.migrate.start",
                "secret_store",
                what.clone(),
                AuditOutcome::Success,
            )
            .await?;
        let mut report = MigrationReport {
            destroyed: self.destroy_orphans(&source).await?,
            ..MigrationReport::default()
        };
        let total = self
            .store
            .count_payloads_in_store(source.record.id, project)
            .await?;
        let mut after: Option<Uuid> = None;
        loop {
            let page = self
                .store
                .payloads_in_store(source.record.id, project, after, batch.max(1))
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.secret_id);
            for placed in page {
                let moved = self
                    .move_one(
                        &source,
                        &target,
                        &placed.project_id,
                        placed.secret_id,
                        &placed.payload,
                    )
                    .await?;
                if moved {
                    report.moved += 1;
                } else {
                    report.skipped += 1;
                }
                progress(report.moved + report.skipped, total);
            }
            report.destroyed += self.destroy_orphans(&source).await?;
        }
        self.audit
            .record(
                None,
                "secret_store.migrate.finish",
                "secret_store",
                what,
                AuditOutcome::Success,
            )
            .await?;
        Ok(report)
    }

    /// Copies one payload to `target`, verifies the copy and swaps it in; `false` if the row changed meanwhile.
    async fn move_one(
        &self,
        source: &ConfiguredStore,
        target: &ConfiguredStore,
        project_id: &str,
        secret_id: Uuid,
        stored: &StoredPayload,
    ) -> Result<bool, CoreError> {
        let plaintext = match self.payloads.open(project_id, secret_id, stored).await {
            Ok(p) => p,
            // Deleted (or moved) since the page was read.
            Err(CoreError::NotFound(_))
                if self.store.get_payload(secret_id).await?.as_ref() != Some(stored) =>
            {
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        let copy = self
            .payloads
            .place_in(
                target,
                project_id,
                secret_id,
                &plaintext,
                &stored.content_type,
            )
            .await?;
        let verified = self.payloads.open(project_id, secret_id, &copy).await;
        if !matches!(&verified, Ok(read) if ct_eq(read, &plaintext)) {
            self.payloads.discard(project_id, secret_id, &copy).await;
            return Err(CoreError::Integrity(format!(
                "the copy of secret {secret_id}'s payload in secret store '{}' did not read back the same",
                target.config_name()
            )));
        }
        let orphan = matches!(source.backend, PayloadBackend::External(_)).then(|| StoreOrphan {
            id: 0,
            store_id: source.record.id,
            secret_id,
            project_id: project_id.to_owned(),
            sealed_locator: stored.ciphertext.clone(),
        });
        let moved = self
            .store
            .move_payload(secret_id, stored, &copy, orphan.as_ref())
            .await;
        if !matches!(moved, Ok(true)) {
            self.payloads.discard(project_id, secret_id, &copy).await;
        }
        if !moved? {
            return Ok(false);
        }
        let outcome = AuditOutcome::Success;
        self.audit
            .record(
                None,
                "secret.store.migrate",
                "secret",
                Some(secret_id.to_string()),
                outcome,
            )
            .await?;
        Ok(true)
    }

    /// Destroys the objects earlier moves left on `source` and forgets them; how many.
    async fn destroy_orphans(&self, source: &ConfiguredStore) -> Result<u64, CoreError> {
        let mut destroyed = 0;
        for orphan in self.store.store_orphans(source.record.id).await? {
            let stored = StoredPayload {
                ciphertext: orphan.sealed_locator.clone(),
                content_type: String::new(),
                store_id: orphan.store_id,
            };
            self.payloads
                .destroy(&orphan.project_id, orphan.secret_id, &stored)
                .await?;
            self.store.delete_store_orphan(orphan.id).await?;
            destroyed += 1;
        }
        Ok(destroyed)
    }
}
