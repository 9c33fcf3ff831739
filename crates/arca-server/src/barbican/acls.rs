//! ACLs (`barbican/api/controllers/acls.py`): `GET`, `PUT`, `PATCH` and `DELETE /v1/secrets/{id}/acl` and
//! `/v1/containers/{id}/acl`. The object is looked up and the policy enforced first (404, then 403), then the
//! body is checked: JSON only
//! (415), then Barbican's `ACLValidator` schema (`{"read": {"users": [...], "project-access": bool}}`, no other
//! properties, 400). `PUT` and `PATCH` answer 200 with `{"acl_ref": ...}`; `DELETE` answers 200 with a JSON
//! `null`, as Pecan renders the controller's `None`.

use super::json_out::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use arca_core::{AclChange, AclFields, AclTarget, Principal};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::body::{RawBody, parse_json};
use super::container_wire::container_ref;
use super::hrefs::HostHref;
use super::openapi_types as doc;
use super::order_wire::{AclRef, Acls};
use super::path::SecretPath;
use super::resource_path::ContainerPath;
use super::schema::{Ty, additional_properties, check_max_len, check_type, invalid, py_repr};

const SCHEMA: &str = "ACL";

/// `ACLValidator`: the body as an ACL change. Barbican validates `users` with a one-item tuple schema, so only
/// its first item is checked; here every item must be a string of at most 255 characters, since a user id is one.
pub(crate) fn validate(body: &Value, replace: bool) -> Result<AclChange, ApiError> {
    let root = body.as_object().ok_or_else(|| {
        invalid(
            SCHEMA,
            &check_type(body, &[Ty::Object]).err().unwrap_or_default(),
            None,
        )
    })?;
    if let Some(reason) = additional_properties(root, &["read"]) {
        return Err(invalid(SCHEMA, &reason, None));
    }
    let fail = |reason: String| invalid(SCHEMA, &reason, Some("read"));
    let Some(read) = root.get("read") else {
        return Ok(AclChange {
            read: None,
            replace,
        });
    };
    let entry = read
        .as_object()
        .ok_or_else(|| fail(format!("{} is not of type 'object'", py_repr(read))))?;
    if let Some(reason) = additional_properties(entry, &["users", "project-access"]) {
        return Err(fail(reason));
    }
    let mut fields = AclFields::default();
    if let Some(users) = entry.get("users") {
        let items = users
            .as_array()
            .ok_or_else(|| fail(format!("{} is not of type 'array'", py_repr(users))))?;
        let mut list: Vec<String> = Vec::with_capacity(items.len());
        for item in items {
            check_type(item, &[Ty::String]).map_err(fail)?;
            check_max_len(item, 255).map_err(fail)?;
            let user = item.as_str().unwrap_or_default().to_owned();
            if !list.contains(&user) {
                list.push(user);
            }
        }
        fields.users = Some(list);
    }
    if let Some(flag) = entry.get("project-access") {
        fields.project_access = Some(
            flag.as_bool()
                .ok_or_else(|| fail(format!("{} is not of type 'boolean'", py_repr(flag))))?,
        );
    }
    // Barbican acts only on operations whose entry is truthy: `{"read": {}}` sets nothing.
    let read = (!entry.is_empty()).then_some(fields);
    Ok(AclChange { read, replace })
}

/// The body of `PUT`/`PATCH`: JSON only (415 otherwise), then the schema.
fn change_from(body: &RawBody, replace: bool) -> Result<AclChange, ApiError> {
    if body.media_type.as_deref() != Some("application/json") {
        return Err(ApiError::unsupported_media_type(&["application/json"]));
    }
    validate(&parse_json(&body.bytes)?, replace)
}

/// How Barbican's error messages name the ACL operations on one kind of object.
struct Ops {
    read: &'static str,
    update: &'static str,
    delete: &'static str,
}

fn ops(target: AclTarget) -> Ops {
    match target {
        AclTarget::Secret => Ops {
            read: "SecretACL(s) retrieval",
            update: "SecretACL(s) Update",
            delete: "SecretACL(s) deletion",
        },
        AclTarget::Container => Ops {
            read: "ContainerACL(s) retrieval",
            update: "ContainerACL(s) Update",
            delete: "ContainerACL(s) deletion",
        },
    }
}

/// The `acl_ref` of an object's ACL.
fn acl_ref(host: &HostHref, target: AclTarget, id: Uuid) -> String {
    let object = match target {
        AclTarget::Secret => host.secret(id),
        AclTarget::Container => container_ref(host, id),
    };
    format!("{object}/acl")
}

/// `GET`: the object's ACL (Barbican's default when none is set).
async fn get_acl(
    state: AppState,
    caller: Principal,
    target: AclTarget,
    id: Uuid,
) -> Result<Json<Acls>, ApiError> {
    let acl = state
        .services
        .acls
        .acl(&caller, target, id)
        .await
        .op(ops(target).read)?;
    Ok(Json(Acls::new(acl.as_ref())))
}

/// `PUT` (`replace`) or `PATCH`: authorises, then validates the body, then changes the object's ACL.
async fn change_acl(
    state: AppState,
    caller: Principal,
    target: AclTarget,
    id: Uuid,
    host: HostHref,
    body: RawBody,
    replace: bool,
) -> Result<Json<AclRef>, ApiError> {
    let op = ops(target).update;
    let acls = &state.services.acls;
    acls.check_change(&caller, target, id).await.op(op)?;
    let change = change_from(&body, replace)?;
    acls.change(&caller, target, id, &change).await.op(op)?;
    Ok(Json(AclRef {
        acl_ref: acl_ref(&host, target, id),
    }))
}

/// `DELETE`: removes the object's ACL → 200 `null`.
async fn delete_acl(
    state: AppState,
    caller: Principal,
    target: AclTarget,
    id: Uuid,
) -> Result<Response, ApiError> {
    state
        .services
        .acls
        .delete(&caller, target, id)
        .await
        .op(ops(target).delete)?;
    Ok(Json(Value::Null).into_response())
}

/// `GET /v1/secrets/{id}/acl`.
#[utoipa::path(get, path = "/v1/secrets/{id}/acl", tag = "acls", params(doc::SecretId),
    responses(
        (status = 200, description = "The secret's ACL (Barbican's default when none is set)", body = Acls),
        (status = 403, description = "Not allowed to read this secret's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
    ))]
pub(crate) async fn get_secret_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
) -> Result<Json<Acls>, ApiError> {
    get_acl(state, caller, AclTarget::Secret, path.id).await
}

/// `PUT /v1/secrets/{id}/acl`: replaces the ACL → 200.
#[utoipa::path(put, path = "/v1/secrets/{id}/acl", tag = "acls", params(doc::SecretId), request_body = doc::AclBody,
    responses(
        (status = 200, description = "The ACL is replaced", body = AclRef),
        (status = 400, description = "The body fails Barbican's ACL validation", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this secret's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn put_secret_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    host: HostHref,
    body: RawBody,
) -> Result<Json<AclRef>, ApiError> {
    change_acl(state, caller, AclTarget::Secret, path.id, host, body, true).await
}

/// `PATCH /v1/secrets/{id}/acl`: changes the given fields → 200.
#[utoipa::path(patch, path = "/v1/secrets/{id}/acl", tag = "acls", params(doc::SecretId), request_body = doc::AclBody,
    responses(
        (status = 200, description = "The given fields are changed", body = AclRef),
        (status = 400, description = "The body fails Barbican's ACL validation", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this secret's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn patch_secret_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    host: HostHref,
    body: RawBody,
) -> Result<Json<AclRef>, ApiError> {
    change_acl(state, caller, AclTarget::Secret, path.id, host, body, false).await
}

/// `DELETE /v1/secrets/{id}/acl` → 200 `null`.
#[utoipa::path(delete, path = "/v1/secrets/{id}/acl", tag = "acls", params(doc::SecretId),
    responses(
        (status = 200, description = "The ACL is removed (the answer is JSON `null`)", body = doc::JsonNull),
        (status = 403, description = "Not allowed to change this secret's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
    ))]
pub(crate) async fn delete_secret_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
) -> Result<Response, ApiError> {
    delete_acl(state, caller, AclTarget::Secret, path.id).await
}

/// `GET /v1/containers/{id}/acl`.
#[utoipa::path(get, path = "/v1/containers/{id}/acl", tag = "acls", params(doc::ContainerId),
    responses(
        (status = 200, description = "The container's ACL (Barbican's default when none is set)", body = Acls),
        (status = 403, description = "Not allowed to read this container's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
    ))]
pub(crate) async fn get_container_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
) -> Result<Json<Acls>, ApiError> {
    get_acl(state, caller, AclTarget::Container, path.id).await
}

/// `PUT /v1/containers/{id}/acl` → 200.
#[utoipa::path(put, path = "/v1/containers/{id}/acl", tag = "acls", params(doc::ContainerId), request_body = doc::AclBody,
    responses(
        (status = 200, description = "The ACL is replaced", body = AclRef),
        (status = 400, description = "The body fails Barbican's ACL validation", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this container's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn put_container_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    host: HostHref,
    body: RawBody,
) -> Result<Json<AclRef>, ApiError> {
    change_acl(
        state,
        caller,
        AclTarget::Container,
        path.id,
        host,
        body,
        true,
    )
    .await
}

/// `PATCH /v1/containers/{id}/acl` → 200.
#[utoipa::path(patch, path = "/v1/containers/{id}/acl", tag = "acls", params(doc::ContainerId), request_body = doc::AclBody,
    responses(
        (status = 200, description = "The given fields are changed", body = AclRef),
        (status = 400, description = "The body fails Barbican's ACL validation", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this container's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn patch_container_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    host: HostHref,
    body: RawBody,
) -> Result<Json<AclRef>, ApiError> {
    change_acl(
        state,
        caller,
        AclTarget::Container,
        path.id,
        host,
        body,
        false,
    )
    .await
}

/// `DELETE /v1/containers/{id}/acl` → 200 `null`.
#[utoipa::path(delete, path = "/v1/containers/{id}/acl", tag = "acls", params(doc::ContainerId),
    responses(
        (status = 200, description = "The ACL is removed (the answer is JSON `null`)", body = doc::JsonNull),
        (status = 403, description = "Not allowed to change this container's ACL", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
    ))]
pub(crate) async fn delete_container_acl(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
) -> Result<Response, ApiError> {
    delete_acl(state, caller, AclTarget::Container, path.id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: Value) -> String {
        match validate(&body, true) {
            Ok(_) => panic!("accepted {body}"),
            Err(e) => e.description().to_owned(),
        }
    }

    #[test]
    fn acl_schema() {
        let c = validate(
            &json!({"read": {"users": ["a", "b", "a"], "project-access": false}}),
            false,
        )
        .unwrap();
        let read = c.read.unwrap();
        assert_eq!(read.users.unwrap(), vec!["a", "b"]);
        assert_eq!(read.project_access, Some(false));
        assert!(validate(&json!({}), true).unwrap().read.is_none());
        assert!(validate(&json!({"read": {}}), true).unwrap().read.is_none());
        let p = |reason: &str, prop: &str| {
            format!(
                "Provided object does not match schema 'ACL': {reason}. Invalid property: '{prop}'"
            )
        };
        assert_eq!(err(json!([])), p("[] is not of type 'object'", "None"));
        assert_eq!(
            err(json!({"write": {}, "list": 1})),
            p(
                "Additional properties are not allowed ('list', 'write' were unexpected)",
                "None"
            )
        );
        assert_eq!(
            err(json!({"read": []})),
            p("[] is not of type 'object'", "read")
        );
        assert_eq!(
            err(json!({"read": {"users": "a"}})),
            p("'a' is not of type 'array'", "read")
        );
        assert_eq!(
            err(json!({"read": {"users": [1]}})),
            p("1 is not of type 'string'", "read")
        );
        assert_eq!(
            err(json!({"read": {"project-access": "yes"}})),
            p("'yes' is not of type 'boolean'", "read")
        );
        assert_eq!(
            err(json!({"read": {"user": []}})),
            p(
                "Additional properties are not allowed ('user' was unexpected)",
                "read"
            )
        );
        assert!(err(json!({"read": {"users": ["x".repeat(256)]}})).contains("is too long"));
    }
}
