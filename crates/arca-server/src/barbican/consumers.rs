//! Consumers (`barbican/api/controllers/consumers.py`). Container consumers: `GET`/`POST`/`DELETE
//! /v1/containers/{id}/consumers` — registering `{"name", "URL"}` is idempotent and answers 200 with the
//! container, removing answers 200 with the container, listing is ordered by name. Secret consumers
//! (microversion 1.1 and later; at 1.0 the route does not exist, 404): `GET`/`POST`/`DELETE
//! /v1/secrets/{id}/consumers` with `{"service", "resource_type", "resource_id"}`, answering the secret
//! with its consumers. `POST` answers carry Barbican's `Location` (`convert_consumer_to_href`:
//! `<host>/v1/consumers/<container or secret id>/consumers`).

use super::json_out::Json;
use axum::extract::{Extension, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use arca_core::{CoreError, NOT_CONSUMER_OWNER};

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::body::JsonBody;
use super::consumer_schema;
use super::container_wire::{self as cwire, ConsumerList};
use super::hrefs::HostHref;
use super::list_query::nav_links_for;
use super::microversion::ApiVersion;
use super::openapi_types as doc;
use super::page_query::PageQuery;
use super::path::SecretPath;
use super::resource_path::ContainerPath;
use super::wire;

/// Maps a domain error of `op`, keeping Barbican's own 403 text for removing another project's consumer.
fn consumer_error(op: &'static str) -> impl FnOnce(CoreError) -> ApiError {
    move |e| match e {
        CoreError::Forbidden(m) if m == NOT_CONSUMER_OWNER => {
            ApiError::new(StatusCode::FORBIDDEN, m)
        }
        other => ApiError::core(op, other),
    }
}

fn consumer_location(host: &HostHref, id: uuid::Uuid) -> String {
    host.v1(&format!("consumers/{id}/consumers"))
}

/// A page of consumers as listed: the items, the total and, unless the page is empty, the links to the
/// neighbouring pages of `resource` (`containers/{id}/consumers`, `secrets/{id}/consumers`).
fn consumer_list<C, T>(
    host: &HostHref,
    q: &PageQuery,
    resource: &str,
    consumers: &[C],
    total: u64,
    item: impl Fn(&C) -> T,
) -> ConsumerList<T> {
    let (previous, next) = if consumers.is_empty() {
        (None, None)
    } else {
        nav_links_for(host, resource, q.offset, q.limit, total, &q.passthrough)
    };
    ConsumerList {
        consumers: consumers.iter().map(item).collect(),
        total,
        next,
        previous,
    }
}

/// `GET /v1/containers/{id}/consumers`.
#[utoipa::path(get, path = "/v1/containers/{id}/consumers", tag = "consumers", params(doc::ContainerId, doc::Paging),
    responses(
        (status = 200, description = "A page of the consumers, ordered by name", body = ConsumerList<cwire::ContainerConsumerItem>),
        (status = 403, description = "Not allowed to read the container", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
    ))]
pub(crate) async fn list_container_consumers(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    host: HostHref,
    RawQuery(raw): RawQuery,
) -> Result<Json<ConsumerList<cwire::ContainerConsumerItem>>, ApiError> {
    let q = PageQuery::parse(raw.as_deref());
    let page = state
        .services
        .consumers
        .container_consumers(&caller, path.id, q.limit, q.offset)
        .await
        .op("ContainerConsumers(s) retrieval")?;
    let resource = format!("containers/{}/consumers", path.id);
    Ok(Json(consumer_list(
        &host,
        &q,
        &resource,
        &page.consumers,
        page.total,
        cwire::ContainerConsumerItem::new,
    )))
}

/// `POST /v1/containers/{id}/consumers` → 200 with the container.
#[utoipa::path(post, path = "/v1/containers/{id}/consumers", tag = "consumers", params(doc::ContainerId),
    request_body = doc::ContainerConsumerBody,
    responses(
        (status = 200, description = "Registered (idempotent); the container with its consumers", body = cwire::Container),
        (status = 400, description = "Invalid consumer", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to register a consumer here, or the quota is reached", body = doc::ErrorBody),
        (status = 404, description = "No such container", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn register_container_consumer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (name, url) = consumer_schema::container_consumer(&body)?;
    let container = state
        .services
        .consumers
        .register_container_consumer(&caller, path.id, &name, &url)
        .await
        .map_err(consumer_error("ContainerConsumer creation"))?;
    Ok((
        [(http::header::LOCATION, consumer_location(&host, path.id))],
        Json(cwire::Container::new(&container, &host)),
    )
        .into_response())
}

/// `DELETE /v1/containers/{id}/consumers` with `{"name", "URL"}` → 200 with the container.
#[utoipa::path(delete, path = "/v1/containers/{id}/consumers", tag = "consumers", params(doc::ContainerId),
    request_body = doc::ContainerConsumerBody,
    responses(
        (status = 200, description = "Removed; the container with its remaining consumers", body = cwire::Container),
        (status = 400, description = "Invalid consumer", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to remove this consumer", body = doc::ErrorBody),
        (status = 404, description = "No such container or consumer", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn remove_container_consumer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ContainerPath,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Json<cwire::Container>, ApiError> {
    let (name, url) = consumer_schema::container_consumer(&body)?;
    let container = state
        .services
        .consumers
        .remove_container_consumer(&caller, path.id, &name, &url)
        .await
        .map_err(consumer_error("ContainerConsumer deletion"))?;
    Ok(Json(cwire::Container::new(&container, &host)))
}

/// Secret consumers exist from microversion 1.1; before that the route is unknown.
fn require_consumers(version: ApiVersion) -> Result<(), ApiError> {
    if version.at_least(1) {
        Ok(())
    } else {
        Err(ApiError::no_route())
    }
}

/// `GET /v1/secrets/{id}/consumers`.
#[utoipa::path(get, path = "/v1/secrets/{id}/consumers", tag = "consumers", params(doc::SecretId, doc::Paging),
    responses(
        (status = 200, description = "A page of the consumers, ordered by name", body = ConsumerList<cwire::SecretConsumerItem>),
        (status = 403, description = "Not allowed to read the secret", body = doc::ErrorBody),
        (status = 404, description = "No such secret (or microversion 1.0, where the route does not exist)", body = doc::ErrorBody),
    ))]
pub(crate) async fn list_secret_consumers(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    Extension(version): Extension<ApiVersion>,
    host: HostHref,
    RawQuery(raw): RawQuery,
) -> Result<Json<ConsumerList<cwire::SecretConsumerItem>>, ApiError> {
    require_consumers(version)?;
    let q = PageQuery::parse(raw.as_deref());
    let page = state
        .services
        .consumers
        .secret_consumers(&caller, path.id, q.limit, q.offset)
        .await
        .op("SecretConsumers(s) retrieval")?;
    let resource = format!("secrets/{}/consumers", path.id);
    Ok(Json(consumer_list(
        &host,
        &q,
        &resource,
        &page.consumers,
        page.total,
        cwire::SecretConsumerItem::new,
    )))
}

/// `POST /v1/secrets/{id}/consumers` → 200 with the secret and its consumers.
#[utoipa::path(post, path = "/v1/secrets/{id}/consumers", tag = "consumers", params(doc::SecretId),
    request_body = doc::SecretConsumerBody,
    responses(
        (status = 200, description = "Registered (idempotent); the secret with its consumers", body = wire::Secret),
        (status = 400, description = "Invalid consumer", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to register a consumer here, or the quota is reached", body = doc::ErrorBody),
        (status = 404, description = "No such secret (or microversion 1.0, where the route does not exist)", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn register_secret_consumer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    Extension(version): Extension<ApiVersion>,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    require_consumers(version)?;
    let c = consumer_schema::secret_consumer(&body)?;
    let (secret, consumers) = state
        .services
        .consumers
        .register_secret_consumer(
            &caller,
            path.id,
            &c.service,
            &c.resource_type,
            &c.resource_id,
        )
        .await
        .map_err(consumer_error("SecretConsumer creation"))?;
    Ok((
        [(http::header::LOCATION, consumer_location(&host, path.id))],
        Json(wire::Secret::with_consumers(
            secret, &host, version, &consumers,
        )),
    )
        .into_response())
}

/// `DELETE /v1/secrets/{id}/consumers` with the consumer → 200 with the secret and its consumers.
#[utoipa::path(delete, path = "/v1/secrets/{id}/consumers", tag = "consumers", params(doc::SecretId),
    request_body = doc::SecretConsumerBody,
    responses(
        (status = 200, description = "Removed; the secret with its remaining consumers", body = wire::Secret),
        (status = 400, description = "Invalid consumer", body = doc::ErrorBody),
        (status = 403, description = "Not allowed to remove this consumer", body = doc::ErrorBody),
        (status = 404, description = "No such secret or consumer (or microversion 1.0, where the route does not exist)", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn remove_secret_consumer(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: SecretPath,
    Extension(version): Extension<ApiVersion>,
    host: HostHref,
    JsonBody(body): JsonBody,
) -> Result<Json<wire::Secret>, ApiError> {
    require_consumers(version)?;
    let c = consumer_schema::secret_consumer(&body)?;
    let (secret, consumers) = state
        .services
        .consumers
        .remove_secret_consumer(
            &caller,
            path.id,
            &c.service,
            &c.resource_type,
            &c.resource_id,
        )
        .await
        .map_err(consumer_error("SecretConsumer deletion"))?;
    Ok(Json(wire::Secret::with_consumers(
        secret, &host, version, &consumers,
    )))
}
