//! Rotation and the due work: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand,
//! ListKeyRotations, and `run_due` (destroys keys whose deletion date passed and performs due automatic
//! rotations; the expiry sweeper calls it). Only SYMMETRIC_DEFAULT keys rotate; a rotation adds a version
//! and makes it current in one store operation; old versions stay, so old ciphertexts still decrypt.

use std::sync::Arc;

use arca_crypto::{KeyMaterial, KmsKeySpec};
use time::{Duration, OffsetDateTime};

use super::key::{KeyState, KmsKey, KmsKeyRow, KmsKeyVersionRow, RotationKind, RotationSchedule};
use super::service::KmsService;
use super::types::{KmsRotation, KmsRotationPage, RotationStatus};
use super::validate;
use crate::{AuditOutcome, CoreError, KmsErrorKind, Principal};

/// Most due keys handled per kind in one `run_due`.
const DUE_BATCH: u32 = 1000;

fn symmetric_only(key: &KmsKey) -> Result<(), CoreError> {
    if key.key_spec != KmsKeySpec::SymmetricDefault {
        return Err(CoreError::kms(
            KmsErrorKind::UnsupportedOperation,
            format!(
                "{} has KeySpec {}; only SYMMETRIC_DEFAULT keys rotate",
                key.id,
                key.key_spec.as_str()
            ),
        ));
    }
    Ok(())
}

fn period(days: u32) -> Duration {
    Duration::days(i64::from(days))
}

impl KmsService {
    /// `EnableKeyRotation`: rotate every `period_days` (90..=2560, default 365), first one period from now.
    pub async fn enable_key_rotation(
        &self,
        p: &Principal,
        key_ref: &str,
        period_days: Option<u32>,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "EnableKeyRotation")?;
            let days = validate::days(
                period_days,
                validate::ROTATION_PERIOD,
                "RotationPeriodInDays",
            )?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_enabled(&key)?;
            symmetric_only(&key)?;
            let mut row = self.fresh_row(&key).await?;
            row.rotation = Some(RotationSchedule {
                period_days: days,
                next_rotation: self.clock.now() + period(days),
            });
            self.write_row(&row).await
        }
        .await;
        self.managed(p, "EnableKeyRotation", id, result).await
    }

    /// `DisableKeyRotation`.
    pub async fn disable_key_rotation(
        &self,
        p: &Principal,
        key_ref: &str,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "DisableKeyRotation")?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_enabled(&key)?;
            symmetric_only(&key)?;
            let mut row = self.fresh_row(&key).await?;
            row.rotation = None;
            self.write_row(&row).await
        }
        .await;
        self.managed(p, "DisableKeyRotation", id, result).await
    }

    /// `GetKeyRotationStatus`.
    pub async fn get_key_rotation_status(
        &self,
        p: &Principal,
        key_ref: &str,
    ) -> Result<RotationStatus, CoreError> {
        self.authorize(p, "GetKeyRotationStatus")?;
        let key = self.resolve(p, key_ref).await?;
        Self::require_not_pending(&key)?;
        symmetric_only(&key)?;
        Ok(RotationStatus {
            key_id: key.id,
            enabled: key.rotation.is_some(),
            period_days: key.rotation.map(|r| r.period_days),
            next_rotation: key.rotation.map(|r| r.next_rotation),
            on_demand_started: None,
        })
    }

    /// `RotateKeyOnDemand`: a new current version now (the automatic schedule is unchanged). Returns the key id.
    pub async fn rotate_key_on_demand(
        &self,
        p: &Principal,
        key_ref: &str,
    ) -> Result<uuid::Uuid, CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "RotateKeyOnDemand")?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_enabled(&key)?;
            symmetric_only(&key)?;
            let row = self.fresh_row(&key).await?;
            self.rotate(&row, RotationKind::OnDemand, None).await?;
            Ok(key.id)
        }
        .await;
        self.managed(p, "RotateKeyOnDemand", id, result).await
    }

    /// `ListKeyRotations`: the versions made after the initial one, oldest first (`limit` 1..=1000, default
    /// 100; the marker is the last version returned).
    pub async fn list_key_rotations(
        &self,
        p: &Principal,
        key_ref: &str,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<KmsRotationPage, CoreError> {
        self.authorize(p, "ListKeyRotations")?;
        let limit = validate::limit(limit, 1000, 100)?;
        let after = match marker {
            Some(m) => m.parse::<u32>().map_err(|_| validate::bad_marker())?,
            None => 1,
        };
        let key = self.resolve(p, key_ref).await?;
        symmetric_only(&key)?;
        let mut versions = self
            .store
            .list_kms_key_versions(key.id, limit + 1, after.max(1))
            .await?;
        let more = versions.len() > limit as usize;
        versions.truncate(limit as usize);
        let next_marker = more
            .then(|| versions.last().map(|v| v.version.to_string()))
            .flatten();
        Ok(KmsRotationPage {
            rotations: versions
                .into_iter()
                .map(|v| KmsRotation {
                    key_id: v.key_id,
                    version: v.version,
                    rotation_date: v.created,
                    kind: v.kind,
                })
                .collect(),
            next_marker,
        })
    }

    /// Adds the next version of `row`'s key with fresh material and makes it current.
    async fn rotate(
        &self,
        row: &KmsKeyRow,
        kind: RotationKind,
        next_rotation: Option<OffsetDateTime>,
    ) -> Result<(), CoreError> {
        let key = KmsKey::from_row(row)?;
        let version = row.current_version.checked_add(1).ok_or_else(|| {
            CoreError::kms(
                KmsErrorKind::LimitExceeded,
                format!("{} has too many versions", key.id),
            )
        })?;
        let material = KeyMaterial::generate(key.key_spec)?;
        let sealed = self
            .seal_material(
                &key.project_id,
                key.id,
                version,
                key.key_spec,
                key.key_usage,
                &material,
            )
            .await?;
        let new = KmsKeyVersionRow {
            key_id: key.id,
            version,
            sealed,
            created: self.clock.now(),
            kind,
        };
        let rotated = self.store.rotate_kms_key(&new, next_rotation).await;
        self.changed(key.id);
        if !rotated? {
            return Err(CoreError::Conflict(format!(
                "{} was rotated or deleted meanwhile; try again",
                key.id
            )));
        }
        self.materials.put(key.id, version, Arc::new(material));
        Ok(())
    }

    /// Destroys keys whose deletion date is at or before `now` (versions, aliases and tags with them) and
    /// performs the automatic rotations due by `now`. Returns (deleted, rotated).
    pub async fn run_due(&self, now: OffsetDateTime) -> Result<(u64, u64), CoreError> {
        let mut deleted = 0u64;
        for row in self.store.kms_keys_due_for_deletion(now, DUE_BATCH).await? {
            if row.state != KeyState::PendingDeletion || row.deletion_date.is_none_or(|d| d > now) {
                continue;
            }
            let done = self.store.delete_kms_key(row.id).await?;
            self.changed(row.id);
            self.materials.forget(row.id);
            if done {
                deleted += 1;
                self.audit
                    .record(
                        None,
                        "kms.DeleteKey",
                        super::service::OBJECT_KIND,
                        Some(row.id.to_string()),
                        AuditOutcome::Success,
                    )
                    .await?;
            }
        }
        let mut rotated = 0u64;
        for row in self.store.kms_keys_due_for_rotation(now, DUE_BATCH).await? {
            // Disabled keys and keys pending deletion do not rotate; they stay due and rotate once enabled.
            let Some(schedule) = row.rotation else {
                continue;
            };
            if row.state != KeyState::Enabled || schedule.next_rotation > now {
                continue;
            }
            let mut next = schedule.next_rotation + period(schedule.period_days);
            if next <= now {
                next = now + period(schedule.period_days);
            }
            let result = self.rotate(&row, RotationKind::Automatic, Some(next)).await;
            let outcome = AuditOutcome::of(&result);
            self.audit
                .record(
                    None,
                    "kms.RotateKey",
                    super::service::OBJECT_KIND,
                    Some(row.id.to_string()),
                    outcome,
                )
                .await?;
            match result {
                Ok(()) => rotated += 1,
                Err(CoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if deleted > 0 {
            metrics::counter!("arca_kms_keys_deleted_total").increment(deleted);
        }
        if rotated > 0 {
            metrics::counter!("arca_kms_keys_rotated_total").increment(rotated);
        }
        Ok((deleted, rotated))
    }
}
