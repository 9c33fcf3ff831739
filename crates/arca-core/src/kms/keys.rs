//! Key management: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey,
//! ScheduleKeyDeletion and CancelKeyDeletion.

use arca_crypto::{KeyMaterial, KmsKeySpec, KmsKeyUsage};
use time::Duration;
use uuid::Uuid;

use super::key::{KeyState, KmsKey, KmsKeyRow, KmsKeyVersionRow, NewKmsKey, RotationKind};
use super::service::{KmsService, is_slow, run_crypto};
use super::types::{CreateKeyRequest, KmsKeyPage};
use super::validate;
use crate::{CoreError, KmsErrorKind, Principal};

impl KmsService {
    /// `CreateKey`: a new enabled key with fresh material (version 1).
    pub async fn create_key(
        &self,
        p: &Principal,
        request: CreateKeyRequest,
    ) -> Result<KmsKey, CoreError> {
        let id = Uuid::now_v7();
        let result = self.create_key_inner(p, id, request).await;
        self.managed(p, "CreateKey", Some(id), result).await
    }

    async fn create_key_inner(
        &self,
        p: &Principal,
        id: Uuid,
        request: CreateKeyRequest,
    ) -> Result<KmsKey, CoreError> {
        self.authorize(p, "CreateKey")?;
        validate::description(&request.description)?;
        validate::tags(&request.tags)?;
        let spec = request.key_spec.unwrap_or(KmsKeySpec::SymmetricDefault);
        let usage = match request.key_usage {
            Some(u) => u,
            None if spec.is_hmac() => {
                return Err(CoreError::kms(
                    KmsErrorKind::Validation,
                    format!(
                        "KeyUsage GENERATE_VERIFY_MAC is required for KeySpec {}",
                        spec.as_str()
                    ),
                ));
            }
            None => KmsKeyUsage::EncryptDecrypt,
        };
        if !spec.allows(usage) {
            return Err(CoreError::kms(
                KmsErrorKind::Validation,
                format!(
                    "KeyUsage {} is not compatible with KeySpec {}",
                    usage.as_str(),
                    spec.as_str()
                ),
            ));
        }
        let material = run_crypto(is_slow(spec), move || {
            KeyMaterial::generate(spec).map_err(CoreError::from)
        })
        .await?;
        let sealed = self
            .seal_material(&p.project_id, id, 1, spec, usage, &material)
            .await?;
        let now = self.clock.now();
        let row = KmsKeyRow {
            id,
            project_id: p.project_id.clone(),
            description: request.description,
            key_spec: spec.as_str().to_owned(),
            key_usage: usage.as_str().to_owned(),
            state: KeyState::Enabled,
            created: now,
            deletion_date: None,
            current_version: 1,
            rotation: None,
        };
        let new = NewKmsKey {
            version: KmsKeyVersionRow {
                key_id: id,
                version: 1,
                sealed,
                created: now,
                kind: RotationKind::Initial,
            },
            key: row,
            tags: request.tags,
        };
        self.store.insert_kms_key(&new).await?;
        self.materials.put(id, 1, std::sync::Arc::new(material));
        KmsKey::from_row(&new.key)
    }

    /// `DescribeKey`.
    pub async fn describe_key(&self, p: &Principal, key_ref: &str) -> Result<KmsKey, CoreError> {
        self.authorize(p, "DescribeKey")?;
        self.resolve(p, key_ref).await
    }

    /// `ListKeys`: one page of the caller's keys in id order (`limit` 1..=1000, default 100).
    pub async fn list_keys(
        &self,
        p: &Principal,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<KmsKeyPage, CoreError> {
        self.authorize(p, "ListKeys")?;
        let limit = validate::limit(limit, 1000, 100)?;
        let after = marker
            .map(|m| Uuid::parse_str(m).map_err(|_| validate::bad_marker()))
            .transpose()?;
        let mut rows = self
            .store
            .list_kms_keys(&p.project_id, limit + 1, after)
            .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let keys = rows
            .iter()
            .map(KmsKey::from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let next_marker = more
            .then(|| keys.last().map(|k| k.id.to_string()))
            .flatten();
        Ok(KmsKeyPage { keys, next_marker })
    }

    /// `UpdateKeyDescription`.
    pub async fn update_key_description(
        &self,
        p: &Principal,
        key_ref: &str,
        description: &str,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "UpdateKeyDescription")?;
            validate::description(description)?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_not_pending(&key)?;
            let mut row = self.fresh_row(&key).await?;
            row.description = description.to_owned();
            self.write_row(&row).await
        }
        .await;
        self.managed(p, "UpdateKeyDescription", id, result).await
    }

    /// `EnableKey` (a key pending deletion must be cancelled first).
    pub async fn enable_key(&self, p: &Principal, key_ref: &str) -> Result<(), CoreError> {
        self.set_state(p, key_ref, "EnableKey", KeyState::Enabled)
            .await
    }

    /// `DisableKey`.
    pub async fn disable_key(&self, p: &Principal, key_ref: &str) -> Result<(), CoreError> {
        self.set_state(p, key_ref, "DisableKey", KeyState::Disabled)
            .await
    }

    async fn set_state(
        &self,
        p: &Principal,
        key_ref: &str,
        operation: &str,
        state: KeyState,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, operation)?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_not_pending(&key)?;
            let mut row = self.fresh_row(&key).await?;
            Self::require_not_pending(&KmsKey::from_row(&row)?)?;
            row.state = state;
            self.write_row(&row).await
        }
        .await;
        self.managed(p, operation, id, result).await
    }

    /// `ScheduleKeyDeletion`: the key becomes `PendingDeletion` and is destroyed (with every version, alias
    /// and tag) `pending_window_days` (7..=30, default 30) from now.
    pub async fn schedule_key_deletion(
        &self,
        p: &Principal,
        key_ref: &str,
        pending_window_days: Option<u32>,
    ) -> Result<KmsKey, CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "ScheduleKeyDeletion")?;
            let days = validate::days(
                pending_window_days,
                validate::PENDING_WINDOW,
                "PendingWindowInDays",
            )?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            Self::require_not_pending(&key)?;
            let mut row = self.fresh_row(&key).await?;
            Self::require_not_pending(&KmsKey::from_row(&row)?)?;
            row.state = KeyState::PendingDeletion;
            row.deletion_date = Some(self.clock.now() + Duration::days(i64::from(days)));
            self.write_row(&row).await?;
            KmsKey::from_row(&row)
        }
        .await;
        self.managed(p, "ScheduleKeyDeletion", id, result).await
    }

    /// `CancelKeyDeletion`: back to `Disabled`, as AWS does.
    pub async fn cancel_key_deletion(
        &self,
        p: &Principal,
        key_ref: &str,
    ) -> Result<KmsKey, CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "CancelKeyDeletion")?;
            let key = self.resolve(p, key_ref).await?;
            id = Some(key.id);
            let mut row = self.fresh_row(&key).await?;
            if row.state != KeyState::PendingDeletion {
                return Err(CoreError::kms(
                    KmsErrorKind::KmsInvalidState,
                    format!("{} is not pending deletion", key.id),
                ));
            }
            row.state = KeyState::Disabled;
            row.deletion_date = None;
            self.write_row(&row).await?;
            KmsKey::from_row(&row)
        }
        .await;
        self.managed(p, "CancelKeyDeletion", id, result).await
    }

    /// Writes a row's mutable fields and forgets the cached copy.
    pub(crate) async fn write_row(&self, row: &KmsKeyRow) -> Result<(), CoreError> {
        let written = self.store.update_kms_key(row).await;
        self.changed(row.id);
        if !written? {
            return Err(CoreError::kms(
                KmsErrorKind::NotFound,
                format!("Key {} does not exist", row.id),
            ));
        }
        Ok(())
    }
}
