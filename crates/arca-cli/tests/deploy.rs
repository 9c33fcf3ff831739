//! The deployment files beside the code: `deploy/prometheus/alerts.yml` passes `promtool check rules`, and
//! the Grafana dashboard `deploy/grafana/arca.json` is valid JSON whose queries (and the alerts' queries) name
//! only metrics that a real server exports — scraped from its metrics listener after exercising every one.

mod common;
use common::*;

use std::collections::BTreeSet;
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

/// Every `arca_…` identifier in `text` (metric names; label names never start with `arca_`).
fn arca_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut i = 0;
    while i < bytes.len() {
        if text[i..].starts_with("arca_") && (i == 0 || !ident(bytes[i - 1])) {
            let end = text[i..]
                .bytes()
                .position(|b| !ident(b))
                .map_or(text.len(), |n| i + n);
            names.insert(text[i..end].to_owned());
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

/// The metric names of the samples in a Prometheus text exposition.
fn exported_names(exposition: &str) -> BTreeSet<String> {
    exposition
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// The `expr:` values of a Prometheus rules file (single-line or block scalars), not its annotations.
fn rule_exprs(yaml: &str) -> Vec<String> {
    let mut exprs = Vec::new();
    let mut lines = yaml.lines().peekable();
    while let Some(line) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let Some(value) = line.trim_start().strip_prefix("expr:") else {
            continue;
        };
        let mut expr = value.trim().trim_start_matches(['|', '>']).to_owned();
        while let Some(next) = lines.peek() {
            let next_indent = next.len() - next.trim_start().len();
            if !next.trim().is_empty() && next_indent <= indent {
                break;
            }
            expr.push('\n');
            expr.push_str(next.trim());
            lines.next();
        }
        exprs.push(expr);
    }
    assert!(!exprs.is_empty(), "no expr in the rules file");
    exprs
}

/// Every `expr` of every panel (rows' nested panels included) of a Grafana dashboard.
fn dashboard_exprs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                if k == "expr" {
                    if let Some(s) = val.as_str() {
                        out.push(s.to_owned());
                    }
                } else {
                    dashboard_exprs(val, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| dashboard_exprs(i, out)),
        _ => {}
    }
}

#[test]
fn alert_rules_pass_promtool() {
    let rules = repo_root().join("deploy/prometheus/alerts.yml");
    assert!(rules.is_file(), "{} is missing", rules.display());
    let out = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool ({e}); install Debian's `prometheus` package \
                 (scripts/test does) to check {}",
                rules.display()
            )
        });
    assert!(
        out.status.success(),
        "promtool check rules {} failed\n--- stdout ---\n{}\n--- stderr ---\n{}",
        rules.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn dashboard_and_alerts_name_only_exported_metrics() {
    let root = repo_root();
    let dashboard_path = root.join("deploy/grafana/arca.json");
    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(&dashboard_path)
            .unwrap_or_else(|e| panic!("read {}: {e}", dashboard_path.display())),
    )
    .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", dashboard_path.display()));
    assert!(
        dashboard["panels"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "the dashboard has no panels"
    );
    let mut exprs = Vec::new();
    dashboard_exprs(&dashboard, &mut exprs);
    assert!(!exprs.is_empty(), "the dashboard has no panel expr");
    let mut wanted: BTreeSet<String> = exprs.iter().flat_map(|e| arca_names(e)).collect();
    assert!(!wanted.is_empty(), "no arca_ metric in the dashboard");
    let alerts = std::fs::read_to_string(root.join("deploy/prometheus/alerts.yml"))
        .expect("read alerts.yml");
    wanted.extend(rule_exprs(&alerts).iter().flat_map(|e| arca_names(e)));

    // A server where every metric has a sample: a small throttling limit, a short grace and sweep interval.
    let arca = Arca::start_with(&[
        ("ARCA_AUTH_FAILURE_LIMIT", "2"),
        ("ARCA_EXPIRY_GRACE", "1s"),
        ("ARCA_EXPIRY_SWEEP_INTERVAL", "1s"),
        // KEKs leave the cache after 1 s, so a later payload read is a cache miss.
        ("ARCA_KEYS_PKEK_CACHE_TTL", "1"),
    ]);
    let metrics = metrics_url(&arca);
    let id = arca
        .create_text_secret(&arca.admin_token, "d", "deploy-payload")
        .await;
    let r = send(
        arca.admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Expires in 2 s: destroyed by the sweeper 1 s later.
    arca.create_secret(
        &arca.admin_token,
        json!({"name": "soon", "payload": "x", "payload_content_type": "text/plain",
               "expiration": format!("{}Z", iso_utc(2))}),
    )
    .await;
    let observer = arca.token("admin", "watcher", "observer");
    let r = send(
        arca.req(Method::POST, "/v1/secrets", &observer)
            .json(&json!({"name": "no", "payload": "x", "payload_content_type": "text/plain"})),
    )
    .await;
    assert_eq!(r.status, 403, "an observer creating a secret: {}", r.text());
    for _ in 0..5 {
        let r = send(arca.req(Method::GET, "/v1/secrets", "arca_bogus_deploy_test")).await;
        assert!(r.status == 401 || r.status == 429, "{}", r.status);
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    let missing = loop {
        let r = send(
            arca.admin(Method::GET, &format!("/v1/secrets/{id}/payload"))
                .header("Accept", "text/plain"),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let r = send(arca.http.get(format!("{metrics}/metrics"))).await;
        assert_eq!(r.status, 200);
        let exported = exported_names(&r.text());
        // The writer-batch histogram is the SQLite store's group commit; PostgreSQL has no writer thread.
        let missing: Vec<_> = wanted
            .difference(&exported)
            .filter(|name| !(on_postgres() && name.starts_with("arca_db_batch_")))
            .cloned()
            .collect();
        if missing.is_empty() || Instant::now() > deadline {
            break (missing, exported);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert!(
        missing.0.is_empty(),
        "deploy/ names metrics the server does not export: {:?}\nexported: {:?}",
        missing.0,
        missing.1
    );
}
