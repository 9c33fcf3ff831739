//! Secret operations with their authorisation: every method loads the target (404 for unknown or expired),
//! checks the caller against Barbican's legacy policy, then acts. Payloads are sealed before they reach the
//! store and opened only after authorisation.

use std::collections::BTreeMap;
use std::sync::Arc;

use uuid::Uuid;
use zeroize::Zeroizing;

use crate::policy::authorize;
use crate::{
    Action, Clock, CoreError, KeyHierarchy, NewSecret, ObjectKind, Payload, Principal, SecretPage,
    SecretQuery, SecretRecord, Store, StoredPayload,
};

/// Payloads are sealed once; their revision in the associated data is always 1 until rewrap arrives.
const PAYLOAD_REVISION: u32 = 1;

/// Stores keep nanosecond timestamps in an i64, which ends in April 2262.
const LATEST_EXPIRATION_YEAR: i32 = 2262;

/// Secrets, their payloads and user metadata.
#[derive(Clone)]
pub struct SecretService {
    store: Arc<dyn Store>,
    keys: Arc<KeyHierarchy>,
    clock: Arc<dyn Clock>,
}

fn not_found() -> CoreError {
    CoreError::NotFound("Secret not found.".into())
}

fn metadatum_not_found() -> CoreError {
    CoreError::NotFound("Secret metadata not found.".into())
}

impl SecretService {
    /// A secret service over the store and hierarchy.
    pub fn new(store: Arc<dyn Store>, keys: Arc<KeyHierarchy>, clock: Arc<dyn Clock>) -> Self {
        Self { store, keys, clock }
    }

    async fn seal(
        &self,
        secret: &SecretRecord,
        payload: &Payload,
    ) -> Result<StoredPayload, CoreError> {
        if payload.bytes.is_empty() {
            return Err(CoreError::Invalid("the payload must not be empty".into()));
        }
        let id = secret.id.to_string();
        let ciphertext = self
            .keys
            .seal(
                &secret.project_id,
                ObjectKind::SecretPayload,
                &id,
                PAYLOAD_REVISION,
                &payload.bytes,
            )
            .await?;
        Ok(StoredPayload {
            ciphertext,
            content_type: payload.content_type.clone(),
        })
    }

    /// Loads a live (unexpired) secret and authorises `action` on it.
    async fn load(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<SecretRecord, CoreError> {
        let secret = self.store.get_secret(id).await?.ok_or_else(not_found)?;
        if secret.is_expired(self.clock.now()) {
            return Err(not_found());
        }
        authorize(caller, action, Some(&secret))?;
        Ok(secret)
    }

    /// Creates a secret in the caller's project, with its payload if one is given.
    pub async fn create(
        &self,
        caller: &Principal,
        new: NewSecret,
    ) -> Result<SecretRecord, CoreError> {
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
        self.store.insert_secret(&secret, sealed.as_ref()).await?;
        Ok(secret)
    }

    /// Stores the payload of a secret created without one; `Conflict` if it has one.
    pub async fn put_payload(
        &self,
        caller: &Principal,
        id: Uuid,
        payload: Payload,
    ) -> Result<(), CoreError> {
        let secret = self.load(caller, id, Action::SecretPut).await?;
        if secret.content_type.is_some() {
            return Err(CoreError::Conflict(
                "Secret already has data, cannot modify it.".into(),
            ));
        }
        let sealed = self.seal(&secret, &payload).await?;
        if self
            .store
            .attach_payload(id, &sealed, self.clock.now())
            .await?
        {
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
        let secret = self.load(caller, id, Action::SecretDecrypt).await?;
        let stored =
            self.store.get_payload(id).await?.ok_or_else(|| {
                CoreError::NotFound("No payload is stored for this secret.".into())
            })?;
        let bytes: Zeroizing<Vec<u8>> = self
            .keys
            .open(
                &secret.project_id,
                ObjectKind::SecretPayload,
                &id.to_string(),
                PAYLOAD_REVISION,
                &stored.ciphertext,
            )
            .await
            .map_err(|e| match e {
                CoreError::Integrity(_) => {
                    CoreError::Integrity(format!("the payload of secret {id}"))
                }
                other => other,
            })?;
        Ok((
            secret,
            Payload {
                bytes,
                content_type: stored.content_type,
            },
        ))
    }

    /// One page of the caller's project's secrets. The query's project and time are set here.
    pub async fn list(
        &self,
        caller: &Principal,
        mut query: SecretQuery,
    ) -> Result<SecretPage, CoreError> {
        authorize(caller, Action::SecretList, None)?;
        query.project_id = caller.project_id.clone();
        query.now = self.clock.now();
        Ok(self.store.list_secrets(&query).await?)
    }

    /// Deletes a secret with its payload and metadata.
    pub async fn delete(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.load(caller, id, Action::SecretDelete).await?;
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
        self.load(caller, id, Action::MetadataWrite).await?;
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
        self.load(caller, id, Action::MetadataWrite).await?;
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
        self.load(caller, id, Action::MetadataWrite).await?;
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
        self.load(caller, id, Action::MetadataWrite).await?;
        if self.store.delete_secret_metadatum(id, key).await? {
            Ok(())
        } else {
            Err(metadatum_not_found())
        }
    }
}
