//! The metrics listener (`/metrics`, `/healthz`, `/readyz` on `[metrics] listen`, never the API port), the
//! metrics it exports (route templates, never ids; no payload or token anywhere), and the throttling of
//! authentication failures per source address (429 with `Retry-After`; a good token still works).

mod common;
use common::*;

use std::time::{Duration, Instant};

/// The `metrics on http://ADDR` line the server prints after `listening on`.
fn metrics_url(arca: &Arca) -> String {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let out = arca.server.stdout();
        if let Some(url) = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("metrics on "))
        {
            return url.trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no `metrics on` line on stdout:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn metrics_listener_serves_route_templates_and_no_secrets() {
    let arca = Arca::start();
    let metrics = metrics_url(&arca);
    assert_ne!(
        metrics, arca.base_url,
        "the metrics listener is its own port"
    );

    let payload = "metrics-test-payload-7f3a9c";
    let id = arca
        .create_text_secret(&arca.admin_token, "m", payload)
        .await;
    let r = send(arca.admin(Method::GET, &format!("/v1/secrets/{id}"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        arca.admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let bad = "arca_notarealtoken_metrics";
    let r = send(arca.req(Method::GET, "/v1/secrets", bad)).await;
    assert_eq!(r.status, 401);

    for path in ["/healthz", "/readyz"] {
        let r = send(arca.http.get(format!("{metrics}{path}"))).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    let r = send(arca.http.get(format!("{metrics}/metrics"))).await;
    assert_eq!(r.status, 200);
    let text = r.text();
    for want in [
        "arca_http_requests_total",
        "arca_http_request_duration_seconds_bucket",
        "route=\"/v1/secrets/{id}\"",
        "arca_auth_failures_total",
        "arca_secrets_without_expiration",
        "arca_pkek_cache_hits_total",
        "arca_db_batch_duration_seconds_bucket",
    ] {
        // The writer-batch histogram is the SQLite store's group commit; PostgreSQL has no writer thread.
        if on_postgres() && want.starts_with("arca_db_batch_") {
            continue;
        }
        assert!(text.contains(want), "/metrics lacks {want}:\n{text}");
    }
    for secret in [payload, bad, &arca.admin_token, &id, "admin"] {
        assert!(!text.contains(secret), "/metrics contains {secret:?}");
    }

    // Nothing of it on the API port.
    for path in ["/metrics", "/healthz", "/readyz"] {
        let r = send(arca.anon(Method::GET, path)).await;
        assert_eq!(r.status, 404, "API port answered {path}");
    }
}

#[tokio::test]
async fn auth_failures_from_one_source_are_throttled_but_good_tokens_work() {
    let arca = Arca::start_with(&[("ARCA_AUTH_FAILURE_LIMIT", "3")]);
    let metrics = metrics_url(&arca);
    for i in 0..3 {
        let r = send(arca.req(Method::GET, "/v1/secrets", "arca_bad_guess")).await;
        assert_eq!(r.status, 401, "failure {i}: {}", r.text());
    }
    let r = send(arca.req(Method::GET, "/v1/secrets", "arca_bad_guess")).await;
    assert_eq!(r.status, 429, "{}", r.text());
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body = r.json();
    assert_eq!(body["code"], 429);
    assert_eq!(body["title"], "Too Many Requests");
    assert!(body["description"].as_str().is_some_and(|d| !d.is_empty()));

    // Only failures are throttled: the admin token from the same address still works.
    let r = send(arca.admin(Method::GET, "/v1/secrets")).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let text = send(arca.http.get(format!("{metrics}/metrics")))
        .await
        .text();
    assert!(text.contains("arca_auth_throttled_total"), "{text}");
}

#[tokio::test]
async fn the_audit_file_is_synced_as_it_grows() {
    let arca = Arca::start();
    let metrics = metrics_url(&arca);
    let id = arca.create_text_secret(&arca.admin_token, "s", "x").await;
    let audit_file = arca.data_dir().join("audit.jsonl");
    let syncs = |text: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix("arca_audit_file_syncs_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Payload reads until the file has grown by well over the 1 MiB between syncs (a record is a few hundred
    // bytes), then wait for the file thread to get there.
    let start = std::fs::metadata(&audit_file).map_or(0, |m| m.len());
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::fs::metadata(&audit_file).map_or(0, |m| m.len()) < start + (3 << 20) / 2 {
        assert!(Instant::now() < deadline, "the audit file does not grow");
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..64 {
            reads.spawn(send(
                arca.admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
                    .header("Accept", "text/plain"),
            ));
        }
        while let Some(r) = reads.join_next().await {
            let r = r.expect("a read task");
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = send(arca.http.get(format!("{metrics}/metrics")))
            .await
            .text();
        if syncs(&text) >= 1.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no audit file sync counted:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
