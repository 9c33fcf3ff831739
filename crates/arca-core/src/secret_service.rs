//! Secret operations with their authorisation: every method loads the target (404 for unknown or expired),
//! checks the caller against Barbican's legacy policy, then acts. Payloads are sealed before they reach the
//! store and opened only after authorisation.

use std::collections::BTreeMap;
use std::sync::Arc;

use uuid::Uuid;
use zeroize::Zeroizing;

use crate::policy::{acl_matters, authorize, authorize_secret};
use crate::{
    AclTarget, Action, Clock, CoreError, KeyHierarchy, NewSecret, Payload, Payloads, Principal,
    QuotaCheck, QuotaResource, SecretPage, SecretQuery, SecretRecord, Store, StoredPayload,
    UNLIMITED,
};

/// Payloads are sealed once; their revision in the associated data is always 1 until rewrap arrives.
pub(crate) const PAYLOAD_REVISION: u32 = 1;

/// Stores keep nanosecond timestamps in an i64, which ends in April 2262.
const LATEST_EXPIRATION_YEAR: i32 = 2262;

/// Secrets, their payloads and user metadata.
#[derive(Clone)]
pub struct SecretService {
    audit: crate::AuditLog,
    store: Arc<dyn Store>,
    payloads: Payloads,
    clock: Arc<dyn Clock>,
    /// The deployment's default secrets quota (a project's configured one overrides it).
    secrets_quota: i64,
}

/// Barbican's 404 for an unknown (or expired) secret.
pub(crate) fn not_found() -> CoreError {
    CoreError::NotFound("Secret not found.".into())
}

/// The audit action of a refused secret access that records no event of its own.
fn denied_action(action: Action) -> &'static str {
    match action {
        Action::SecretRead => "secret.read",
        Action::MetadataRead => "secret.metadata.read",
        Action::SecretConsumers => "secret.consumers.read",
        Action::SecretDelete => "secret.delete",
        _ => "secret.access",
    }
}

fn metadatum_not_found() -> CoreError {
    CoreError::NotFound("Secret metadata not found.".into())
}

impl SecretService {
    /// The same service, recording its security events in `audit`.
    pub(crate) fn with_audit(mut self, audit: crate::AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// A secret service over the store and hierarchy.
    pub fn new(store: Arc<dyn Store>, keys: Arc<KeyHierarchy>, clock: Arc<dyn Clock>) -> Self {
        let payloads = Payloads::new(
            store.clone(),
            keys,
            crate::PayloadStores::default(),
            Default::default(),
        );
        Self {
            audit: crate::AuditLog::default(),
            store,
            payloads,
            clock,
            secrets_quota: UNLIMITED,
        }
    }

    /// The same service placing payloads through `payloads`.
    pub(crate) fn with_payloads(mut self, payloads: Payloads) -> Self {
        self.payloads = payloads;
        self
    }

    /// The same service with `default` as the deployment's secrets quota.
    pub(crate) fn with_secrets_quota(mut self, default: i64) -> Self {
        self.secrets_quota = default;
        self
    }

    async fn seal(
        &self,
        secret: &SecretRecord,
        payload: &Payload,
    ) -> Result<StoredPayload, CoreError> {
        if payload.bytes.is_empty() {
            return Err(CoreError::Invalid("the payload must not be empty".into()));
        }
        self.payloads
            .place(
                &secret.project_id,
                secret.id,
                &payload.bytes,
                &payload.content_type,
            )
            .await
    }

    /// Removes a placed payload whose secret was not stored (best effort; external stores only).
    async fn discard(&self, secret: &SecretRecord, sealed: Option<&StoredPayload>) {
        if let Some(sealed) = sealed {
            self.payloads
                .discard(&secret.project_id, secret.id, sealed)
                .await;
        }
    }

    /// Loads a live (unexpired) secret and authorises `action` on it, recording a refusal as a `denied` audit
    /// event (for operations that record no event of their own).
    async fn load(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<SecretRecord, CoreError> {
        Ok(self.admit(caller, id, action, false, true).await?.0)
    }

    /// As `load`, for operations that record their own outcome (a refusal included), so it is not recorded twice.
    async fn load_audited(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<SecretRecord, CoreError> {
        Ok(self.admit(caller, id, action, false, false).await?.0)
    }

    /// Admits a secret for `action` on behalf of another service that acts on secrets (consumers), through
    /// the same checks as every secret operation.
    pub(crate) async fn admitted(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<SecretRecord, CoreError> {
        self.load(caller, id, action).await
    }

    /// As `admitted`, for operations that record their own outcome (a refusal included).
    pub(crate) async fn admitted_audited(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<SecretRecord, CoreError> {
        self.load_audited(caller, id, action).await
    }

    /// The one place a secret is admitted: read it (with its sealed payload when `with_payload`, in the same
    /// read), refuse it when unknown or expired (404), then authorise `action` on it. Every access to a
    /// secret goes through here. A refusal is recorded as a `denied` audit event when `record_denial` (the
    /// operations that record their own outcome pass `false`, so no refusal is recorded twice).
    async fn admit(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
        with_payload: bool,
        record_denial: bool,
    ) -> Result<(SecretRecord, Option<StoredPayload>), CoreError> {
        let (secret, payload) = if with_payload {
            self.store
                .get_secret_with_payload(id)
                .await?
                .ok_or_else(not_found)?
        } else {
            (
                self.store.get_secret(id).await?.ok_or_else(not_found)?,
                None,
            )
        };
        if secret.is_expired(self.clock.now()) {
            return Err(not_found());
        }
        // The ACL is read only when it can change the answer (not for the project's admins or the creator).
        let acl = if acl_matters(caller, action, &secret) {
            self.store.get_acl(AclTarget::Secret, id).await?
        } else {
            None
        };
        if let Err(e) = authorize_secret(caller, action, &secret, acl.as_ref()) {
            if record_denial {
                let name = denied_action(action);
                return self
                    .audit
                    .outcome(caller, name, "secret", Some(id.to_string()), Err(e))
                    .await;
            }
            return Err(e);
        }
        Ok((secret, payload))
    }

    /// Creates a secret in the caller's project, with its payload if one is given.
    pub async fn create(
        &self,
        caller: &Principal,
        new: NewSecret,
    ) -> Result<SecretRecord, CoreError> {
        let (secret, sealed) = match self.prepare_create(caller, new).await {
            Ok(prepared) => prepared,
            Err(e) => {
                return self
                    .audit
                    .outcome(caller, "secret.create", "secret", None, Err(e))
                    .await;
            }
        };
        let check = QuotaCheck {
            resource: QuotaResource::Secrets,
            default: self.secrets_quota,
        };
        let at_quota = || CoreError::QuotaReached("secrets".into());
        let refused = crate::AuditOutcome::of::<()>(&Err(at_quota()));
        let id = Some(secret.id.to_string());
        let prepared = self
            .audit
            .prepare(caller, "secret.create", "secret", id, refused)
            .await?;
        let Some(audit) = prepared else {
            let inserted = self
                .store
                .insert_secret_within_quota(&secret, sealed.as_ref(), check)
                .await;
            if !matches!(inserted, Ok(true)) {
                self.discard(&secret, sealed.as_ref()).await;
            }
            return match inserted? {
                true => Ok(secret),
                false => Err(at_quota()),
            };
        };
        // The insert and its audit record share one savepoint, hence one fsync (CRYPTO.md).
        match self
            .store
            .insert_secret_within_quota_audited(&secret, sealed.as_ref(), check, audit)
            .await
        {
            Ok((inserted, record)) => {
                self.audit.appended(&record);
                if inserted {
                    Ok(secret)
                } else {
                    self.discard(&secret, sealed.as_ref()).await;
                    Err(at_quota())
                }
            }
            Err(e) => {
                self.discard(&secret, sealed.as_ref()).await;
                self.audit
                    .outcome(caller, "secret.create", "secret", None, Err(e.into()))
                    .await
            }
        }
    }

    /// Checks a new secret and seals its payload: the secret and its sealed payload, ready to insert.
    async fn prepare_create(
        &self,
        caller: &Principal,
        new: NewSecret,
    ) -> Result<(SecretRecord, Option<StoredPayload>), CoreError> {
        authorize(caller, Action::SecretCreate, None)?;
        let now = self.clock.now();
        if new.expiration.is_some_and(|at| at <= now) {
            return Err(CoreError::Invalid(
                "'expiration' is before current time".into(),
            ));
        }
        if new
            .expiration
            .is_some_and(|at| at.year() >= LATEST_EXPIRATION_YEAR)
        {
            return Err(CoreError::Invalid(format!(
                "'expiration' must be before the year {LATEST_EXPIRATION_YEAR}"
            )));
        }
        let secret = SecretRecord {
            id: Uuid::now_v7(),
            project_id: caller.project_id.clone(),
            creator_id: caller.user_id.clone(),
            name: new.name,
            algorithm: new.algorithm,
            bit_length: new.bit_length,
            mode: new.mode,
            secret_type: new.secret_type,
            expiration: new.expiration,
            created: now,
            updated: now,
            content_type: new.payload.as_ref().map(|p| p.content_type.clone()),
        };
        let sealed = match &new.payload {
            Some(payload) => Some(self.seal(&secret, payload).await?),
            None => None,
        };
        Ok((secret, sealed))
    }

    /// Stores the payload of a secret created without one; `Conflict` if it has one.
    pub async fn put_payload(
        &self,
        caller: &Principal,
        id: Uuid,
        payload: Payload,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.put_payload_unaudited(caller, id, payload).await;
        self.audit
            .outcome(caller, "secret.payload.write", "secret", object_id, result)
            .await
    }

    async fn put_payload_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        payload: Payload,
    ) -> Result<(), CoreError> {
        let secret = self.load_audited(caller, id, Action::SecretPut).await?;
        if secret.content_type.is_some() {
            return Err(CoreError::Conflict(
                "Secret already has data, cannot modify it.".into(),
            ));
        }
        let sealed = self.seal(&secret, &payload).await?;
        let attached = self
            .store
            .attach_payload(id, &sealed, self.clock.now())
            .await;
        if !matches!(attached, Ok(true)) {
            self.discard(&secret, Some(&sealed)).await;
        }
        if attached? {
            Ok(())
        } else {
            Err(CoreError::Conflict(
                "Secret already has data, cannot modify it.".into(),
            ))
        }
    }

    /// A secret's metadata.
    pub async fn get(&self, caller: &Principal, id: Uuid) -> Result<SecretRecord, CoreError> {
        self.load(caller, id, Action::SecretRead).await
    }

    /// A secret's metadata and decrypted payload.
    pub async fn payload(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<(SecretRecord, Payload), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.payload_unaudited(caller, id).await;
        self.audit
            .use_outcome(caller, "secret.payload.read", "secret", object_id, result)
            .await
    }

    async fn payload_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<(SecretRecord, Payload), CoreError> {
        let (secret, stored) = self
            .admit(caller, id, Action::SecretDecrypt, true, false)
            .await?;
        let no_payload = || CoreError::NotFound("No payload is stored for this secret.".into());
        let mut stored = stored.ok_or_else(no_payload)?;
        let bytes: Zeroizing<Vec<u8>> =
            match self.payloads.open(&secret.project_id, id, &stored).await {
                // A migration may have moved the payload between our read and the external store's answer:
                // read where it lives now, once.
                Err(CoreError::NotFound(why)) => match self.store.get_payload(id).await? {
                    None => return Err(no_payload()),
                    Some(now) if now != stored => {
                        stored = now;
                        self.payloads.open(&secret.project_id, id, &stored).await?
                    }
                    Some(_) => return Err(CoreError::NotFound(why)),
                },
                other => other?,
            };
        Ok((
            secret,
            Payload {
                bytes,
                content_type: stored.content_type,
            },
        ))
    }

    /// One page of the caller's project's secrets (with `acl_user` set: the secrets, of any project, whose read
    /// ACL lists the caller). The query's project, time and ACL user are set here.
    pub async fn list(
        &self,
        caller: &Principal,
        mut query: SecretQuery,
    ) -> Result<SecretPage, CoreError> {
        authorize(caller, Action::SecretList, None)?;
        query.project_id = caller.project_id.clone();
        query.now = self.clock.now();
        if query.acl_user.is_some() {
            query.acl_user = Some(caller.user_id.clone());
        }
        Ok(self.store.list_secrets(&query).await?)
    }

    /// Deletes a secret with its payload and metadata.
    pub async fn delete(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.delete_unaudited(caller, id).await;
        self.audit
            .outcome(caller, "secret.delete", "secret", object_id, result)
            .await
    }

    async fn delete_unaudited(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        let (secret, stored) = self
            .admit(caller, id, Action::SecretDelete, true, false)
            .await?;
        // An external store's object goes first: if the store is down, nothing is deleted and the client retries.
        if let Some(stored) = stored {
            self.payloads
                .destroy(&secret.project_id, id, &stored)
                .await?;
        }
        if self.store.delete_secret(id).await? {
            Ok(())
        } else {
            Err(not_found())
        }
    }

    /// A secret's user metadata.
    pub async fn metadata(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<BTreeMap<String, String>, CoreError> {
        self.load(caller, id, Action::MetadataRead).await?;
        Ok(self.store.get_secret_metadata(id).await?)
    }

    /// Replaces all user metadata.
    pub async fn replace_metadata(
        &self,
        caller: &Principal,
        id: Uuid,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.replace_metadata_unaudited(caller, id, metadata).await;
        self.audit
            .outcome(
                caller,
                "secret.metadata.replace",
                "secret",
                object_id,
                result,
            )
            .await
    }

    async fn replace_metadata_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), CoreError> {
        self.load_audited(caller, id, Action::MetadataWrite).await?;
        Ok(self.store.replace_secret_metadata(id, metadata).await?)
    }

    /// Adds one metadata key; `Conflict` if it exists.
    pub async fn add_metadatum(
        &self,
        caller: &Principal,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.add_metadatum_unaudited(caller, id, key, value).await;
        self.audit
            .outcome(caller, "secret.metadata.add", "secret", object_id, result)
            .await
    }

    async fn add_metadatum_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<(), CoreError> {
        self.load_audited(caller, id, Action::MetadataWrite).await?;
        if self.store.insert_secret_metadatum(id, key, value).await? {
            Ok(())
        } else {
            Err(CoreError::Conflict(format!(
                "SecretMetadatum with key {key} already exists."
            )))
        }
    }

    /// One metadata value; `NotFound` if the key is absent.
    pub async fn metadatum(
        &self,
        caller: &Principal,
        id: Uuid,
        key: &str,
    ) -> Result<String, CoreError> {
        let all = self.metadata(caller, id).await?;
        all.get(key).cloned().ok_or_else(metadatum_not_found)
    }

    /// Sets one existing metadata key; `NotFound` if the key is absent.
    pub async fn update_metadatum(
        &self,
        caller: &Principal,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self
            .update_metadatum_unaudited(caller, id, key, value)
            .await;
        self.audit
            .outcome(
                caller,
                "secret.metadata.update",
                "secret",
                object_id,
                result,
            )
            .await
    }

    async fn update_metadatum_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        key: &str,
        value: &str,
    ) -> Result<(), CoreError> {
        self.load_audited(caller, id, Action::MetadataWrite).await?;
        if self.store.update_secret_metadatum(id, key, value).await? {
            Ok(())
        } else {
            Err(metadatum_not_found())
        }
    }

    /// Removes one metadata key; `NotFound` if absent.
    pub async fn delete_metadatum(
        &self,
        caller: &Principal,
        id: Uuid,
        key: &str,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.delete_metadatum_unaudited(caller, id, key).await;
        self.audit
            .outcome(
                caller,
                "secret.metadata.delete",
                "secret",
                object_id,
                result,
            )
            .await
    }

    async fn delete_metadatum_unaudited(
        &self,
        caller: &Principal,
        id: Uuid,
        key: &str,
    ) -> Result<(), CoreError> {
        self.load_audited(caller, id, Action::MetadataWrite).await?;
        if self.store.delete_secret_metadatum(id, key).await? {
            Ok(())
        } else {
            Err(metadatum_not_found())
        }
    }
}
