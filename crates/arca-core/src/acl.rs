//! Per-object access control lists as Barbican defines them (`barbican/api/controllers/acls.py`): only the
//! `read` operation exists, with a list of user ids that may read the object from any project and a
//! `project-access` flag; `false` makes the object private (only its creator, the project's admins and the
//! listed users may then read it). An object without an ACL behaves as Barbican's `DEFAULT_ACL`,
//! `{"read": {"project-access": true}}`.

use time::OffsetDateTime;

/// What kind of object an ACL belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclTarget {
    /// A secret's ACL.
    Secret,
    /// A container's ACL.
    Container,
}

/// The `read` ACL stored for an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// `project-access`: whether the project's roles still grant access (`false`: private).
    pub project_access: bool,
    /// Users allowed to read the object, whatever their project or roles, in the order given.
    pub users: Vec<String>,
    /// When the ACL was first set.
    pub created: OffsetDateTime,
    /// When it last changed.
    pub updated: OffsetDateTime,
}

impl Acl {
    /// Whether `user` is on the read list (an empty user id never is).
    pub fn lists(&self, user: &str) -> bool {
        !user.is_empty() && self.users.iter().any(|u| u == user)
    }
}

/// A requested change of the `read` ACL: `PUT` replaces it (absent fields take Barbican's defaults:
/// `project-access` true, no users), `PATCH` changes only the fields given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclChange {
    /// The `read` entry, when the body has a non-empty one (Barbican ignores an empty or missing `read`).
    pub read: Option<AclFields>,
    /// `true` for `PUT` (replace), `false` for `PATCH` (merge).
    pub replace: bool,
}

/// The fields of one ACL entry as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AclFields {
    /// `project-access`, if given.
    pub project_access: Option<bool>,
    /// `users`, if given (duplicates already removed, first occurrence kept).
    pub users: Option<Vec<String>>,
}

impl AclChange {
    /// The ACL this change makes of `existing` at `now`: `None` when there is to be no ACL. The store applies
    /// it inside its write, so the read and the write of a `PATCH` are one step.
    pub fn apply(&self, existing: Option<&Acl>, now: OffsetDateTime) -> Option<Acl> {
        let created = existing.map_or(now, |a| a.created);
        match (&self.read, self.replace) {
            // PUT without a `read` entry removes the ACL; PATCH without one changes nothing.
            (None, true) => None,
            (None, false) => existing.cloned(),
            (Some(fields), true) => Some(Acl {
                project_access: fields.project_access.unwrap_or(true),
                users: fields.users.clone().unwrap_or_default(),
                created,
                updated: now,
            }),
            (Some(fields), false) => Some(Acl {
                project_access: fields
                    .project_access
                    .or(existing.map(|a| a.project_access))
                    .unwrap_or(true),
                users: fields
                    .users
                    .clone()
                    .or_else(|| existing.map(|a| a.users.clone()))
                    .unwrap_or_default(),
                created,
                updated: now,
            }),
        }
    }
}
