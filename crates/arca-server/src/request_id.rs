//! Stamps every response — successes, errors and unknown routes alike — with an
//! `x-openstack-request-id: req-<uuid>` header, as oslo.middleware's request-id filter does for Barbican.
//! Ids are UUID-shaped: a random per-process prefix and a counter, so no request pays for a random draw. The id and
//! the peer address (axum `ConnectInfo`) are the request context that audit records made while serving carry.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

/// The response header carrying the request id.
pub(crate) const HEADER: http::HeaderName = http::HeaderName::from_static("x-openstack-request-id");

/// This process's random prefix (64 bits) and its count of requests.
static PREFIX: LazyLock<u64> = LazyLock::new(|| {
    u64::from_be_bytes(
        uuid::Uuid::new_v4().as_bytes()[..8]
            .try_into()
            .unwrap_or_default(),
    )
});
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh request id, unique within this process and, by its random prefix, across processes.
fn next_id() -> String {
    let uuid = uuid::Uuid::from_u64_pair(*PREFIX, COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("req-{uuid}")
}

/// Middleware: assigns a fresh id and echoes it on the response.
pub(crate) async fn stamp(request: Request, next: Next) -> Response {
    let id = next_id();
    tracing::debug!(request_id = %id, method = %request.method(), path = request.uri().path(), "request");
    // The audit log's view of this request: where it came from and its id (`arca_core::AuditLog` reads it).
    let source = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    let context = arca_core::RequestContext {
        source,
        request_id: Some(id.clone()),
    };
    // Every log line written while serving the request carries its id (JSON logs show the span's fields).
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = tracing::Instrument::instrument(
        arca_core::with_request_context(context, next.run(request)),
        span,
    )
    .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_distinct_and_uuid_shaped() {
        let (a, b) = (super::next_id(), super::next_id());
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(a.strip_prefix("req-").unwrap()).is_ok());
    }
}
