//! Aliases: CreateAlias, UpdateAlias, DeleteAlias and ListAliases. Names are unique per project; an alias
//! points at one of the project's keys (never one pending deletion when created or moved).

use super::key::KmsAlias;
use super::key_ref::parse_alias_name;
use super::service::KmsService;
use super::types::KmsAliasPage;
use super::validate;
use crate::{CoreError, KmsErrorKind, Principal};

impl KmsService {
    /// `CreateAlias`: `alias_name` (`alias/…`) for the key `target_ref` names (a key id or ARN).
    pub async fn create_alias(
        &self,
        p: &Principal,
        alias_name: &str,
        target_ref: &str,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "CreateAlias")?;
            let name = parse_alias_name(&p.project_id, alias_name)?;
            validate::alias_name(&name)?;
            let key = self.alias_target(p, target_ref).await?;
            id = Some(key);
            let now = self.clock.now();
            let alias = KmsAlias {
                project_id: p.project_id.clone(),
                name: name.clone(),
                key_id: key,
                created: now,
                updated: now,
            };
            if !self.store.insert_kms_alias(&alias).await? {
                return Err(CoreError::kms(
                    KmsErrorKind::AlreadyExists,
                    format!("An alias with the name {name} already exists"),
                ));
            }
            Ok(())
        }
        .await;
        self.managed(p, "CreateAlias", id, result).await
    }

    /// `UpdateAlias`: points an existing alias at another key.
    pub async fn update_alias(
        &self,
        p: &Principal,
        alias_name: &str,
        target_ref: &str,
    ) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "UpdateAlias")?;
            let name = parse_alias_name(&p.project_id, alias_name)?;
            validate::alias_name(&name)?;
            let current = self
                .store
                .get_kms_alias(&p.project_id, &name)
                .await?
                .ok_or_else(|| alias_not_found(&name))?;
            let key = self.alias_target(p, target_ref).await?;
            id = Some(key);
            let old = self.key_by_id(p, current.key_id, &current.key_id.to_string()).await?;
            let new = self.key_by_id(p, key, target_ref).await?;
            if old.key_usage != new.key_usage || old.key_spec.is_asymmetric() != new.key_spec.is_asymmetric() {
                return Err(CoreError::kms(
                    KmsErrorKind::Validation,
                    format!(
                        "{name} points at a key of another type or usage; an alias may only move between keys of the same type and usage"
                    ),
                ));
            }
            let now = self.clock.now();
            if !self.store.update_kms_alias(&p.project_id, &name, key, now).await? {
                return Err(alias_not_found(&name));
            }
            Ok(())
        }
        .await;
        self.managed(p, "UpdateAlias", id, result).await
    }

    /// `DeleteAlias` (never the key).
    pub async fn delete_alias(&self, p: &Principal, alias_name: &str) -> Result<(), CoreError> {
        let mut id = None;
        let result = async {
            self.authorize(p, "DeleteAlias")?;
            let name = parse_alias_name(&p.project_id, alias_name)?;
            validate::alias_name(&name)?;
            let alias = self
                .store
                .get_kms_alias(&p.project_id, &name)
                .await?
                .ok_or_else(|| alias_not_found(&name))?;
            id = Some(alias.key_id);
            if !self.store.delete_kms_alias(&p.project_id, &name).await? {
                return Err(alias_not_found(&name));
            }
            Ok(())
        }
        .await;
        self.managed(p, "DeleteAlias", id, result).await
    }

    /// `ListAliases`: the project's aliases by name, or only those of the key `key_ref` names (`limit`
    /// 1..=100, default 50).
    pub async fn list_aliases(
        &self,
        p: &Principal,
        key_ref: Option<&str>,
        limit: Option<u32>,
        marker: Option<&str>,
    ) -> Result<KmsAliasPage, CoreError> {
        self.authorize(p, "ListAliases")?;
        let limit = validate::limit(limit, 100, 50)?;
        if marker.is_some_and(|m| !m.starts_with("alias/")) {
            return Err(validate::bad_marker());
        }
        let key = match key_ref {
            Some(r) => Some(self.resolve(p, r).await?.id),
            None => None,
        };
        let mut aliases = self
            .store
            .list_kms_aliases(&p.project_id, key, limit + 1, marker)
            .await?;
        let more = aliases.len() > limit as usize;
        aliases.truncate(limit as usize);
        let next_marker = more
            .then(|| aliases.last().map(|a| a.name.clone()))
            .flatten();
        Ok(KmsAliasPage {
            aliases,
            next_marker,
        })
    }

    /// The key an alias may point at: the caller's, by id or ARN (not another alias), not pending deletion.
    async fn alias_target(&self, p: &Principal, target_ref: &str) -> Result<uuid::Uuid, CoreError> {
        if target_ref.starts_with("alias/") || target_ref.contains(":alias/") {
            return Err(CoreError::kms(
                KmsErrorKind::Validation,
                "TargetKeyId must be a key id or key ARN, not an alias",
            ));
        }
        let key = self.resolve(p, target_ref).await?;
        Self::require_not_pending(&key)?;
        Ok(key.id)
    }
}

fn alias_not_found(name: &str) -> CoreError {
    CoreError::kms(KmsErrorKind::NotFound, format!("Alias {name} is not found"))
}
