//! Arca's HTTP server: the Barbican v1 REST API over `arca_core::Services`. This root assembles the router
//! (request ids, microversion negotiation, the Barbican routes, Barbican-style 404/405 bodies, the OpenAPI
//! document at `GET /v1/openapi.json`) and serves it until shutdown. Wire shapes live only in this crate;
//! status mapping lives only in `error.rs`.
#![forbid(unsafe_code)]

mod auth;
mod barbican;
mod config;
mod error;
mod request_id;
mod state;

use std::future::Future;

use axum::Router;

pub use barbican::paths as route_paths;
pub use config::{AuthConfig, AuthMode, LimitsConfig, QuotasConfig, ServerConfig};

use crate::state::AppState;

/// The whole API as a router, for in-process use and tests.
pub fn router(services: arca_core::Services, config: ServerConfig) -> Router {
    let state = AppState::new(services, config);
    barbican::routes()
        .with_state(state)
        .layer(axum::middleware::from_fn(barbican::microversion::negotiate))
        .layer(axum::middleware::from_fn(request_id::stamp))
}

/// Serves the API on `listener` until `shutdown` resolves; in-flight requests are allowed to finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    services: arca_core::Services,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(services, config);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
