//! Arca's HTTP server: the Barbican v1 REST API and the AWS KMS JSON 1.1 protocol over `arca_core::Services`.
//! This root assembles the router (request ids, microversion negotiation, the Barbican routes, the KMS
//! protocol on `POST /` with `X-Amz-Target`, Barbican-style 404/405 bodies, the OpenAPI document at
//! `GET /v1/openapi.json`) and serves it until shutdown. Wire shapes live only in this crate;
//! status mapping lives only in `error.rs`.
#![forbid(unsafe_code)]

mod auth;
mod barbican;
mod config;
mod error;
pub mod kms;
pub mod metrics;
mod request_id;
mod state;
mod sys;
mod throttle;
mod tls;
mod wipe;

use std::future::Future;

use axum::Router;

pub use barbican::paths as route_paths;
pub use config::{AuthConfig, AuthMode, LimitsConfig, QuotasConfig, ServerConfig};
pub use tls::{ClientAuth, ClientPrincipalConfig, Tls, TlsConfig, TlsError, TlsVersion};

use crate::state::AppState;

/// The whole API as a router, for in-process use and tests.
pub fn router(services: arca_core::Services, config: ServerConfig) -> Router {
    let state = AppState::new(services, config);
    barbican::routes()
        .layer(axum::middleware::from_fn(barbican::microversion::negotiate))
        // `POST /` is the KMS protocol; added after the microversion layer, which is Barbican's alone.
        .route("/", axum::routing::post(kms::handle))
        // `/v1/sys/*`: seal and unseal (`sys.rs`), outside Barbican's microversion layer.
        .merge(sys::routes())
        .with_state(state)
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(axum::middleware::from_fn(request_id::stamp))
}

/// Serves the API on `listener` until `shutdown` resolves; in-flight requests are allowed to finish. With
/// `config.tls` set it speaks TLS (`tls.rs`), else plain HTTP.
pub async fn run(
    listener: tokio::net::TcpListener,
    services: arca_core::Services,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let tls = config.tls.clone();
    let app = router(services, config);
    if let Some(tls) = tls {
        return tls::serve(listener, app, tls, shutdown).await;
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
