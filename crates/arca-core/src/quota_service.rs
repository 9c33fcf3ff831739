//! Quota operations with their authorisation (`barbican/api/controllers/quotas.py`, legacy rules of
//! `barbican/common/policies/quotas.py`): any role reads its own project's effective quotas (`quotas:get`);
//! only `key-manager:service-admin` reads, sets and removes any project's configured quotas
//! (`project_quotas:*`). Setting merges: a resource left out of the request keeps its configured value.

use std::sync::Arc;

use crate::policy::authorize;
use crate::{
    Action, Clock, CoreError, Principal, ProjectQuotas, ProjectQuotasPage, ProjectQuotasRecord,
    QuotaCheck, QuotaDefaults, QuotaResource, Store,
};

/// Barbican's 404 for a project without configured quotas.
pub(crate) fn project_quotas_not_found() -> CoreError {
    CoreError::NotFound("Project quotas not found.".into())
}

/// Quotas: the deployment defaults and each project's configured values.
#[derive(Clone)]
pub struct QuotaService {
    audit: crate::AuditLog,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    defaults: QuotaDefaults,
}

impl QuotaService {
    /// The same service, recording its security events in `audit`.
    pub(crate) fn with_audit(mut self, audit: crate::AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// A quota service over the store with the deployment's defaults.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, defaults: QuotaDefaults) -> Self {
        Self {
            audit: crate::AuditLog::default(),
            store,
            clock,
            defaults,
        }
    }

    /// The deployment defaults.
    pub fn defaults(&self) -> QuotaDefaults {
        self.defaults
    }

    /// What the store must check before inserting a `resource` row.
    pub fn check(&self, resource: QuotaResource) -> QuotaCheck {
        QuotaCheck {
            resource,
            default: self.defaults.get(resource),
        }
    }

    /// Whether the caller may manage project quotas (checked before a request body is read).
    pub fn check_admin(&self, caller: &Principal) -> Result<(), CoreError> {
        authorize(caller, Action::ProjectQuotas, None)
    }

    /// The caller's project's effective quotas (`GET /v1/quotas`).
    pub async fn effective(&self, caller: &Principal) -> Result<QuotaDefaults, CoreError> {
        authorize(caller, Action::QuotaRead, None)?;
        let configured = self.store.get_project_quotas(&caller.project_id).await?;
        Ok(configured.map_or(self.defaults, |r| r.quotas.effective(&self.defaults)))
    }

    /// A project's configured quotas (`GET /v1/project-quotas/{id}`).
    pub async fn project(
        &self,
        caller: &Principal,
        project_id: &str,
    ) -> Result<ProjectQuotasRecord, CoreError> {
        authorize(caller, Action::ProjectQuotas, None)?;
        self.store
            .get_project_quotas(project_id)
            .await?
            .ok_or_else(project_quotas_not_found)
    }

    /// One page of every configured project's quotas (`GET /v1/project-quotas`).
    pub async fn list(
        &self,
        caller: &Principal,
        limit: u32,
        offset: u32,
    ) -> Result<ProjectQuotasPage, CoreError> {
        authorize(caller, Action::ProjectQuotas, None)?;
        Ok(self.store.list_project_quotas(limit, offset).await?)
    }

    /// Sets the given values of a project's quotas; the others keep their configured value (`PUT`).
    pub async fn set(
        &self,
        caller: &Principal,
        project_id: &str,
        given: &ProjectQuotas,
    ) -> Result<(), CoreError> {
        let object_id = Some(project_id.to_owned());
        let result = self.set_unaudited(caller, project_id, given).await;
        self.audit
            .outcome(caller, "quota.set", "project_quotas", object_id, result)
            .await
    }

    async fn set_unaudited(
        &self,
        caller: &Principal,
        project_id: &str,
        given: &ProjectQuotas,
    ) -> Result<(), CoreError> {
        authorize(caller, Action::ProjectQuotas, None)?;
        let now = self.clock.now();
        let existing = self.store.get_project_quotas(project_id).await?;
        let old = existing.as_ref().map(|r| r.quotas);
        let pick = |new: Option<i64>, old: Option<i64>| new.or(old);
        let quotas = ProjectQuotas {
            secrets: pick(given.secrets, old.and_then(|q| q.secrets)),
            orders: pick(given.orders, old.and_then(|q| q.orders)),
            containers: pick(given.containers, old.and_then(|q| q.containers)),
            consumers: pick(given.consumers, old.and_then(|q| q.consumers)),
            cas: pick(given.cas, old.and_then(|q| q.cas)),
        };
        let record = ProjectQuotasRecord {
            project_id: project_id.to_owned(),
            quotas,
            created: existing.map_or(now, |r| r.created),
            updated: now,
        };
        Ok(self.store.set_project_quotas(&record).await?)
    }

    /// Removes a project's configured quotas (`DELETE`); `NotFound` if it has none.
    pub async fn delete(&self, caller: &Principal, project_id: &str) -> Result<(), CoreError> {
        let object_id = Some(project_id.to_owned());
        let result = self.delete_unaudited(caller, project_id).await;
        self.audit
            .outcome(caller, "quota.delete", "project_quotas", object_id, result)
            .await
    }

    async fn delete_unaudited(
        &self,
        caller: &Principal,
        project_id: &str,
    ) -> Result<(), CoreError> {
        authorize(caller, Action::ProjectQuotas, None)?;
        if self.store.delete_project_quotas(project_id).await? {
            Ok(())
        } else {
            Err(project_quotas_not_found())
        }
    }
}
