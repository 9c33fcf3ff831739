//! The containers resource (`barbican/api/controllers/containers.py`): create (`POST /v1/containers` → 201
//! with `Location` and `{"container_ref"}`), list (oldest first; `name` as a SQL `LIKE` pattern and `type`
//! filters; paging), read, delete (204), and add or remove a secret of a generic container (`POST`/`DELETE
//! /v1/containers/{id}/secrets` → 201 with `{"container_ref"}` / 204). Policy, project isolation and the
//! secret lookups are the `ContainerService`'s; this file only speaks HTTP.

use super::json_out::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use arca_core::{Action, ContainerQuery, ContainerType};

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::body::{JsonBody, RawBody, parse_json};
use super::container_wire::{self as wire, container_ref};
use super::hrefs::HostHref;
use super::list_query::nav_links_for;
use super::new_container;
use super::openapi_types as doc;
use super::page_query::PageQuery;
use super::resource_path::ContainerPath;

/// `POST /v1/containers` → 201.
#[utoipa::path(post, path = "/v1/containers", tag = "containers", request_body = doc::NewContainer,
    responses(
        (status = 201, description = "Created; `Location` is the container's reference", body = wire::ContainerRef),
        (status = 400, description = "The body fails Barbican's container validation", body = doc::ErrorBody),
        (status = 403, description = "Not allowed, a referenced secret is not readable, or the quota is reached", body = doc::ErrorBody),
        (status = 404, description = "A referenced secret does not exist", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = new_container::validate(&body, &host)?;
    let container = state
        .services
        .containers
        .create(&caller, new)
        .await
        .op("Container creation")?;
    let reference = container_ref(&host, container.id);
    Ok((
        StatusCode::CREATED,
        [(http::header::LOCATION, reference.clone())],
        Json(wire::ContainerRef {
            container_ref: reference,
        }),
    )
        .into_response())
}

/// `GET /v1/containers`.
#[utoipa::path(get, path = "/v1/containers", tag = "containers", params(doc::ContainerFilters),
    responses(
        (status = 200, description = "A page of the project's containers", body = wire::ContainerList),
        (status = 403, description = "The role may not list containers", body = doc::ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
    RawQuery(raw): RawQuery,
) -> Result<Json<wire::ContainerList>, ApiError> {
    let request = PageQuery::parse(raw.as_deref());
    // An unknown `type` can match no row (Barbican filters `Container.type == type`); the query still runs
    // so that policy is enforced.
    let wanted_type = request.filter("type");
    let container_type = wanted_type.and_then(ContainerType::parse);
    let query = ContainerQuery {
        project_id: String::new(),
        name: request.filter("name").map(str::to_owned),
        container_type,
        limit: request.limit,
        offset: request.offset,
    };
    let page = state
        .services
        .containers
        .list(&caller, query)
        .await
        .op("Containers(s) retrieval")?;
    let matches_nothing = wanted_type.is_some() && container_type.is_none();
    if matches_nothing || page.containers.is_empty() {
        return Ok(Json(wire::ContainerList {
            containers: Vec::new(),
            total: if matches_nothing { 0 } else { page.total },
            next: None,
            previous: None,
        }));
    }
    let (previous, next) = nav_links_for(
        &host,
        "containers",
        request.offset,
        request.limit,
        page.total,
        &request.passthrough,
    );
    Ok(Json(wire::ContainerList {
        containers: page
            .containers
            .iter()
            .map(|c| wire::Container::new(c, &host))
            .collect(),
        total: page.total,
        next,
        previous,
    }))
}

/// `GET /v1/containers/{id}`.
#[utoipa::path(get, path = "/v1/containers/{id}", tag = "containers", params(doc::ContainerId),
    responses(
        (status = 200, description = "The container", body = wire::Container),
        (status = 403, description = "Not allowed to read this container", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    host: HostHref,
) -> Result<Json<wire::Container>, ApiError> {
    let container = state
        .services
        .containers
        .get(&caller, path.id)
        .await
        .op("Container retrieval")?;
    Ok(Json(wire::Container::new(&container, &host)))
}

/// `DELETE /v1/containers/{id}` → 204.
#[utoipa::path(delete, path = "/v1/containers/{id}", tag = "containers", params(doc::ContainerId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed to delete this container", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .containers
        .delete(&caller, path.id)
        .await
        .op("Container deletion")?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/containers/{id}/secrets` → 201 with the container's reference. Barbican refuses a container
/// that is not generic before it reads the body, so that check comes first here too.
#[utoipa::path(post, path = "/v1/containers/{id}/secrets", tag = "containers", params(doc::ContainerId),
    request_body = doc::ContainerSecretBody,
    responses(
        (status = 201, description = "Added; `Location` is the container's reference", body = wire::ContainerRef),
        (status = 400, description = "Not a generic container, or an invalid reference", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this container or read the secret", body = doc::ErrorBody),
        (status = 404, description = "No such container or secret", body = doc::ErrorBody),
        (status = 409, description = "The secret is already in the container", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn add_secret(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    const OP: &str = "Container Secret creation";
    let containers = &state.services.containers;
    let container = containers
        .get_for(&caller, path.id, Action::ContainerSecretWrite)
        .await
        .op(OP)?;
    if container.container_type != ContainerType::Generic {
        return Err(ApiError::bad_request(
            "Only 'generic' containers can be modified.",
        ));
    }
    let (reference, _) = new_container::validate_container_secret(&body)?;
    containers
        .add_secret(&caller, path.id, reference)
        .await
        .op(OP)?;
    let reference = container_ref(&host, path.id);
    Ok((
        StatusCode::CREATED,
        [(http::header::LOCATION, reference.clone())],
        Json(wire::ContainerRef {
            container_ref: reference,
        }),
    )
        .into_response())
}

/// `DELETE /v1/containers/{id}/secrets` with `{"secret_ref", "name"?}` → 204. Like Barbican
/// (`allow_all_content_types`), any `Content-Type` is accepted; the body must still be JSON.
#[utoipa::path(delete, path = "/v1/containers/{id}/secrets", tag = "containers", params(doc::ContainerId),
    request_body = doc::ContainerSecretBody,
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Not JSON, or an invalid reference", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to change this container", body = doc::ErrorBody),
        (status = 404, description = "No such container, or the secret is not in it", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
    ))]
pub(crate) async fn remove_secret(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    body: RawBody,
) -> Result<StatusCode, ApiError> {
    const OP: &str = "Container Secret deletion";
    let containers = &state.services.containers;
    containers
        .get_for(&caller, path.id, Action::ContainerSecretWrite)
        .await
        .op(OP)?;
    let body = parse_json(&body.bytes)?;
    let (reference, text) = new_container::validate_container_secret(&body)?;
    containers
        .remove_secret(&caller, path.id, reference, &text)
        .await
        .op(OP)?;
    Ok(StatusCode::NO_CONTENT)
}
