//! ACL operations with their authorisation (`barbican/api/controllers/acls.py`): read, replace (`PUT`),
//! change (`PATCH`) and remove the `read` ACL of a secret or a container. The object is loaded first (404 for an
//! unknown or expired one, whatever its project), then `*_acls:get` (any role but audit in the object's
//! project) or `*_acls:put_patch`/`delete` (the project's admins and the object's creator) is enforced.

use std::sync::Arc;

use uuid::Uuid;

use crate::container_service::container_not_found;
use crate::policy::{authorize_container_with_acl, authorize_secret};
use crate::secret_service::not_found;
use crate::{Acl, AclChange, Action, Clock, CoreError, Principal, SecretRecord, Store};

/// Secret ACLs.
#[derive(Clone)]
pub struct AclService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl AclService {
    /// An ACL service over the store.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Loads a live secret and its ACL and authorises `action` on it.
    async fn load(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<(SecretRecord, Option<Acl>), CoreError> {
        let secret = self.store.get_secret(id).await?.ok_or_else(not_found)?;
        if secret.is_expired(self.clock.now()) {
            return Err(not_found());
        }
        let acl = self.store.get_secret_acl(id).await?;
        authorize_secret(caller, action, &secret, acl.as_ref())?;
        Ok((secret, acl))
    }

    /// A secret's ACL (`None`: the default ACL).
    pub async fn secret_acl(&self, caller: &Principal, id: Uuid) -> Result<Option<Acl>, CoreError> {
        Ok(self.load(caller, id, Action::SecretAclRead).await?.1)
    }

    /// Whether the caller may change the secret's ACL (checked before the request body is read, as Barbican's
    /// policy check precedes body validation).
    pub async fn check_change(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.load(caller, id, Action::SecretAclWrite)
            .await
            .map(|_| ())
    }

    /// Replaces (`PUT`) or changes (`PATCH`) a secret's ACL.
    pub async fn change_secret_acl(
        &self,
        caller: &Principal,
        id: Uuid,
        change: &AclChange,
    ) -> Result<(), CoreError> {
        self.load(caller, id, Action::SecretAclWrite).await?;
        // The store merges the change into the ACL as it is inside its write, so concurrent PATCHes of
        // different fields never undo each other.
        let done = self
            .store
            .change_secret_acl(id, change, self.clock.now())
            .await?;
        if done { Ok(()) } else { Err(not_found()) }
    }

    /// Removes a secret's ACL (back to the default); not an error when it has none.
    pub async fn delete_secret_acl(&self, caller: &Principal, id: Uuid) -> Result<(), CoreError> {
        self.load(caller, id, Action::SecretAclWrite).await?;
        self.store.delete_secret_acl(id).await?;
        Ok(())
    }
}

impl AclService {
    /// Loads a container and its ACL and authorises `action` on it.
    async fn load_container(
        &self,
        caller: &Principal,
        id: Uuid,
        action: Action,
    ) -> Result<Option<Acl>, CoreError> {
        let container = self
            .store
            .get_container(id)
            .await?
            .ok_or_else(container_not_found)?;
        let acl = self.store.get_container_acl(id).await?;
        authorize_container_with_acl(caller, action, &container, acl.as_ref())?;
        Ok(acl)
    }

    /// A container's ACL (`None`: the default ACL).
    pub async fn container_acl(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<Option<Acl>, CoreError> {
        self.load_container(caller, id, Action::ContainerAclRead)
            .await
    }

    /// Whether the caller may change the container's ACL (checked before the body is read).
    pub async fn check_container_change(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<(), CoreError> {
        self.load_container(caller, id, Action::ContainerAclWrite)
            .await
            .map(|_| ())
    }

    /// Replaces (`PUT`) or changes (`PATCH`) a container's ACL.
    pub async fn change_container_acl(
        &self,
        caller: &Principal,
        id: Uuid,
        change: &AclChange,
    ) -> Result<(), CoreError> {
        self.load_container(caller, id, Action::ContainerAclWrite)
            .await?;
        let done = self
            .store
            .change_container_acl(id, change, self.clock.now())
            .await?;
        if done {
            Ok(())
        } else {
            Err(container_not_found())
        }
    }

    /// Removes a container's ACL; not an error when it has none.
    pub async fn delete_container_acl(
        &self,
        caller: &Principal,
        id: Uuid,
    ) -> Result<(), CoreError> {
        self.load_container(caller, id, Action::ContainerAclWrite)
            .await?;
        self.store.delete_container_acl(id).await?;
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
