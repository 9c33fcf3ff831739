//! Secret user metadata (`barbican/api/controllers/secretmeta.py`): `GET`/`PUT /v1/secrets/{id}/metadata`,
//! `POST` of one `{"key", "value"}` (201 with `Location`, 409 if the key exists), and `GET`/`PUT`/`DELETE
//! /v1/secrets/{id}/metadata/{key}`. Keys must be URL-safe (`^[A-Za-z0-9_-]*$`) and are stored lower-case;
//! values must be strings (Barbican's `NewSecretMetadataValidator` / `NewSecretMetadatumValidator`).

use std::collections::BTreeMap;

use super::json_out::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::body::JsonBody;
use super::hrefs::HostHref;
use super::openapi_types as doc;
use super::path::SecretPath;
use super::schema::{Ty, check_max_len, check_type, invalid};
use super::wire;

fn url_safe(key: &str) -> bool {
    key.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn invalid_key() -> ApiError {
    ApiError::bad_request("Invalid Key. Key must be URL safe.")
}

/// `NewSecretMetadataValidator`: `{"metadata": {<url-safe key>: <string>, ...}}`, keys lower-cased.
pub(crate) fn validate_metadata(body: &Value) -> Result<BTreeMap<String, String>, ApiError> {
    const SCHEMA: &str = "SecretMetadata";
    let map = body.as_object().ok_or_else(|| {
        invalid(
            SCHEMA,
            &check_type(body, &[Ty::Object]).err().unwrap_or_default(),
            None,
        )
    })?;
    let metadata = map.get("metadata").ok_or_else(|| {
        invalid(
            SCHEMA,
            "'metadata' is a required property",
            Some("metadata"),
        )
    })?;
    check_type(metadata, &[Ty::Object]).map_err(|r| invalid(SCHEMA, &r, Some("metadata")))?;
    let mut out = BTreeMap::new();
    for (key, value) in metadata.as_object().into_iter().flatten() {
        if !url_safe(key) {
            return Err(invalid_key());
        }
        let value = value.as_str().ok_or_else(|| {
            ApiError::bad_request("Invalid Metadata. Keys and Values must be Strings.")
        })?;
        out.insert(key.to_lowercase(), value.to_owned());
    }
    Ok(out)
}

/// `NewSecretMetadatumValidator`: exactly `{"key": <url-safe string ≤255>, "value": <string ≤255>}`; the
/// key is lower-cased.
pub(crate) fn validate_metadatum(body: &Value) -> Result<(String, String), ApiError> {
    const SCHEMA: &str = "SecretMetadatum";
    let map = body.as_object().ok_or_else(|| {
        invalid(
            SCHEMA,
            &check_type(body, &[Ty::Object]).err().unwrap_or_default(),
            None,
        )
    })?;
    for name in ["key", "value"] {
        let value = map.get(name).ok_or_else(|| {
            invalid(
                SCHEMA,
                &format!("'{name}' is a required property"),
                Some(name),
            )
        })?;
        check_type(value, &[Ty::String]).map_err(|r| invalid(SCHEMA, &r, Some(name)))?;
        check_max_len(value, 255).map_err(|r| invalid(SCHEMA, &r, Some(name)))?;
    }
    let extra: Vec<String> = map
        .keys()
        .filter(|k| *k != "key" && *k != "value")
        .map(|k| format!("'{k}'"))
        .collect();
    if !extra.is_empty() {
        let verb = if extra.len() == 1 { "was" } else { "were" };
        let reason = format!(
            "Additional properties are not allowed ({} {verb} unexpected)",
            extra.join(", ")
        );
        return Err(invalid(SCHEMA, &reason, None));
    }
    let key = map.get("key").and_then(Value::as_str).unwrap_or_default();
    if !url_safe(key) {
        return Err(invalid_key());
    }
    let value = map.get("value").and_then(Value::as_str).unwrap_or_default();
    Ok((key.to_lowercase(), value.to_owned()))
}

/// `GET /v1/secrets/{id}/metadata`.
#[utoipa::path(get, path = "/v1/secrets/{id}/metadata", tag = "secrets", params(doc::SecretId),
    responses(
        (status = 200, description = "All user metadata", body = wire::Metadata),
        (status = 403, description = "Not allowed to read this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
    ))]
pub(crate) async fn get_all(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
) -> Result<Json<wire::Metadata>, ApiError> {
    let metadata = state
        .services
        .secrets
        .metadata(&caller, path.id)
        .await
        .op("Secret metadata retrieval")?;
    Ok(Json(wire::Metadata { metadata }))
}

/// `PUT /v1/secrets/{id}/metadata` → 201 `{"metadata_ref": ...}`.
#[utoipa::path(put, path = "/v1/secrets/{id}/metadata", tag = "secrets", params(doc::SecretId),
    request_body = doc::MetadataBody,
    responses(
        (status = 201, description = "The metadata are replaced", body = wire::MetadataRef),
        (status = 400, description = "Invalid metadata", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn put_all(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let metadata = validate_metadata(&body)?;
    state
        .services
        .secrets
        .replace_metadata(&caller, path.id, &metadata)
        .await
        .op("Secret metadata creation")?;
    Ok((
        StatusCode::CREATED,
        Json(wire::MetadataRef {
            metadata_ref: host.metadata(path.id),
        }),
    )
        .into_response())
}

/// `POST /v1/secrets/{id}/metadata` → 201 with `Location: .../metadata/<key>`.
#[utoipa::path(post, path = "/v1/secrets/{id}/metadata", tag = "secrets", params(doc::SecretId),
    request_body = doc::MetadatumBody,
    responses(
        (status = 201, description = "Added; `Location` is the metadatum's reference", body = wire::Metadatum),
        (status = 400, description = "Invalid metadatum", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
        (status = 409, description = "The key exists", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn post_one(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (key, value) = validate_metadatum(&body)?;
    state
        .services
        .secrets
        .add_metadatum(&caller, path.id, &key, &value)
        .await
        .map_err(|e| match e {
            arca_core::CoreError::Conflict(_) => {
                ApiError::conflict("Conflict. Key in request is already in the secret metadata")
            }
            other => ApiError::core("Secret metadatum creation", other),
        })?;
    let location = format!("{}/{key}", host.metadata(path.id));
    Ok((
        StatusCode::CREATED,
        [(http::header::LOCATION, location)],
        Json(wire::Metadatum { key, value }),
    )
        .into_response())
}

/// `GET /v1/secrets/{id}/metadata/{key}`.
#[utoipa::path(get, path = "/v1/secrets/{id}/metadata/{key}", tag = "secrets", params(doc::MetadatumKey),
    responses(
        (status = 200, description = "The metadatum", body = wire::Metadatum),
        (status = 403, description = "Not allowed to read this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret or key", body = doc::ErrorBody),
    ))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
) -> Result<Json<wire::Metadatum>, ApiError> {
    let key = path.key.unwrap_or_default();
    let value = state
        .services
        .secrets
        .metadatum(&caller, path.id, &key)
        .await
        .op("Secret metadatum retrieval")?;
    Ok(Json(wire::Metadatum { key, value }))
}

/// `PUT /v1/secrets/{id}/metadata/{key}` → 200 with the new pair; 404 if the key is absent, 409 if the body
/// names another key.
#[utoipa::path(put, path = "/v1/secrets/{id}/metadata/{key}", tag = "secrets", params(doc::MetadatumKey),
    request_body = doc::MetadatumBody,
    responses(
        (status = 200, description = "The updated metadatum", body = wire::Metadatum),
        (status = 400, description = "Invalid metadatum", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret or key", body = doc::ErrorBody),
        (status = 409, description = "The body names another key", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn put_one(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    JsonBody(body): JsonBody,
) -> Result<Json<wire::Metadatum>, ApiError> {
    const OP: &str = "Secret metadatum update";
    let url_key = path.key.unwrap_or_default();
    let (key, value) = validate_metadatum(&body)?;
    state
        .services
        .secrets
        .metadatum(&caller, path.id, &url_key)
        .await
        .op(OP)?;
    if key != url_key {
        return Err(ApiError::conflict(
            "Key in request data does not match key in the request url.",
        ));
    }
    state
        .services
        .secrets
        .update_metadatum(&caller, path.id, &key, &value)
        .await
        .op(OP)?;
    Ok(Json(wire::Metadatum { key, value }))
}

/// `DELETE /v1/secrets/{id}/metadata/{key}` → 204, also when the key is absent.
#[utoipa::path(delete, path = "/v1/secrets/{id}/metadata/{key}", tag = "secrets", params(doc::MetadatumKey),
    responses(
        (status = 204, description = "Removed (also when the key was absent)"),
        (status = 403, description = "Not allowed to change this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
    ))]
pub(crate) async fn delete_one(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
) -> Result<StatusCode, ApiError> {
    let key = path.key.unwrap_or_default();
    match state
        .services
        .secrets
        .delete_metadatum(&caller, path.id, &key)
        .await
    {
        // Barbican's delete is a filtered `query.delete()`: an absent key is not an error (204). The domain
        // reports it as this NotFound, distinct from "Secret not found." for the secret itself.
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(arca_core::CoreError::NotFound(m)) if m == "Secret metadata not found." => {
            Ok(StatusCode::NO_CONTENT)
        }
        Err(e) => Err(ApiError::core("Secret metadatum removal", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_rules() {
        let m = validate_metadata(&json!({"metadata": {"Foo": "a", "bar-1_x": "b"}})).unwrap();
        assert_eq!(m.get("foo").map(String::as_str), Some("a"));
        assert_eq!(
            validate_metadata(&json!({"metadata": {"a b": "x"}}))
                .unwrap_err()
                .description(),
            "Invalid Key. Key must be URL safe."
        );
        assert_eq!(
            validate_metadata(&json!({"metadata": {"a": 1}}))
                .unwrap_err()
                .description(),
            "Invalid Metadata. Keys and Values must be Strings."
        );
        assert!(
            validate_metadata(&json!({"meta": {}}))
                .unwrap_err()
                .description()
                .contains("'metadata' is a required property")
        );
        assert!(validate_metadata(&json!({"metadata": []})).is_err());
    }

    #[test]
    fn metadatum_rules() {
        assert_eq!(
            validate_metadatum(&json!({"key": "Ab", "value": "v"})).unwrap(),
            ("ab".into(), "v".into())
        );
        let extra = validate_metadatum(&json!({"key": "a", "value": "v", "x": 1})).unwrap_err();
        assert!(
            extra
                .description()
                .contains("Additional properties are not allowed ('x' was unexpected)")
        );
        assert!(
            validate_metadatum(&json!({"key": "a"}))
                .unwrap_err()
                .description()
                .contains("'value' is a required property")
        );
        assert!(validate_metadatum(&json!({"key": "a", "value": 5})).is_err());
        assert!(validate_metadatum(&json!({"key": "a/b", "value": "v"})).is_err());
    }
}
