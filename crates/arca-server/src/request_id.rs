//! Stamps every response — successes, errors and unknown routes alike — with an
//! `x-openstack-request-id: req-<uuid>` header, as oslo.middleware's request-id filter does for Barbican.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

/// The response header carrying the request id.
pub(crate) const HEADER: &str = "x-openstack-request-id";

/// Middleware: assigns a fresh id and echoes it on the response.
pub(crate) async fn stamp(request: Request, next: Next) -> Response {
    let id = format!("req-{}", uuid::Uuid::new_v4());
    tracing::debug!(request_id = %id, method = %request.method(), path = request.uri().path(), "request");
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
