//! Orders (`barbican/api/controllers/orders.py`): `POST /v1/orders` (202 with `Location` and
//! `{"order_ref"}`; the order is processed before the answer, as Barbican does without a task queue, so it is
//! already `ACTIVE` or `ERROR`), `GET /v1/orders` (paged, oldest first), `GET`/`DELETE /v1/orders/{id}` (another
//! project's order is the same 404 as an unknown one), `PUT /v1/orders` (405 "Order update is not supported."
//! once the policy allows it) and `PUT /v1/orders/{id}` (only certificate orders could be updated: 400). The
//! policy is enforced before the body is read (403 before 415 before 400), as Barbican's decorators are ordered.

use std::collections::HashMap;

use super::json_out::Json;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, CoreResultExt};
use crate::state::AppState;

use super::body::{RawBody, parse_json};
use super::hrefs::HostHref;
use super::list_query::nav_links_for;
use super::new_order;
use super::openapi_types as doc;
use super::order_wire::{Order, OrderCreated, OrderList, order_ref};
use super::page_query::PageQuery;
use super::path::parse_id;

/// Barbican's 404 for an unknown order.
fn order_not_found() -> ApiError {
    ApiError::not_found("Not Found. Sorry but your order is in another castle.")
}

/// `{id}` of `/v1/orders/{id}`; anything but a canonical UUID is an unknown order.
#[derive(Debug)]
pub(crate) struct OrderPath {
    /// The order.
    pub id: Uuid,
}

impl<S: Send + Sync> FromRequestParts<S> for OrderPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| order_not_found())?;
        params
            .get("id")
            .and_then(|t| parse_id(t))
            .map(|id| OrderPath { id })
            .ok_or_else(order_not_found)
    }
}

/// A JSON body (415 otherwise), parsed as Barbican's `load_body` does.
fn json_body(body: &RawBody) -> Result<Value, ApiError> {
    if body.media_type.as_deref() != Some("application/json") {
        return Err(ApiError::unsupported_media_type(&["application/json"]));
    }
    parse_json(&body.bytes)
}

/// `POST /v1/orders` → 202.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = doc::NewOrder,
    responses(
        (status = 202, description = "Accepted and already processed (`ACTIVE` or `ERROR`); `Location` is the order's reference", body = OrderCreated),
        (status = 400, description = "The body fails Barbican's order validation (unknown type, bad bit length, ...)", body = doc::ErrorBody),
        (status = 403, description = "The role may not create orders, or the quota is reached", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
    body: RawBody,
) -> Result<Response, ApiError> {
    const OP: &str = "Order creation";
    let orders = &state.services.orders;
    orders.check_create(&caller).op(OP)?;
    let body = json_body(&body)?;
    let now = state.services.clock.now();
    let new = new_order::validate(&body, now, state.config.limits.max_payload_bytes)?;
    let order = orders.create(&caller, new).await.op(OP)?;
    let order_ref = order_ref(&host, order.id);
    Ok((
        StatusCode::ACCEPTED,
        [(http::header::LOCATION, order_ref.clone())],
        Json(OrderCreated { order_ref }),
    )
        .into_response())
}

/// `GET /v1/orders`.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(doc::Paging),
    responses(
        (status = 200, description = "A page of the project's orders, oldest first", body = OrderList),
        (status = 403, description = "The role may not list orders", body = doc::ErrorBody),
    ))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    host: HostHref,
    RawQuery(raw): RawQuery,
) -> Result<Json<OrderList>, ApiError> {
    let query = PageQuery::parse(raw.as_deref());
    let page = state
        .services
        .orders
        .list(&caller, query.limit, query.offset)
        .await
        .op("Order(s) retrieval")?;
    if page.orders.is_empty() {
        return Ok(Json(OrderList {
            orders: Vec::new(),
            total: page.total,
            next: None,
            previous: None,
        }));
    }
    let (previous, next) = nav_links_for(
        &host,
        "orders",
        query.offset,
        query.limit,
        page.total,
        &query.passthrough,
    );
    Ok(Json(OrderList {
        orders: page.orders.iter().map(|o| Order::new(o, &host)).collect(),
        total: page.total,
        next,
        previous,
    }))
}

/// `PUT /v1/orders` → 405 for those the policy lets through.
#[utoipa::path(put, path = "/v1/orders", tag = "orders",
    responses(
        (status = 403, description = "The role may not update orders", body = doc::ErrorBody),
        (status = 405, description = "Order update is not supported", body = doc::ErrorBody),
    ))]
pub(crate) async fn put_collection(
    State(state): State<AppState>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    state
        .services
        .orders
        .check_collection_put(&caller)
        .op("Order update")?;
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Order update is not supported.",
    ))
}

/// `GET /v1/orders/{id}`.
#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders", params(doc::OrderId),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 403, description = "The role may not read orders", body = doc::ErrorBody),
        (status = 404, description = "No such order (or another project's)", body = doc::ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: OrderPath,
    host: HostHref,
) -> Result<Json<Order>, ApiError> {
    let order = state
        .services
        .orders
        .get(&caller, path.id)
        .await
        .op("Order retrieval")?;
    Ok(Json(Order::new(&order, &host)))
}

/// `PUT /v1/orders/{id}`: only certificate orders can be updated, and Arca has none → 400.
#[utoipa::path(put, path = "/v1/orders/{id}", tag = "orders", params(doc::OrderId), request_body = doc::NewOrder,
    responses(
        (status = 400, description = "Only certificate orders could be updated", body = doc::ErrorBody),
        (status = 403, description = "The role may not update orders", body = doc::ErrorBody),
        (status = 404, description = "No such order", body = doc::ErrorBody),
        (status = 413, description = "The body is too large", body = doc::ErrorBody),
        (status = 415, description = "The body is not JSON", body = doc::ErrorBody),
    ))]
pub(crate) async fn put(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: OrderPath,
    body: RawBody,
) -> Result<Response, ApiError> {
    const OP: &str = "Order update";
    let order = state
        .services
        .orders
        .get_for_update(&caller, path.id)
        .await
        .op(OP)?;
    let body = json_body(&body)?;
    let now = state.services.clock.now();
    let wanted = new_order::validate(&body, now, state.config.limits.max_payload_bytes)?;
    if wanted.order_type != order.order_type {
        return Err(ApiError::bad_request("Cannot modify order type."));
    }
    Err(ApiError::bad_request(format!(
        "Updates are not supported for order type {}.",
        order.order_type.as_str()
    )))
}

/// `DELETE /v1/orders/{id}` → 204.
#[utoipa::path(delete, path = "/v1/orders/{id}", tag = "orders", params(doc::OrderId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The role may not delete orders", body = doc::ErrorBody),
        (status = 404, description = "No such order", body = doc::ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: OrderPath,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .orders
        .delete(&caller, path.id)
        .await
        .op("Order deletion")?;
    Ok(StatusCode::NO_CONTENT)
}
