//! The secrets resource (`barbican/api/controllers/secrets.py`): create (`POST /v1/secrets`), list, read
//! metadata (or, with a non-JSON `Accept`, the payload — Barbican's legacy behaviour), read the payload
//! (`/payload`), upload the payload of a two-step secret (`PUT`) and delete. Policy, project isolation and
//! expiry are enforced by `SecretService`; this file only speaks HTTP.

use super::json_out::Json;
use axum::extract::{Extension, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use arca_core::Payload;

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::body::{JsonBody, RawBody};
use super::hrefs::HostHref;
use super::list_query;
use super::microversion::ApiVersion;
use super::new_secret;
use super::openapi_types as doc;
use super::path::SecretPath;
use super::payload;
use super::wire;

/// `POST /v1/secrets` → 201 with `Location` and `{"secret_ref": ...}`.
#[utoipa::path(post, path = "/v1/secrets", tag = "secrets",
    request_body = doc::NewSecret,
    responses(
        (status = 201, description = "Created; `Location` is the secret's reference", body = wire::SecretRef),
        (status = 400, description = "The body fails Barbican's secret validation", body = doc::ErrorBody),
        (status = 403, description = "The role may not create secrets, or the project's quota is reached", body = doc::ErrorBody),
        (status = 413, description = "The payload or body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
    JsonBody(mut body): JsonBody,
) -> Result<Response, ApiError> {
    let now = state.services.clock.now();
    let new = new_secret::validate(&body, now, state.config.limits.max_payload_bytes);
    // The payload's text is in the parsed body too; the secret lives on only in `new`.
    crate::wipe::wipe_json_strings(&mut body);
    let new = new?;
    let secret = state
        .services
        .secrets
        .create(&caller, new)
        .await
        .op("Secret creation")?;
    let secret_ref = host.secret(secret.id);
    Ok((
        StatusCode::CREATED,
        [(http::header::LOCATION, secret_ref.clone())],
        Json(wire::SecretRef { secret_ref }),
    )
        .into_response())
}

/// `GET /v1/secrets`.
#[utoipa::path(get, path = "/v1/secrets", tag = "secrets", params(doc::SecretFilters),
    responses(
        (status = 200, description = "A page of the project's secrets", body = wire::SecretList),
        (status = 400, description = "Invalid date filter or sort", body = doc::ErrorBody),
        (status = 403, description = "The role may not list secrets", body = doc::ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Extension(version): Extension<ApiVersion>,
    host: HostHref,
    RawQuery(raw): RawQuery,
) -> Result<Json<wire::SecretList>, ApiError> {
    let request = list_query::parse(raw.as_deref())?;
    let (offset, limit) = (request.query.offset, request.query.limit);
    // Run the query even when `secret_type` matches nothing, so policy is still enforced.
    let page = state
        .services
        .secrets
        .list(&caller, request.query)
        .await
        .op("Secret(s) retrieval")?;
    if request.matches_nothing || page.secrets.is_empty() {
        let total = if request.matches_nothing {
            0
        } else {
            page.total
        };
        return Ok(Json(wire::SecretList {
            secrets: Vec::new(),
            total,
            next: None,
            previous: None,
        }));
    }
    let (previous, next) =
        list_query::nav_links(&host, offset, limit, page.total, &request.passthrough);
    let mut consumers = if version.at_least(1) {
        let ids: Vec<_> = page.secrets.iter().map(|s| s.id).collect();
        state
            .services
            .consumers
            .consumers_of(&ids)
            .await
            .op("Secret(s) retrieval")?
    } else {
        Default::default()
    };
    let secrets = page
        .secrets
        .into_iter()
        .map(|s| {
            let mine = consumers.remove(&s.id).unwrap_or_default();
            wire::Secret::with_consumers(s, &host, version, &mine)
        })
        .collect();
    Ok(Json(wire::SecretList {
        secrets,
        total: page.total,
        next,
        previous,
    }))
}

/// Reads and renders a payload for `Accept` (`_on_get_secret_payload`).
async fn payload_response(
    state: &AppState,
    caller: &arca_core::Principal,
    path: &SecretPath,
    headers: &HeaderMap,
    op: &str,
) -> Result<Response, ApiError> {
    let (_, payload) = state
        .services
        .secrets
        .payload(caller, path.id)
        .await
        .op(op)?;
    let accept = payload::accept_value(headers);
    let internal = payload::negotiate(accept.as_deref(), &payload.content_type)
        .ok_or_else(|| payload::not_acceptable(op))?;
    payload::render(internal, &payload.bytes, op)
}

/// `GET /v1/secrets/{id}`: metadata for `Accept` absent, `application/json` or `*/*`; otherwise the payload.
#[utoipa::path(get, path = "/v1/secrets/{id}", tag = "secrets", params(doc::SecretId),
    responses(
        (status = 200, description = "The secret's metadata (`Accept` absent or JSON), else its payload", content(
            (wire::Secret = "application/json"),
            (String = "text/plain"),
            (Vec<u8> = "application/octet-stream"),
        )),
        (status = 403, description = "Not allowed to read this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret (or another project's), or no payload", body = doc::ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    Extension(version): Extension<ApiVersion>,
    host: HostHref,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const OP: &str = "Secret retrieval";
    if !payload::wants_json(&headers) {
        return payload_response(&state, &caller, &path, &headers, OP).await;
    }
    let secret = state.services.secrets.get(&caller, path.id).await.op(OP)?;
    let consumers = if version.at_least(1) {
        let mut all = state
            .services
            .consumers
            .consumers_of(&[secret.id])
            .await
            .op(OP)?;
        all.remove(&secret.id).unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(Json(wire::Secret::with_consumers(
        secret, &host, version, &consumers,
    ))
    .into_response())
}

/// `GET /v1/secrets/{id}/payload`.
#[utoipa::path(get, path = "/v1/secrets/{id}/payload", tag = "secrets", params(doc::SecretId),
    responses(
        (status = 200, description = "The payload, as `Accept` asks", content(
            (String = "text/plain"),
            (Vec<u8> = "application/octet-stream"),
        )),
        (status = 403, description = "Not allowed to read this secret's payload", body = doc::ErrorBody),
        (status = 404, description = "No such secret, or no payload", body = doc::ErrorBody),
    ))]
pub(crate) async fn get_payload(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    payload_response(&state, &caller, &path, &headers, "Secret payload retrieval").await
}

/// `PUT /v1/secrets/{id}`: the payload of a secret created without one → 204.
#[utoipa::path(put, path = "/v1/secrets/{id}", tag = "secrets", params(doc::SecretId),
    request_body(description = "The payload (`Content-Encoding: base64` for base64 binary)", content(
        (String = "text/plain"),
        (Vec<u8> = "application/octet-stream"),
    )),
    responses(
        (status = 204, description = "The payload is stored"),
        (status = 400, description = "Empty or badly encoded payload", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to update this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
        (status = 409, description = "The secret already has a payload", body = doc::ErrorBody),
        (status = 413, description = "The payload is too large", body = doc::ErrorBody),
        (status = 415, description = "Neither text/plain nor application/octet-stream", body = doc::ErrorBody),
    ))]
pub(crate) async fn put(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    body: RawBody,
) -> Result<StatusCode, ApiError> {
    const OP: &str = "Secret update";
    let internal = match body.media_type.as_deref() {
        Some(t @ (payload::TEXT | payload::BINARY)) => {
            payload::normalize(t).unwrap_or(payload::BINARY)
        }
        _ => {
            return Err(ApiError::unsupported_media_type(&[
                payload::BINARY,
                payload::TEXT,
            ]));
        }
    };
    if body.bytes.is_empty() {
        return Err(ApiError::issue(
            StatusCode::BAD_REQUEST,
            OP,
            "No data supplied to process.",
        ));
    }
    let too_large = || {
        ApiError::issue(
            StatusCode::PAYLOAD_TOO_LARGE,
            OP,
            "Provided information too large to process",
        )
    };
    let max = state.config.limits.max_payload_bytes;
    if body.bytes.len() > max {
        return Err(too_large());
    }
    let bytes = payload::decode_put(internal, body.encoding.as_deref(), &body.bytes);
    crate::wipe::wipe_body(body.bytes);
    let bytes = bytes?;
    if bytes.len() > max {
        return Err(too_large());
    }
    let payload = Payload {
        bytes: bytes.into(),
        content_type: internal.to_owned(),
    };
    state
        .services
        .secrets
        .put_payload(&caller, path.id, payload)
        .await
        .op(OP)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /v1/secrets/{id}` → 204. From microversion 1.2 a secret that has consumers is only deleted with
/// `?force=<true>` (any of oslo's `bool_from_string` true words); otherwise 409 with the words
/// python-barbicanclient looks for ("Secret cannot be deleted as it has consumers."). Before 1.2 the client
/// checks consumers itself and the server deletes regardless, as Barbican 1.1 did.
#[utoipa::path(delete, path = "/v1/secrets/{id}", tag = "secrets", params(doc::SecretId, doc::ForceDelete),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed to delete this secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret", body = doc::ErrorBody),
        (status = 409, description = "Microversion 1.2: the secret has consumers and `force` is not true", body = doc::ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    Extension(version): Extension<ApiVersion>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    let forced = form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "force")
        .last()
        .is_some_and(|(_, v)| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "t" | "true" | "on" | "y" | "yes"
            )
        });
    if version.at_least(2) && !forced {
        state
            .services
            .consumers
            .check_secret_deletable(&caller, path.id)
            .await
            .op("Secret deletion")?;
    }
    state
        .services
        .secrets
        .delete(&caller, path.id)
        .await
        .op("Secret deletion")?;
    Ok(StatusCode::NO_CONTENT)
}
