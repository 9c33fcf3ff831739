//! Principals and Barbican's legacy policy (admin / creator / observer / audit) for the secrets API: one
//! function decides whether a principal may perform an action on a project's object.

use crate::{Acl, ContainerRecord, CoreError, SecretRecord};

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
    /// `secret_consumers:get`, `secret_consumers:post`, `secret_consumers:delete` (one legacy rule).
    SecretConsumers,
    /// `containers:post`.
    ContainerCreate,
    /// `containers:get` (list).
    ContainerList,
    /// `container:get`.
    ContainerRead,
    /// `container:delete`.
    ContainerDelete,
    /// `container_secret:post`, `container_secret:delete`.
    ContainerSecretWrite,
    /// `container_consumers:get`, `container_consumers:post`, `container_consumers:delete` (one legacy rule).
    ContainerConsumers,
    /// `secretstores:get`, `secretstores:get_global_default`, `secretstores:get_preferred`, `secretstore:get`.
    SecretStoreRead,
    /// `secretstore_preferred:post`, `secretstore_preferred:delete`.
    SecretStorePreferredWrite,
    /// `secret_acls:get`.
    SecretAclRead,
    /// `secret_acls:put_patch`, `secret_acls:delete`.
    SecretAclWrite,
    /// `container_acls:get`.
    ContainerAclRead,
    /// `container_acls:put_patch`, `container_acls:delete`.
    ContainerAclWrite,
    /// `orders:post`.
    OrderCreate,
    /// `orders:get` (list).
    OrderList,
    /// `order:get`.
    OrderRead,
    /// `orders:put` (always refused afterwards: orders cannot be updated) and updating one order.
    OrderUpdate,
    /// `order:delete`.
    OrderDelete,
    /// `quotas:get`: the caller's own project's effective quotas.
    QuotaRead,
    /// `project_quotas:get`, `project_quotas:put`, `project_quotas:delete`.
    ProjectQuotas,
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

/// `Ok` when `allowed`; otherwise the 403 naming the caller and the action.
fn permit(allowed: bool, caller: &Principal, action: Action) -> Result<(), CoreError> {
    if allowed {
        Ok(())
    } else {
        Err(CoreError::Forbidden(format!(
            "{} is not permitted to perform {:?}",
            caller.user_id, action
        )))
    }
}

/// What an object's project, creator and ACL (`None`: the default ACL) make of the caller, for the rules that
/// read them; "private" means `project-access` false.
struct AclView {
    same_project: bool,
    private: bool,
    acl_read: bool,
    project_admin: bool,
    creator_role: bool,
    project_creator: bool,
}

impl AclView {
    fn new(caller: &Principal, project_id: &str, creator_id: &str, acl: Option<&Acl>) -> Self {
        let same_project = project_id == caller.project_id;
        let creator_role = same_project && caller.has(&Role::Creator);
        AclView {
            same_project,
            private: acl.is_some_and(|a| !a.project_access),
            acl_read: acl.is_some_and(|a| a.lists(&caller.user_id)),
            project_admin: same_project && caller.has(&Role::Admin),
            creator_role,
            project_creator: creator_role && caller.user_id == creator_id,
        }
    }

    /// The read rule: one of `roles` in the object's project unless it is private, the creator, the project's
    /// admins, or a user on the read list.
    fn may_read(&self, caller: &Principal, roles: &[Role]) -> bool {
        (self.same_project && caller.any(roles) && !self.private)
            || self.project_creator
            || self.project_admin
            || self.acl_read
    }

    /// Reading the ACL itself (`*_acls:get`): any role but audit in the object's project.
    fn may_read_acl(&self, caller: &Principal) -> bool {
        self.same_project && caller.any(&ALL_BUT_AUDIT)
    }

    /// Changing or removing the ACL (`*_acls:put_patch`, `*_acls:delete`): the project's admins or the creator.
    fn may_write_acl(&self) -> bool {
        self.project_admin || self.project_creator
    }
}

/// Decides `action` for `caller`. `target` is the secret acted on, if any; a secret of another project is
/// always refused (Barbican's `secret_project_match`).
pub fn authorize(
    caller: &Principal,
    action: Action,
    target: Option<&SecretRecord>,
) -> Result<(), CoreError> {
    let same_project = target.is_none_or(|s| s.project_id == caller.project_id);
    // For a secret target this is the rule under the default ACL (nothing private, no ACL users); the secret
    // service decides with the secret's own ACL through `authorize_secret`.
    let allowed = same_project
        && match action {
            Action::SecretCreate | Action::SecretPut | Action::MetadataWrite => {
                caller.any(&ADMIN_OR_CREATOR)
            }
            Action::SecretList | Action::SecretDecrypt => caller.any(&ALL_BUT_AUDIT),
            Action::SecretRead | Action::MetadataRead => caller.any(&ALL_USERS),
            Action::SecretDelete => caller.any(&ADMIN_OR_CREATOR),
            // `secret_non_private_read or secret_project_creator or secret_project_admin or secret_acl_read`.
            Action::SecretConsumers => caller.any(&ALL_USERS),
            Action::ContainerCreate => caller.any(&ADMIN_OR_CREATOR),
            Action::ContainerList => caller.any(&ALL_BUT_AUDIT),
            Action::SecretStoreRead => caller.any(&ALL_USERS),
            Action::SecretStorePreferredWrite => caller.has(&Role::Admin),
            // Orders of another project are not found before this is asked (Barbican's lookup filters by
            // project), so `project_id:%(target.order.project_id)s` holds here.
            Action::OrderCreate | Action::OrderUpdate => caller.any(&ADMIN_OR_CREATOR),
            Action::OrderList => caller.any(&ALL_BUT_AUDIT),
            Action::OrderRead | Action::QuotaRead => caller.any(&ALL_USERS),
            Action::OrderDelete => caller.has(&Role::Admin),
            Action::ProjectQuotas => caller.has(&Role::ServiceAdmin),
            // ACL actions need the secret and its ACL: `authorize_secret` decides them.
            Action::SecretAclRead
            | Action::SecretAclWrite
            | Action::ContainerAclRead
            | Action::ContainerAclWrite => false,
            // Actions on one container are decided by `authorize_container`, which knows its owner.
            Action::ContainerRead
            | Action::ContainerDelete
            | Action::ContainerSecretWrite
            | Action::ContainerConsumers => false,
        };
    permit(allowed, caller, action)
}

/// Decides an action on one container (`barbican/common/policies/containers.py` and `consumers.py`, legacy
/// rules). Without container ACLs no container is private, so `container_non_private_read` is "any role in
/// the container's project"; `container:delete` needs admin, or creator role *and* being the container's
/// creator. A container of another project is always refused (`container_project_match`). Per-container
/// ACLs (`container_acl_read`, `read-project-access`) will narrow or widen this in the container service's
/// load step, before this is called.
pub fn authorize_container(
    caller: &Principal,
    action: Action,
    target: &ContainerRecord,
) -> Result<(), CoreError> {
    let same_project = target.project_id == caller.project_id;
    let owner = caller.has(&Role::Creator) && caller.user_id == target.creator_id;
    let allowed = same_project
        && match action {
            Action::ContainerRead | Action::ContainerConsumers => caller.any(&ALL_USERS),
            Action::ContainerDelete => caller.has(&Role::Admin) || owner,
            Action::ContainerSecretWrite => caller.any(&ADMIN_OR_CREATOR),
            _ => false,
        };
    permit(allowed, caller, action)
}

/// Decides `action` on one secret with its ACL, as Barbican's legacy rules do once the ACL is in the policy
/// target (`barbican/common/policies/base.py`, `secrets.py`, `secretmeta.py`, `acls.py`); `acl` is `None` for
/// the default ACL (project access, no users). With `s` the secret and "private" meaning `project-access`
/// false:
///
/// - read metadata (`secret:get`, `secret_meta:get`): any role in `s`'s project unless private, the creator
///   (creator role), the project's admins, or a user on the read list (from any project, whatever roles);
/// - read the payload (`secret:decrypt`): the same, but the audit role does not suffice;
/// - delete, and write user metadata: the project's admins, the creator, or the creator role unless private;
/// - upload a payload (`secret:put`): admin or creator role in the project (no ACL involved);
/// - the ACL itself: reading needs any role but audit in the project (`secret_acls:get`); changing or removing
///   it needs the project's admins or the creator (`secret_acls:put_patch`, `secret_acls:delete`).
pub fn authorize_secret(
    caller: &Principal,
    action: Action,
    secret: &SecretRecord,
    acl: Option<&Acl>,
) -> Result<(), CoreError> {
    let v = AclView::new(caller, &secret.project_id, &secret.creator_id, acl);
    let allowed = match action {
        Action::SecretRead | Action::MetadataRead => v.may_read(caller, &ALL_USERS),
        Action::SecretDecrypt => v.may_read(caller, &ALL_BUT_AUDIT),
        Action::SecretDelete | Action::MetadataWrite => {
            v.project_admin || v.project_creator || (v.creator_role && !v.private)
        }
        Action::SecretPut => v.same_project && caller.any(&ADMIN_OR_CREATOR),
        Action::SecretAclRead => v.may_read_acl(caller),
        Action::SecretAclWrite => v.may_write_acl(),
        other => return authorize(caller, other, Some(secret)),
    };
    permit(allowed, caller, action)
}

/// Decides `action` on one container with its ACL (legacy rules of `barbican/common/policies/containers.py`,
/// `consumers.py` and `acls.py`): reading it or its consumers is `container_non_private_read` (any role in the
/// project unless private), the creator, the project's admins or a user on the read list (of any project);
/// the ACL itself as for secrets. Every other action is [`authorize_container`]'s, which no ACL changes.
pub fn authorize_container_with_acl(
    caller: &Principal,
    action: Action,
    container: &ContainerRecord,
    acl: Option<&Acl>,
) -> Result<(), CoreError> {
    let v = AclView::new(caller, &container.project_id, &container.creator_id, acl);
    let allowed = match action {
        Action::ContainerRead | Action::ContainerConsumers => v.may_read(caller, &ALL_USERS),
        Action::ContainerAclRead => v.may_read_acl(caller),
        Action::ContainerAclWrite => v.may_write_acl(),
        other => return authorize_container(caller, other, container),
    };
    permit(allowed, caller, action)
}

/// Whether the secret's ACL can change the outcome of `action` for `caller`: the project's admins and the
/// secret's creator are decided without it, as are actions the ACL does not enter. Lets a service skip reading
/// the ACL on those paths.
pub fn acl_matters(caller: &Principal, action: Action, secret: &SecretRecord) -> bool {
    let acl_actions = matches!(
        action,
        Action::SecretRead
            | Action::SecretDecrypt
            | Action::SecretDelete
            | Action::MetadataRead
            | Action::MetadataWrite
    );
    let same_project = secret.project_id == caller.project_id;
    let decided = same_project
        && (caller.has(&Role::Admin)
            || (caller.has(&Role::Creator) && caller.user_id == secret.creator_id));
    acl_actions && !decided
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

    fn acl(project_access: bool, users: &[&str]) -> crate::Acl {
        crate::Acl {
            project_access,
            users: users.iter().map(|u| u.to_string()).collect(),
            created: OffsetDateTime::UNIX_EPOCH,
            updated: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn acls_make_secrets_private_and_share_them() {
        let s = secret("p", "alice");
        let private = acl(false, &["carol"]);
        let shared = acl(true, &["carol"]);
        let ok = |p: Principal, a: Action, acl: Option<&crate::Acl>| {
            authorize_secret(&p, a, &s, acl).is_ok()
        };
        // Default ACL: the legacy matrix.
        assert!(ok(
            principal("p", "bob", "observer"),
            Action::SecretDecrypt,
            None
        ));
        assert!(ok(
            principal("p", "bob", "creator"),
            Action::SecretDelete,
            None
        ));
        assert!(!ok(
            principal("q", "carol", "admin"),
            Action::SecretRead,
            None
        ));
        // Private: only the project's admins, the creator and listed users read.
        for action in [
            Action::SecretRead,
            Action::SecretDecrypt,
            Action::MetadataRead,
        ] {
            assert!(ok(principal("p", "root", "admin"), action, Some(&private)));
            assert!(ok(
                principal("p", "alice", "creator"),
                action,
                Some(&private)
            ));
            assert!(!ok(
                principal("p", "bob", "observer"),
                action,
                Some(&private)
            ));
            assert!(!ok(
                principal("p", "bob", "creator"),
                action,
                Some(&private)
            ));
            assert!(ok(
                principal("q", "carol", "observer"),
                action,
                Some(&private)
            ));
            assert!(ok(
                principal("q", "carol", "nothing"),
                action,
                Some(&private)
            ));
        }
        assert!(!ok(
            principal("p", "bob", "creator"),
            Action::SecretDelete,
            Some(&private)
        ));
        assert!(!ok(
            principal("p", "bob", "creator"),
            Action::MetadataWrite,
            Some(&private)
        ));
        assert!(ok(
            principal("p", "alice", "creator"),
            Action::SecretDelete,
            Some(&private)
        ));
        assert!(ok(
            principal("p", "root", "admin"),
            Action::SecretDelete,
            Some(&private)
        ));
        // ACL users read but never write, delete or see the ACL.
        assert!(!ok(
            principal("q", "carol", "admin"),
            Action::SecretDelete,
            Some(&shared)
        ));
        assert!(!ok(
            principal("q", "carol", "admin"),
            Action::MetadataWrite,
            Some(&shared)
        ));
        assert!(!ok(
            principal("q", "carol", "admin"),
            Action::SecretAclRead,
            Some(&shared)
        ));
        assert!(!ok(
            principal("p", "carol", "audit"),
            Action::SecretDecrypt,
            None
        ));
        assert!(ok(
            principal("p", "carol", "audit"),
            Action::SecretDecrypt,
            Some(&shared)
        ));
        // The ACL itself.
        assert!(ok(
            principal("p", "bob", "observer"),
            Action::SecretAclRead,
            Some(&private)
        ));
        assert!(!ok(
            principal("p", "bob", "audit"),
            Action::SecretAclRead,
            None
        ));
        assert!(!ok(
            principal("p", "bob", "creator"),
            Action::SecretAclWrite,
            None
        ));
        assert!(ok(
            principal("p", "alice", "creator"),
            Action::SecretAclWrite,
            None
        ));
        assert!(ok(
            principal("p", "root", "admin"),
            Action::SecretAclWrite,
            None
        ));
        // An empty user id is never on a list.
        assert!(!ok(
            principal("q", "", "admin"),
            Action::SecretRead,
            Some(&acl(true, &[""]))
        ));
        // Who needs the ACL read at all.
        assert!(!acl_matters(
            &principal("p", "root", "admin"),
            Action::SecretRead,
            &s
        ));
        assert!(!acl_matters(
            &principal("p", "alice", "creator"),
            Action::SecretDecrypt,
            &s
        ));
        assert!(acl_matters(
            &principal("p", "bob", "observer"),
            Action::SecretDecrypt,
            &s
        ));
        assert!(acl_matters(
            &principal("q", "carol", "admin"),
            Action::SecretRead,
            &s
        ));
        assert!(!acl_matters(
            &principal("p", "bob", "creator"),
            Action::SecretPut,
            &s
        ));
    }

    fn container(project: &str, creator: &str) -> ContainerRecord {
        let now = OffsetDateTime::now_utc();
        ContainerRecord {
            id: Uuid::nil(),
            project_id: project.into(),
            creator_id: creator.into(),
            name: None,
            container_type: crate::ContainerType::Generic,
            created: now,
            updated: now,
            secret_refs: Vec::new(),
            consumers: Vec::new(),
        }
    }

    /// `authorize_container`: every role, in the container's project and in another, on every container action.
    #[test]
    fn container_legacy_matrix() {
        let c = container("p", "alice");
        // (role, user, read/consumers, delete, add or remove a secret) in the container's project.
        let own = [
            ("admin", "root", true, true, true),
            ("creator", "alice", true, true, true),
            ("creator", "bob", true, false, true),
            ("observer", "bob", true, false, false),
            ("audit", "bob", true, false, false),
            ("key-manager:service-admin", "ops", true, false, false),
            ("nothing", "bob", false, false, false),
        ];
        for (role, user, read, delete, secrets) in own {
            let p = principal("p", user, role);
            let ok = |a: Action| authorize_container(&p, a, &c).is_ok();
            assert_eq!(ok(Action::ContainerRead), read, "{role} {user} read");
            assert_eq!(
                ok(Action::ContainerConsumers),
                read,
                "{role} {user} consumers"
            );
            assert_eq!(ok(Action::ContainerDelete), delete, "{role} {user} delete");
            assert_eq!(
                ok(Action::ContainerSecretWrite),
                secrets,
                "{role} {user} secrets"
            );
            // Not a container action: never decided here.
            assert!(!ok(Action::SecretRead), "{role} {user}");
            // Another project's container is refused to every role, its creator's name notwithstanding.
            let other = principal("q", user, role);
            for action in [
                Action::ContainerRead,
                Action::ContainerConsumers,
                Action::ContainerDelete,
                Action::ContainerSecretWrite,
            ] {
                assert!(
                    authorize_container(&other, action, &c).is_err(),
                    "{role} {user} of another project: {action:?}"
                );
            }
        }
    }

    /// `authorize_container_with_acl`: role × own/other project × ACL user, under the default ACL, a private
    /// ACL and a shared one.
    #[test]
    fn container_acls_make_containers_private_and_share_them() {
        let c = container("p", "alice");
        let private = acl(false, &["carol"]);
        let shared = acl(true, &["carol"]);
        let ok = |p: &Principal, a: Action, acl: Option<&crate::Acl>| {
            authorize_container_with_acl(p, a, &c, acl).is_ok()
        };
        let read_actions = [Action::ContainerRead, Action::ContainerConsumers];
        // (project, user, role, reads by default, reads when private, reads when shared).
        let readers = [
            ("p", "root", "admin", true, true, true),
            ("p", "alice", "creator", true, true, true),
            ("p", "bob", "creator", true, false, true),
            ("p", "bob", "observer", true, false, true),
            ("p", "bob", "audit", true, false, true),
            ("p", "bob", "nothing", false, false, false),
            ("q", "root", "admin", false, false, false),
            ("q", "alice", "creator", false, false, false),
            // The ACL user, from another project and its own, whatever its roles.
            ("q", "carol", "observer", false, true, true),
            ("q", "carol", "nothing", false, true, true),
            ("p", "carol", "audit", true, true, true),
        ];
        for (project, user, role, default, when_private, when_shared) in readers {
            let p = principal(project, user, role);
            for action in read_actions {
                let who = format!("{project}/{user}/{role} {action:?}");
                assert_eq!(ok(&p, action, None), default, "{who} default");
                assert_eq!(
                    ok(&p, action, Some(&private)),
                    when_private,
                    "{who} private"
                );
                assert_eq!(ok(&p, action, Some(&shared)), when_shared, "{who} shared");
            }
        }
        // Whatever the ACL, the other actions are the legacy rules: ACL users never write, delete or see the ACL.
        for acl in [None, Some(&private), Some(&shared)] {
            let carol = principal("q", "carol", "admin");
            for action in [
                Action::ContainerDelete,
                Action::ContainerSecretWrite,
                Action::ContainerAclRead,
                Action::ContainerAclWrite,
            ] {
                assert!(!ok(&carol, action, acl), "carol {action:?} {acl:?}");
            }
            let bob = principal("p", "bob", "creator");
            assert!(!ok(&bob, Action::ContainerDelete, acl));
            assert!(ok(&bob, Action::ContainerSecretWrite, acl));
            assert!(ok(
                &principal("p", "alice", "creator"),
                Action::ContainerDelete,
                acl
            ));
            assert!(ok(
                &principal("p", "root", "admin"),
                Action::ContainerDelete,
                acl
            ));
            // The ACL itself: read by any role but audit in the project, changed by its admins and the creator.
            assert!(ok(
                &principal("p", "bob", "observer"),
                Action::ContainerAclRead,
                acl
            ));
            assert!(!ok(
                &principal("p", "bob", "audit"),
                Action::ContainerAclRead,
                acl
            ));
            assert!(!ok(
                &principal("q", "root", "admin"),
                Action::ContainerAclRead,
                acl
            ));
            assert!(!ok(&bob, Action::ContainerAclWrite, acl));
            assert!(ok(
                &principal("p", "alice", "creator"),
                Action::ContainerAclWrite,
                acl
            ));
            assert!(ok(
                &principal("p", "root", "admin"),
                Action::ContainerAclWrite,
                acl
            ));
            assert!(!ok(
                &principal("p", "alice", "observer"),
                Action::ContainerAclWrite,
                acl
            ));
        }
        // An empty user id is never on a list.
        assert!(!ok(
            &principal("q", "", "admin"),
            Action::ContainerRead,
            Some(&acl(true, &[""]))
        ));
    }

    #[test]
    fn order_and_quota_rules() {
        let ok = |role: &str, a: Action| authorize(&principal("p", "u", role), a, None).is_ok();
        assert!(ok("creator", Action::OrderCreate) && ok("admin", Action::OrderCreate));
        assert!(!ok("observer", Action::OrderCreate));
        assert!(ok("observer", Action::OrderList) && !ok("audit", Action::OrderList));
        assert!(ok("audit", Action::OrderRead));
        assert!(ok("admin", Action::OrderDelete) && !ok("creator", Action::OrderDelete));
        assert!(ok("audit", Action::QuotaRead) && !ok("nothing", Action::QuotaRead));
        assert!(ok("key-manager:service-admin", Action::ProjectQuotas));
        assert!(!ok("admin", Action::ProjectQuotas));
    }
}
