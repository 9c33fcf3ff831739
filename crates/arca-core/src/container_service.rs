//! Container operations with their authorisation (`barbican/api/controllers/containers.py`): every method
//! on one container first loads it (404 "Secrets container not found." for an unknown id, whatever its
//! project, as Barbican's `_lookup` does before any policy check), then authorises the action against the
//! container's project and creator. Secret references must name live secrets of the caller's own project
//! (Barbican's `secret_repo.get(id, external_project_id)`); anything else is the 404 Barbican gives. A new
//! container must be admitted by the project's containers quota, counted in the insert's transaction.

use std::sync::Arc;

use uuid::Uuid;

use crate::policy::{authorize, authorize_container_with_acl};
use crate::{
    Acl, AclTarget, Action, Clock, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, ContainerType, CoreError, NewContainer, Principal, QuotaCheck,
    QuotaResource, SecretRecord, Store, UNLIMITED,
};

/// Containers and the secrets they reference.
#[derive(Clone)]
pub struct ContainerService {
    audit: crate::AuditLog,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// The deployment's default containers quota (a project's configured one overrides it).
    containers_quota: i64,
}

/// Barbican's 404 for an unknown container.
pub(crate) fn container_not_found() -> CoreError {
    CoreError::NotFound("Secrets container not found.".into())
}

/// Loads a container with its ACL and authorises `action` on it (404 for an unknown one, whatever its project).
pub(crate) async fn load_container(
    store: &dyn Store,
    caller: &Principal,
    id: Uuid,
    action: Action,
) -> Result<(ContainerRecord, Option<Acl>), CoreError> {
    let container = store
        .get_container(id)
        .await?
        .ok_or_else(container_not_found)?;
    let acl = store.get_acl(AclTarget::Container, id).await?;
    authorize_container_with_acl(caller, action, &container, acl.as_ref())?;
    Ok((container, acl))
}

/// Python's `str()` of an optional name, as Barbican formats it into messages.
fn py_name(name: Option<&str>) -> &str {
    name.unwrap_or("None")
}

impl ContainerService {
    /// The same service, recording its security events in `audit`.
    pub(crate) fn with_audit(mut self, audit: crate::AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// A container service over the store.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            audit: crate::AuditLog::default(),
            store,
            clock,
            containers_quota: UNLIMITED,
        }
    }

    /// The same service with `default` as the deployment's containers quota.
    pub(crate) fn with_containers_quota(mut self, default: i64) -> Self {
        self.containers_quota = default;
        self
    }

    /// Loads a container and authorises `action` on it. This is the one place a container is admitted:
    /// per-container ACLs (`container_acl_read`, `read-project-access`) belong here, before the legacy rule.
    /// A refusal is recorded as a `denied` audit event (for operations that record no event of their own).
    pub(crate) async fn load(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<ContainerRecord, CoreError> {
        match load_container(self.store.as_ref(), caller, id, action).await {
            Ok((container, _)) => Ok(container),
            Err(e @ (CoreError::Forbidden(_) | CoreError::Unauthenticated)) => {
                let name = match action {
                    Action::ContainerRead => "container.read",
                    Action::ContainerConsumers => "container.consumers.read",
                    _ => "container.access",
                };
                self.audit
                    .outcome(caller, name, "container", Some(id.to_string()), Err(e))
                    .await
            }
            Err(e) => Err(e),
        }
    }

    /// As `load`, for operations that record their own outcome (a refusal included), so it is not recorded twice.
    pub(crate) async fn load_audited(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<ContainerRecord, CoreError> {
        let (container, _) = load_container(self.store.as_ref(), caller, id, action).await?;
        Ok(container)
    }

    /// A live secret of the caller's project, or `None` (unknown, expired or another project's).
    async fn own_secret(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<Option<SecretRecord>, CoreError> {
        let now = self.clock.now();
        Ok(self
            .store
            .get_secret(id)
            .await?
            .filter(|s| s.project_id == caller.project_id && !s.is_expired(now)))
    }

    /// Creates a container in the caller's project.
    pub async fn create(
        &self,
        caller: &Principal,
        new: NewContainer,
    ) -> Result<ContainerRecord, CoreError> {
        let result = self.create_unaudited(caller, new).await;
        let object_id = result.as_ref().ok().map(|r| r.id.to_string());
        self.audit
            .outcome(caller, "container.create", "container", object_id, result)
            .await
    }

    async fn create_unaudited(
        &self,
        caller: &Principal,
        new: NewContainer,
    ) -> Result<ContainerRecord, CoreError> {
        authorize(caller, Action::ContainerCreate, None)?;
        let missing = |r: &ContainerSecretRef| {
            CoreError::NotFound(format!(
                "Secret provided for '{}' doesn't exist.",
                py_name(r.name.as_deref())
            ))
        };
        for reference in &new.secret_refs {
            if self
                .own_secret(caller, reference.secret_id)
                .await?
                .is_none()
            {
                return Err(missing(reference));
            }
        }
        let now = self.clock.now();
        let container = ContainerRecord {
            id: Uuid::now_v7(),
            project_id: caller.project_id.clone(),
            creator_id: caller.user_id.clone(),
            name: new.name,
            container_type: new.container_type,
            created: now,
            updated: now,
            secret_refs: new.secret_refs,
            consumers: Vec::new(),
        };
        let check = QuotaCheck {
            resource: QuotaResource::Containers,
            default: self.containers_quota,
        };
        if self.store.insert_container(&container, check).await? {
            return Ok(container);
        }
        // Nothing was written: a referenced secret was deleted since the check, or the quota is reached.
        for reference in &container.secret_refs {
            if self
                .own_secret(caller, reference.secret_id)
                .await?
                .is_none()
            {
                return Err(missing(reference));
            }
        }
        Err(CoreError::QuotaReached("containers".into()))
    }

    /// One container.
    pub async fn get(&self, caller: &Principal, id: Uuid) -> Result<ContainerRecord, CoreError> {
        self.load(caller, id, Action::ContainerRead).await
    }

    /// Loads a container for `action` without changing it (the server checks what Barbican checks between
    /// policy and body validation, such as the container type).
    pub async fn get_for(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<ContainerRecord, CoreError> {
        self.load(caller, id, action).await
    }

    /// One page of the caller's project's containers. The query's project is set here.
    pub async fn list(
        &self,
        caller: &Principal,
        mut query: ContainerQuery,
    ) -> Result<ContainerPage, CoreError> {
        authorize(caller, Action::ContainerList, None)?;
        query.project_id = caller.project_id.clone();
        Ok(self.store.list_containers(&query).await?)
    }

    /// Deletes a container with its references and consumers (never the secrets themselves).
    pub async fn delete(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.delete_unaudited(caller, id).await;
        self.audit
            .outcome(caller, "container.delete", "container", object_id, result)
            .await
    }

    async fn delete_unaudited(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.load_audited(caller, id, Action::ContainerDelete)
            .await?;
        if self.store.delete_container(id).await? {
            Ok(())
        } else {
            Err(container_not_found())
        }
    }

    /// Adds a secret to a generic container (`ContainersSecretsController.on_post`).
    pub async fn add_secret(
        &self,
        caller: &Principal,
        id: Uuid,
        reference: ContainerSecretRef,
    ) -> Result<ContainerRecord, CoreError> {
        let object_id = Some(id.to_string());
        let result = self.add_secret_unaudited(caller, id, reference).await;
        self.audit
            .outcome(
                caller,
                "container.secret.add",
                "container",
                object_id,
                result,
            )
            .await
    }

    async fn add_secret_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        reference: ContainerSecretRef,
    ) -> Result<ContainerRecord, CoreError> {
        let container = self
            .load_audited(caller, id, Action::ContainerSecretWrite)
            .await?;
        if container.container_type != ContainerType::Generic {
            return Err(CoreError::Invalid(
                "Only 'generic' containers can be modified.".into(),
            ));
        }
        if self
            .own_secret(caller, reference.secret_id)
            .await?
            .is_none()
        {
            return Err(CoreError::NotFound("Secret provided doesn't exist.".into()));
        }
        let duplicate = || {
            CoreError::Conflict(
                "Conflict. A secret with that name and ID is already stored in this container. The \
                 same secret can exist in a container as long as the name is unique."
                    .into(),
            )
        };
        if container.secret_refs.contains(&reference) {
            return Err(duplicate());
        }
        if !self
            .store
            .add_container_secret(id, &reference, self.clock.now())
            .await?
        {
            return Err(duplicate());
        }
        Ok(container)
    }

    /// Removes a (secret, name) reference from a container (`ContainersSecretsController.on_delete`).
    /// `secret_ref` is the reference as sent, for Barbican's message.
    pub async fn remove_secret(
        &self,
        caller: &Principal,
        id: Uuid,
        reference: ContainerSecretRef,
        secret_ref: &str,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self
            .remove_secret_unaudited(caller, id, reference, secret_ref)
            .await;
        self.audit
            .outcome(
                caller,
                "container.secret.remove",
                "container",
                object_id,
                result,
            )
            .await
    }

    async fn remove_secret_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        reference: ContainerSecretRef,
        secret_ref: &str,
    ) -> Result<(), CoreError> {
        let container = self
            .load_audited(caller, id, Action::ContainerSecretWrite)
            .await?;
        if self
            .own_secret(caller, reference.secret_id)
            .await?
            .is_none()
        {
            return Err(CoreError::NotFound(format!(
                "Secret '{}' with reference '{secret_ref}' doesn't exist.",
                py_name(reference.name.as_deref())
            )));
        }
        let absent = || CoreError::NotFound("Secret provided is not in the container".into());
        if !container.secret_refs.contains(&reference) {
            return Err(absent());
        }
        if self
            .store
            .remove_container_secret(id, &reference, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(absent())
        }
    }
}
