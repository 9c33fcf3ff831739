//! ACL operations with their authorisation (`barbican/api/controllers/acls.py`): read, replace (`PUT`),
//! change (`PATCH`) and remove the `read` ACL of a secret or a container. The object is loaded first (404 for an
//! unknown or expired one, whatever its project), then `*_acls:get` (any role but audit in the object's
//! project) or `*_acls:put_patch`/`delete` (the project's admins and the object's creator) is enforced.

use std::sync::Arc;

use uuid::Uuid;

use crate::container_service::{container_not_found, load_container};
use crate::policy::authorize_secret;
use crate::secret_service::not_found;
use crate::{Acl, AclChange, AclTarget, Action, Clock, CoreError, Principal, Store};

/// Secret and container ACLs.
#[derive(Clone)]
pub struct AclService {
    audit: crate::AuditLog,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

/// The 404 for an unknown object of this kind.
fn target_not_found(target: AclTarget) -> CoreError {
    match target {
        AclTarget::Secret => not_found(),
        AclTarget::Container => container_not_found(),
    }
}

impl AclService {
    /// The same service, recording its security events in `audit`.
    pub(crate) fn with_audit(mut self, audit: crate::AuditLog) -> Self {
        self.audit = audit;
        self
    }

    /// An ACL service over the store.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            audit: crate::AuditLog::default(),
        }
    }

    /// Loads a live object (a secret must not have expired) and its ACL and authorises reading (`write`
    /// false) or changing the ACL on it.
    async fn load(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
        write: bool,
    ) -> Result<Option<Acl>, CoreError> {
        let action = match (target, write) {
            (AclTarget::Secret, false) => Action::SecretAclRead,
            (AclTarget::Secret, true) => Action::SecretAclWrite,
            (AclTarget::Container, false) => Action::ContainerAclRead,
            (AclTarget::Container, true) => Action::ContainerAclWrite,
        };
        match target {
            AclTarget::Secret => {
                let secret = self.store.get_secret(id).await?.ok_or_else(not_found)?;
                if secret.is_expired(self.clock.now()) {
                    return Err(not_found());
                }
                let acl = self.store.get_acl(target, id).await?;
                authorize_secret(caller, action, &secret, acl.as_ref())?;
                Ok(acl)
            }
            AclTarget::Container => {
                let (_, acl) = load_container(self.store.as_ref(), caller, id, action).await?;
                Ok(acl)
            }
        }
    }

    /// An object's ACL (`None`: the default ACL).
    pub async fn acl(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
    ) -> Result<Option<Acl>, CoreError> {
        self.load_recording_denial(caller, target, id, false).await
    }

    /// Whether the caller may change the object's ACL (checked before the request body is read, as Barbican's
    /// policy check precedes body validation).
    pub async fn check_change(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
    ) -> Result<(), CoreError> {
        self.load_recording_denial(caller, target, id, true)
            .await
            .map(|_| ())
    }

    /// `load`, recording a refusal as a denied `acl.read`/`acl.change` (a permitted change records its own
    /// outcome in `change`/`delete`; a permitted read records nothing, like other metadata reads).
    async fn load_recording_denial(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
        write: bool,
    ) -> Result<Option<Acl>, CoreError> {
        let result = self.load(caller, target, id, write).await;
        if matches!(result, Err(CoreError::Forbidden(_))) {
            let action = if write { "acl.change" } else { "acl.read" };
            return self
                .audit
                .outcome(caller, action, "acl", Some(id.to_string()), result)
                .await;
        }
        result
    }

    /// Replaces (`PUT`) or changes (`PATCH`) an object's ACL.
    pub async fn change(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
        change: &AclChange,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.change_unaudited(caller, target, id, change).await;
        self.audit
            .outcome(caller, "acl.change", "acl", object_id, result)
            .await
    }

    async fn change_unaudited(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
        change: &AclChange,
    ) -> Result<(), CoreError> {
        self.load(caller, target, id, true).await?;
        // The store merges the change into the ACL as it is inside its write, so concurrent PATCHes of
        // different fields never undo each other.
        let done = self
            .store
            .change_acl(target, id, change, self.clock.now())
            .await?;
        if done {
            Ok(())
        } else {
            Err(target_not_found(target))
        }
    }

    /// Removes an object's ACL (back to the default); not an error when it has none.
    pub async fn delete(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
    ) -> Result<(), CoreError> {
        let object_id = Some(id.to_string());
        let result = self.delete_unaudited(caller, target, id).await;
        self.audit
            .outcome(caller, "acl.delete", "acl", object_id, result)
            .await
    }

    async fn delete_unaudited(
        &self,
        caller: &Principal,
        target: AclTarget,
        id: Uuid,
    ) -> Result<(), CoreError> {
        self.load(caller, target, id, true).await?;
        self.store.delete_acl(target, id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AclFields;
    use time::OffsetDateTime;

    fn acl(pa: bool, users: &[&str]) -> Acl {
        Acl {
            project_access: pa,
            users: users.iter().map(|u| u.to_string()).collect(),
            created: OffsetDateTime::UNIX_EPOCH,
            updated: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn change(pa: Option<bool>, users: Option<&[&str]>, replace: bool) -> AclChange {
        AclChange {
            read: Some(AclFields {
                project_access: pa,
                users: users.map(|u| u.iter().map(|s| s.to_string()).collect()),
            }),
            replace,
        }
    }

    #[test]
    fn put_replaces_with_defaults_and_patch_merges() {
        let now = OffsetDateTime::now_utc();
        let old = acl(false, &["a"]);
        let put = change(None, Some(&["b"]), true)
            .apply(Some(&old), now)
            .unwrap();
        assert!(put.project_access);
        assert_eq!(put.users, vec!["b"]);
        assert_eq!(put.created, old.created);
        let patch = change(None, Some(&["b"]), false)
            .apply(Some(&old), now)
            .unwrap();
        assert!(!patch.project_access);
        assert_eq!(patch.users, vec!["b"]);
        let patch = change(Some(true), None, false)
            .apply(Some(&old), now)
            .unwrap();
        assert_eq!(patch.users, vec!["a"]);
        assert!(patch.project_access);
        let new = change(None, None, false).apply(None, now).unwrap();
        assert!(new.project_access && new.users.is_empty());
        let none = AclChange {
            read: None,
            replace: true,
        };
        assert_eq!(none.apply(Some(&old), now), None);
        let none = AclChange {
            read: None,
            replace: false,
        };
        assert_eq!(none.apply(Some(&old), now), Some(old));
    }
}
