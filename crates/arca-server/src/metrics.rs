//! Metrics, health and readiness on their own listener (DESIGN.md "Interfaces": `127.0.0.1:9646`, never the API
//! port). The `metrics` facade is recorded by `metrics-exporter-prometheus` (its own HTTP server is off) and
//! rendered by an axum handler at `/metrics`; `/healthz` answers while the process serves, `/readyz` when the
//! store answers and the root of trust is not sealed. Labels are route templates (axum's `MatchedPath`, never raw paths with ids), methods, statuses
//! and fixed reasons — never a secret, token, id or project.
//!
//! The facade's recorder is process-global by its design; it is installed once (`handle`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Window of the "expiring soon" gauge.
pub const EXPIRING_WINDOW_DAYS: i64 = 30;

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &LATENCY_BUCKETS)
                .expect("non-empty buckets")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "arca_http_requests_total",
        "API requests by route template, method and status"
    );
    metrics::describe_histogram!(
        "arca_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "API request latency by route template, method and status"
    );
    metrics::describe_counter!(
        "arca_auth_failures_total",
        "Authentication failures by reason"
    );
    metrics::describe_counter!(
        "arca_auth_throttled_total",
        "Authentication failures answered 429"
    );
    metrics::describe_counter!(
        "arca_denied_requests_total",
        "Requests refused by policy or quota, by reason"
    );
    metrics::describe_counter!("arca_pkek_cache_hits_total", "Project KEK cache hits");
    metrics::describe_counter!("arca_pkek_cache_misses_total", "Project KEK cache misses");
    metrics::describe_histogram!(
        "arca_db_batch_duration_seconds",
        metrics::Unit::Seconds,
        "Duration of one SQLite writer batch (BEGIN .. COMMIT)"
    );
    metrics::describe_counter!(
        "arca_db_secret_rows_read_total",
        "Secrets read by id from SQLite; reads answered from rows a read connection already holds are not counted"
    );
    metrics::describe_histogram!(
        "arca_db_checkpoint_duration_seconds",
        metrics::Unit::Seconds,
        "Duration of one WAL checkpoint by the SQLite writer (copying the WAL into the database file)"
    );
    metrics::describe_gauge!(
        "arca_secrets_expiring_30d",
        "Secrets expiring within 30 days"
    );
    metrics::describe_gauge!(
        "arca_secrets_without_expiration",
        "Secrets without an expiration"
    );
    metrics::describe_counter!(
        "arca_secrets_destroyed_total",
        "Expired secrets destroyed by the sweeper"
    );
    metrics::describe_gauge!("arca_up", "1 while the server runs");
    metrics::describe_counter!(
        "arca_audit_write_failures_total",
        "Audit records that could not be written (the request they describe failed)"
    );
    metrics::describe_histogram!(
        "arca_crypto_duration_seconds",
        metrics::Unit::Seconds,
        "Duration of a cryptographic operation by op (seal, open, unwrap)"
    );
    metrics::describe_gauge!(
        "arca_certificates_expiring_30d",
        "Certificate secrets expiring within 30 days"
    );
    // Registered at zero so that the series exists (and alerts see 0) before the first failure.
    metrics::counter!("arca_audit_write_failures_total").absolute(0);
}

/// Counts an authentication failure (`reason` is a fixed word).
pub(crate) fn auth_failure(reason: &'static str) {
    metrics::counter!("arca_auth_failures_total", "reason" => reason).increment(1);
}

/// Counts a refused request (`reason` is a fixed word).
pub(crate) fn denied(reason: &'static str) {
    metrics::counter!("arca_denied_requests_total", "reason" => reason).increment(1);
}

/// Middleware: request count and latency by route template, method and status.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = match req.method().as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let start = Instant::now();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    record_request(
        route,
        method,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// The request counter and latency histogram of one route template, method and status.
struct RouteMetrics {
    requests: metrics::Counter,
    latency: metrics::Histogram,
}

/// Handles by route template, then by method and status.
type RouteMetricsByRoute = HashMap<String, HashMap<(&'static str, u16), RouteMetrics>>;

thread_local! {
    /// Each runtime thread's handles, by route template, then method and status: the recorder is asked once per
    /// label set and thread, not on every request (three label strings, hashing, the registry's lock). Bounded by
    /// the router's templates times the methods and statuses they answer.
    static ROUTE_METRICS: std::cell::RefCell<RouteMetricsByRoute> = std::cell::RefCell::new(HashMap::new());
}

fn record_request(route: &str, method: &'static str, status: u16, seconds: f64) {
    let register = || {
        let labels = [
            ("route", route.to_owned()),
            ("method", method.to_owned()),
            ("status", status.to_string()),
        ];
        RouteMetrics {
            requests: metrics::counter!("arca_http_requests_total", &labels),
            latency: metrics::histogram!("arca_http_request_duration_seconds", &labels),
        }
    };
    let count = |handles: &RouteMetrics| {
        handles.requests.increment(1);
        handles.latency.record(seconds);
    };
    // Until the recorder is installed the facade hands out no-op handles: those are not kept.
    if HANDLE.get().is_none() {
        return count(&register());
    }
    ROUTE_METRICS.with_borrow_mut(|by_route| {
        // The route's text is copied once per thread, not into a new `String` per request to look it up.
        if !by_route.contains_key(route) {
            by_route.insert(route.to_owned(), HashMap::new());
        }
        if let Some(by_outcome) = by_route.get_mut(route) {
            count(by_outcome.entry((method, status)).or_insert_with(register));
        }
    });
}

/// What `/readyz` looks at: the store (through the expiry counts), whether the root of trust is sealed, and
/// whether every external secret store answered its last call.
#[derive(Clone)]
struct Readiness {
    expiry: arca_core::ExpirySweeper,
    root: std::sync::Arc<dyn arca_core::RootKeyProvider>,
}

/// The metrics listener's router: `/metrics`, `/healthz`, `/readyz` (not ready while `root` is sealed).
pub fn metrics_router(
    expiry: arca_core::ExpirySweeper,
    root: std::sync::Arc<dyn arca_core::RootKeyProvider>,
) -> Router {
    let handle = handle();
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        handle.render(),
                    )
                }
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(Readiness { expiry, root })
}

async fn ready(State(Readiness { expiry, root }): State<Readiness>) -> Response {
    if root.sealable().is_some_and(|s| s.seal_status().sealed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "sealed: unseal with `arca unseal --share FILE`\n",
        )
            .into_response();
    }
    if let Some(down) = expiry
        .payload_stores()
        .map(|s| s.down())
        .filter(|d| !d.is_empty())
    {
        let names: Vec<String> = down.iter().map(|n| format!("'{n}'")).collect();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("secret store {} unavailable\n", names.join(", ")),
        )
            .into_response();
    }
    match expiry.counts(time::Duration::ZERO).await {
        Ok(_) => "ready\n".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the store does not answer");
            let text = if e.is_database_unavailable() {
                "database unavailable\n"
            } else {
                "store unavailable\n"
            };
            (StatusCode::SERVICE_UNAVAILABLE, text).into_response()
        }
    }
}

/// Refreshes the expiry gauges now.
pub async fn refresh_gauges(expiry: &arca_core::ExpirySweeper) {
    match expiry
        .counts(time::Duration::days(EXPIRING_WINDOW_DAYS))
        .await
    {
        Ok(c) => {
            metrics::gauge!("arca_secrets_expiring_30d").set(c.expiring as f64);
            metrics::gauge!("arca_secrets_without_expiration").set(c.without_expiration as f64);
            metrics::gauge!("arca_certificates_expiring_30d").set(c.certificates_expiring as f64);
        }
        Err(e) => tracing::warn!(error = %e, "could not count expiring secrets"),
    }
}

/// Serves the metrics listener until `shutdown`; refreshes the expiry gauges every `refresh` meanwhile.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    expiry: arca_core::ExpirySweeper,
    root: std::sync::Arc<dyn arca_core::RootKeyProvider>,
    refresh: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = handle();
    metrics::gauge!("arca_up").set(1.0);
    let refresher = {
        let expiry = expiry.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(refresh);
            loop {
                tick.tick().await;
                refresh_gauges(&expiry).await;
                handle.run_upkeep();
            }
        })
    };
    let result = axum::serve(listener, metrics_router(expiry, root))
        .with_graceful_shutdown(shutdown)
        .await;
    refresher.abort();
    result
}
