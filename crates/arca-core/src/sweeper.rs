//! Expiry control: expired secrets are no longer served (the secret service checks the expiration on every
//! read); after a grace period the sweeper destroys them (row, sealed payload and metadata; the SQLite store
//! has `secure_delete` on). It also answers the metrics gauges (secrets expiring soon, secrets that never
//! expire) and `arca report expiring|orphans`. With the KMS service attached, each sweep also destroys KMS keys
//! whose deletion date passed and performs due automatic rotations (`KmsService::run_due`). Everything reads the
//! `Clock`. With payload placement attached, an expired payload kept by an external secret store is destroyed
//! there before its secret's row.

use std::sync::Arc;

use time::Duration;

use crate::{Clock, CoreError, ExpiryCounts, KmsService, SecretRecord, Store};

/// Sweeps expired secrets and reports on expirations.
#[derive(Clone)]
pub struct ExpirySweeper {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    kms: Option<KmsService>,
    payloads: Option<crate::Payloads>,
}

impl std::fmt::Debug for ExpirySweeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpirySweeper").finish_non_exhaustive()
    }
}

impl ExpirySweeper {
    /// A sweeper over `store`, reading `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            kms: None,
            payloads: None,
        }
    }

    /// The same sweeper destroying expired payloads kept by external secret stores through `payloads`, whose
    /// stores' health it also reports (`/readyz`).
    pub fn with_payloads(mut self, payloads: crate::Payloads) -> Self {
        self.payloads = Some(payloads);
        self
    }

    /// The configured secret stores, if attached.
    pub fn payload_stores(&self) -> Option<&crate::PayloadStores> {
        self.payloads.as_ref().map(|p| p.stores())
    }

    /// The same sweeper, also running the KMS service's due work (key deletions whose date passed, automatic
    /// rotations) on every sweep.
    pub fn with_kms(mut self, kms: KmsService) -> Self {
        self.kms = Some(kms);
        self
    }

    /// Secrets expiring within `within` from now, and secrets without an expiration. Also the readiness probe:
    /// an answer means the store answers.
    pub async fn counts(&self, within: Duration) -> Result<ExpiryCounts, CoreError> {
        let now = self.clock.now();
        Ok(self.store.secret_expiry_counts(now, now + within).await?)
    }

    /// Destroys every secret that expired more than `grace` ago (and runs the KMS due work, if attached);
    /// returns how many secrets were destroyed.
    pub async fn sweep(&self, grace: Duration) -> Result<u64, CoreError> {
        let cutoff = self.clock.now() - grace;
        let mut destroyed = 0u64;
        for secret in self.store.secrets_expiring_before(cutoff).await? {
            // Only strictly before the cutoff: a secret expiring exactly now is still in its grace period.
            if secret.expiration.is_none_or(|e| e >= cutoff) {
                continue;
            }
            // An external store's object goes first; a store that is down keeps the secret for the next sweep.
            if let (Some(payloads), Some(stored)) =
                (&self.payloads, self.store.get_payload(secret.id).await?)
                && let Err(e) = payloads
                    .destroy(&secret.project_id, secret.id, &stored)
                    .await
            {
                tracing::warn!(secret = %secret.id, error = %e, "an expired secret's payload could not be destroyed yet");
                continue;
            }
            if self.store.delete_secret(secret.id).await? {
                destroyed += 1;
            }
        }
        if destroyed > 0 {
            metrics::counter!("arca_secrets_destroyed_total").increment(destroyed);
        }
        if let Some(kms) = &self.kms {
            let (deleted, rotated) = kms.run_due(self.clock.now()).await?;
            if deleted + rotated > 0 {
                tracing::info!(
                    deleted,
                    rotated,
                    "KMS keys deleted and rotated as scheduled"
                );
            }
        }
        Ok(destroyed)
    }

    /// Secrets with an expiration within `within` from now, already expired ones included, soonest first.
    pub async fn expiring(&self, within: Duration) -> Result<Vec<SecretRecord>, CoreError> {
        let until = self.clock.now() + within;
        Ok(self.store.secrets_expiring_before(until).await?)
    }

    /// Secrets that never expire (the seed's quarterly review), oldest first.
    pub async fn orphans(&self) -> Result<Vec<SecretRecord>, CoreError> {
        Ok(self.store.secrets_without_expiration().await?)
    }
}
