//! Principals and Barbican's legacy policy (admin / creator / observer / audit) for the secrets API: one
//! function decides whether a principal may perform an action on a project's object.

use crate::{CoreError, SecretRecord};

/// A role a principal holds. Unknown role names are kept but grant nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    /// Full control within the project.
    Admin,
    /// Creates objects and manages the ones it created.
    Creator,
    /// Reads metadata and payloads.
    Observer,
    /// Reads metadata only.
    Audit,
    /// `key-manager:service-admin`, for quotas.
    ServiceAdmin,
    /// Any other role name.
    Other(String),
}

impl Role {
    /// Parses a role name (case-insensitive, as Keystone role names are matched by oslo.policy).
    pub fn parse(name: &str) -> Role {
        match name.trim().to_ascii_lowercase().as_str() {
            "admin" => Role::Admin,
            "creator" => Role::Creator,
            "observer" => Role::Observer,
            "audit" => Role::Audit,
            "key-manager:service-admin" => Role::ServiceAdmin,
            other => Role::Other(other.to_owned()),
        }
    }

    /// The role's name.
    pub fn as_str(&self) -> &str {
        match self {
            Role::Admin => "admin",
            Role::Creator => "creator",
            Role::Observer => "observer",
            Role::Audit => "audit",
            Role::ServiceAdmin => "key-manager:service-admin",
            Role::Other(name) => name,
        }
    }
}

/// An authenticated caller: a user in a project with roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The project the caller acts in.
    pub project_id: String,
    /// The user id.
    pub user_id: String,
    /// Roles in that project.
    pub roles: Vec<Role>,
}

impl Principal {
    fn has(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }

    fn any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has(r))
    }
}

/// What a caller wants to do, named after Barbican's policy rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `secrets:post`.
    SecretCreate,
    /// `secrets:get` (list).
    SecretList,
    /// `secret:get` (metadata).
    SecretRead,
    /// `secret:decrypt` (payload).
    SecretDecrypt,
    /// `secret:put` (payload upload).
    SecretPut,
    /// `secret:delete`.
    SecretDelete,
    /// `secret_meta:get`.
    MetadataRead,
    /// `secret_meta:post`, `secret_meta:put`, `secret_meta:delete`.
    MetadataWrite,
}

const ALL_USERS: [Role; 5] = [
    Role::Admin,
    Role::Observer,
    Role::Creator,
    Role::Audit,
    Role::ServiceAdmin,
];
const ALL_BUT_AUDIT: [Role; 3] = [Role::Admin, Role::Observer, Role::Creator];
const ADMIN_OR_CREATOR: [Role; 2] = [Role::Admin, Role::Creator];

/// Decides `action` for `caller`. `target` is the secret acted on, if any; a secret of another project is
/// always refused (Barbican's `secret_project_match`).
pub fn authorize(
    caller: &Principal,
    action: Action,
    target: Option<&SecretRecord>,
) -> Result<(), CoreError> {
    let same_project = target.is_none_or(|s| s.project_id == caller.project_id);
    // Barbican's legacy `secret:delete` also lets any creator-role caller delete a secret that is not
    // private (`secret_project_creator_role and not secret_private_read`); without per-secret ACLs no secret
    // is private, so the creator role suffices. `secret_meta:get` is `secret_non_private_read`, i.e. all users.
    let allowed = same_project
        && match action {
            Action::SecretCreate | Action::SecretPut | Action::MetadataWrite => {
                caller.any(&ADMIN_OR_CREATOR)
            }
            Action::SecretList | Action::SecretDecrypt => caller.any(&ALL_BUT_AUDIT),
            Action::SecretRead | Action::MetadataRead => caller.any(&ALL_USERS),
            Action::SecretDelete => caller.any(&ADMIN_OR_CREATOR),
        };
    if allowed {
        Ok(())
    } else {
        Err(CoreError::Forbidden(format!(
            "{} is not permitted to perform {:?}",
            caller.user_id, action
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;
    use uuid::Uuid;

    fn principal(project: &str, user: &str, role: &str) -> Principal {
        Principal {
            project_id: project.into(),
            user_id: user.into(),
            roles: vec![Role::parse(role)],
        }
    }

    fn secret(project: &str, creator: &str) -> SecretRecord {
        let now = OffsetDateTime::now_utc();
        SecretRecord {
            id: Uuid::nil(),
            project_id: project.into(),
            creator_id: creator.into(),
            name: None,
            algorithm: None,
            bit_length: None,
            mode: None,
            secret_type: crate::SecretType::Opaque,
            expiration: None,
            created: now,
            updated: now,
            content_type: None,
        }
    }

    #[test]
    fn legacy_matrix() {
        let s = secret("p", "alice");
        let ok = |role: &str, user: &str, a: Action| {
            authorize(&principal("p", user, role), a, Some(&s)).is_ok()
        };
        assert!(ok("admin", "bob", Action::SecretDelete));
        assert!(ok("creator", "alice", Action::SecretDelete));
        assert!(ok("creator", "bob", Action::SecretDelete));
        assert!(!ok("observer", "bob", Action::SecretDelete));
        assert!(ok("audit", "bob", Action::MetadataRead));
        assert!(ok("observer", "bob", Action::SecretDecrypt));
        assert!(!ok("audit", "bob", Action::SecretDecrypt));
        assert!(ok("audit", "bob", Action::SecretRead));
        assert!(!ok("observer", "bob", Action::SecretPut));
        assert!(!ok("observer", "bob", Action::MetadataWrite));
        assert!(!ok("nobody", "bob", Action::SecretRead));
        assert!(
            authorize(
                &principal("q", "alice", "admin"),
                Action::SecretRead,
                Some(&s)
            )
            .is_err()
        );
        assert!(authorize(&principal("p", "x", "audit"), Action::SecretList, None).is_err());
        assert!(authorize(&principal("p", "x", "creator"), Action::SecretCreate, None).is_ok());
    }
}
