//! Consumers (`barbican/api/controllers/consumers.py`): services registering their use of a container
//! (name, URL) or of a secret (service, resource type, resource id; microversion 1.1). Registration is
//! idempotent; removal names the consumer in full and is refused (403) to a caller that neither registered
//! it nor owns the container or secret. The target is admitted by its own service, so the same 404s,
//! expiry and policy (and, later, ACLs) apply as to every other operation on it. Also the 1.2 rule that a
//! secret with consumers is only deleted when forced. A new consumer must be admitted by the caller's project's
//! `consumers` quota, counted in the insert's transaction (container and secret consumers each counted on their
//! own, as Barbican's two consumer repositories count); re-registering an existing one is always allowed.

use std::collections::BTreeMap;
use std::sync::Arc;

use uuid::Uuid;

use crate::container_service::container_not_found;
use crate::{
    Action, Clock, ContainerConsumer, ContainerConsumerPage, ContainerRecord, ContainerService,
    CoreError, Principal, QuotaCheck, QuotaResource, SecretConsumer, SecretConsumerPage,
    SecretRecord, SecretService, Store, UNLIMITED,
};

/// Barbican's 404 for an unknown consumer.
fn consumer_not_found() -> CoreError {
    CoreError::NotFound("Consumer not found.".into())
}

/// The message of the 403 for removing someone else's consumer (`_consumer_ownership_mismatch`).
pub const NOT_CONSUMER_OWNER: &str =
    "Not Allowed. Sorry, only the creator of a consumer can delete it.";

/// The message of the 409 for deleting a secret that has consumers without `force`.
pub const SECRET_HAS_CONSUMERS: &str = "Secret cannot be deleted as it has consumers.";

/// Container and secret consumers.
#[derive(Clone)]
pub struct ConsumerService {
    audit: crate::AuditLog,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    containers: ContainerService,
    secrets: SecretService,
    /// The deployment's default consumers quota (a project's configured one overrides it).
    consumers_quota: i64,
}

impl ConsumerService {
    /// The same service, recording its security events in `audit`.
    pub(crate) fn with_audit(mut self, audit: crate::AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// A consumer service; containers and secrets are admitted through their own services.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        containers: ContainerService,
        secrets: SecretService,
    ) -> Self {
        Self {
            audit: crate::AuditLog::default(),
            store,
            clock,
            containers,
            secrets,
            consumers_quota: UNLIMITED,
        }
    }

    /// The same service with `default` as the deployment's consumers quota.
    pub(crate) fn with_consumers_quota(mut self, default: i64) -> Self {
        self.consumers_quota = default;
        self
    }

    /// What a new consumer's registration is checked against.
    fn quota_check(&self) -> QuotaCheck {
        QuotaCheck {
            resource: QuotaResource::Consumers,
            default: self.consumers_quota,
        }
    }

    async fn reload_container(&self, id: Uuid) -> Result<ContainerRecord, CoreError> {
        self.store
            .get_container(id)
            .await?
            .ok_or_else(container_not_found)
    }

    /// Registers (name, URL) on a container; answers the container as it now is.
    pub async fn register_container_consumer(
        &self,
        caller: &Principal,
        id: Uuid,
        name: &str,
        url: &str,
    ) -> Result<ContainerRecord, CoreError> {
        let object_id = Some(id.to_string());
        let result = self
            .register_container_consumer_unaudited(caller, id, name, url)
            .await;
        self.audit
            .outcome(
                caller,
                "container.consumer.register",
                "container",
                object_id,
                result,
            )
            .await
    }

    async fn register_container_consumer_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        name: &str,
        url: &str,
    ) -> Result<ContainerRecord, CoreError> {
        self.containers
            .load_audited(caller, id, Action::ContainerConsumers)
            .await?;
        let now = self.clock.now();
        let consumer = ContainerConsumer {
            name: name.to_owned(),
            url: url.to_owned(),
            project_id: caller.project_id.clone(),
            created: now,
            updated: now,
        };
        let check = self.quota_check();
        if !self
            .store
            .upsert_container_consumer(id, &consumer, check)
            .await?
        {
            // Nothing was written: the container is gone, or a new consumer is over the quota.
            self.reload_container(id).await?;
            return Err(CoreError::QuotaReached("consumers".into()));
        }
        self.reload_container(id).await
    }

    /// One page of a container's consumers.
    pub async fn container_consumers(
        &self,
        caller: &Principal,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<ContainerConsumerPage, CoreError> {
        self.containers
            .load(caller, id, Action::ContainerConsumers)
            .await?;
        Ok(self
            .store
            .list_container_consumers(id, limit, offset)
            .await?)
    }

    /// Removes (name, URL) from a container; answers the container as it now is.
    pub async fn remove_container_consumer(
        &self,
        caller: &Principal,
        id: Uuid,
        name: &str,
        url: &str,
    ) -> Result<ContainerRecord, CoreError> {
        let object_id = Some(id.to_string());
        let result = self
            .remove_container_consumer_unaudited(caller, id, name, url)
            .await;
        self.audit
            .outcome(
                caller,
                "container.consumer.remove",
                "container",
                object_id,
                result,
            )
            .await
    }

    async fn remove_container_consumer_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        name: &str,
        url: &str,
    ) -> Result<ContainerRecord, CoreError> {
        let container = self
            .containers
            .load_audited(caller, id, Action::ContainerConsumers)
            .await?;
        let consumer = container
            .consumers
            .iter()
            .find(|c| c.name == name && c.url == url)
            .ok_or_else(consumer_not_found)?;
        if consumer.project_id != caller.project_id && container.project_id != caller.project_id {
            return Err(CoreError::Forbidden(NOT_CONSUMER_OWNER.into()));
        }
        if !self.store.delete_container_consumer(id, name, url).await? {
            return Err(consumer_not_found());
        }
        self.reload_container(id).await
    }

    /// Registers a consumer on a secret; answers the secret and all its consumers.
    pub async fn register_secret_consumer(
        &self,
        caller: &Principal,
        id: Uuid,
        service: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<(SecretRecord, Vec<SecretConsumer>), CoreError> {
        let object_id = Some(id.to_string());
        let result = self
            .register_secret_consumer_unaudited(caller, id, service, resource_type, resource_id)
            .await;
        self.audit
            .outcome(
                caller,
                "secret.consumer.register",
                "secret",
                object_id,
                result,
            )
            .await
    }

    async fn register_secret_consumer_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        service: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<(SecretRecord, Vec<SecretConsumer>), CoreError> {
        self.secrets
            .admitted_audited(caller, id, Action::SecretConsumers)
            .await?;
        let now = self.clock.now();
        let consumer = SecretConsumer {
            service: service.to_owned(),
            resource_type: resource_type.to_owned(),
            resource_id: resource_id.to_owned(),
            project_id: caller.project_id.clone(),
            created: now,
            updated: now,
        };
        let check = self.quota_check();
        if !self
            .store
            .upsert_secret_consumer(id, &consumer, check)
            .await?
        {
            // Nothing was written: the secret is gone, or a new consumer is over the quota.
            if self.store.get_secret(id).await?.is_none() {
                return Err(CoreError::NotFound("Secret not found.".into()));
            }
            return Err(CoreError::QuotaReached("consumers".into()));
        }
        self.secret_with_consumers(id).await
    }

    /// One page of a secret's consumers.
    pub async fn secret_consumers(
        &self,
        caller: &Principal,
        id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<SecretConsumerPage, CoreError> {
        self.secrets
            .admitted(caller, id, Action::SecretConsumers)
            .await?;
        Ok(self.store.list_secret_consumers(id, limit, offset).await?)
    }

    /// Removes a consumer from a secret; answers the secret and its remaining consumers.
    pub async fn remove_secret_consumer(
        &self,
        caller: &Principal,
        id: Uuid,
        service: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<(SecretRecord, Vec<SecretConsumer>), CoreError> {
        let object_id = Some(id.to_string());
        let result = self
            .remove_secret_consumer_unaudited(caller, id, service, resource_type, resource_id)
            .await;
        self.audit
            .outcome(
                caller,
                "secret.consumer.remove",
                "secret",
                object_id,
                result,
            )
            .await
    }

    async fn remove_secret_consumer_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        service: &str,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<(SecretRecord, Vec<SecretConsumer>), CoreError> {
        let secret = self
            .secrets
            .admitted_audited(caller, id, Action::SecretConsumers)
            .await?;
        let consumers = self
            .consumers_of(&[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        let consumer = consumers
            .iter()
            .find(|c| {
                c.service == service
                    && c.resource_type == resource_type
                    && c.resource_id == resource_id
            })
            .ok_or_else(consumer_not_found)?;
        if consumer.project_id != caller.project_id && secret.project_id != caller.project_id {
            return Err(CoreError::Forbidden(NOT_CONSUMER_OWNER.into()));
        }
        if !self
            .store
            .delete_secret_consumer(id, service, resource_type, resource_id)
            .await?
        {
            return Err(consumer_not_found());
        }
        self.secret_with_consumers(id).await
    }

    async fn secret_with_consumers(
        &self,
        id: Uuid,
    ) -> Result<(SecretRecord, Vec<SecretConsumer>), CoreError> {
        let secret = self
            .store
            .get_secret(id)
            .await?
            .ok_or_else(|| CoreError::NotFound("Secret not found.".into()))?;
        let consumers = self
            .consumers_of(&[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok((secret, consumers))
    }

    /// The consumers of secrets the caller has already been allowed to read, to embed in their documents.
    pub async fn consumers_of(
        &self,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, CoreError> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        Ok(self.store.secret_consumers_of(ids).await?)
    }

    /// Microversion 1.2's guard before deleting a secret without `force`: authorises the delete, then
    /// refuses (409) while the secret has consumers.
    pub async fn check_secret_deletable(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<(), CoreError> {
        self.secrets
            .admitted(caller, id, Action::SecretDelete)
            .await?;
        let has = self
            .consumers_of(&[id])
            .await?
            .get(&id)
            .is_some_and(|c| !c.is_empty());
        if has {
            Err(CoreError::Conflict(SECRET_HAS_CONSUMERS.into()))
        } else {
            Ok(())
        }
    }
}
