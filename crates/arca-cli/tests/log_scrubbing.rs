//! No payload and no token reaches the logs: the whole API runs with debug logging in JSON, then the server's
//! stderr (its log), its stdout (where audit records also go), its metrics and the audit JSON-lines file are
//! searched for every payload (as sent and as base64) and every token (and its secret part) used; none is found.

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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn debug_logs_audit_and_metrics_hold_no_payload_or_token() {
    let mut arca = Arca::start_with(&[
        ("ARCA_LOG", "debug"),
        ("ARCA_LOG_FORMAT", "json"),
        ("ARCA_AUDIT_STDOUT", "true"),
    ]);
    let metrics = metrics_url(&arca);
    let creator = arca.token("proj-scrub", "carol", "creator");
    let bogus = format!("arca_{}_notarealsecret", "x".repeat(8));
    let text = "scrub-text-payload-5d1e8b7c";
    let binary = random_bytes(48);
    let put_text = "scrub-put-payload-a93f02e6";

    // Text and binary secrets, a payload PUT on an empty one, reads, metadata, lists, a refused and an
    // unauthenticated request, a deletion.
    let t = arca.create_text_secret(&creator, "scrub-t", text).await;
    let b = arca
        .create_secret(
            &creator,
            json!({"name": "scrub-b", "payload": b64(&binary),
                   "payload_content_type": "application/octet-stream",
                   "payload_content_encoding": "base64"}),
        )
        .await;
    let e = arca.create_empty_secret(&creator, "scrub-e").await;
    let r = send(
        arca.req(Method::PUT, &format!("/v1/secrets/{e}"), &creator)
            .header("Content-Type", "text/plain")
            .body(put_text),
    )
    .await;
    assert_eq!(r.status, 204, "PUT payload: {}", r.text());
    for (id, accept, want) in [
        (&t, "text/plain", text.as_bytes().to_vec()),
        (&b, "application/octet-stream", binary.clone()),
        (&e, "text/plain", put_text.as_bytes().to_vec()),
    ] {
        let r = send(
            arca.req(Method::GET, &format!("/v1/secrets/{id}/payload"), &creator)
                .header("Accept", accept),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, want, "payload of {id}");
        let r = send(arca.req(Method::GET, &format!("/v1/secrets/{id}"), &creator)).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = send(arca.req(Method::GET, "/v1/secrets?limit=5", &creator)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        arca.admin(Method::GET, &format!("/v1/secrets/{t}/payload"))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(r.status, 403, "another project's secret: {}", r.text());
    let r = send(arca.req(Method::GET, "/v1/secrets", &bogus)).await;
    assert_eq!(r.status, 401, "{}", r.text());
    let r = send(arca.req(Method::DELETE, &format!("/v1/secrets/{b}"), &creator)).await;
    assert_eq!(r.status, 204, "{}", r.text());

    let scraped = send(arca.http.get(format!("{metrics}/metrics"))).await;
    assert_eq!(scraped.status, 200);
    let status = arca.server.stop();
    assert!(status.is_some(), "the server did not stop");
    std::thread::sleep(Duration::from_millis(200));

    let stderr = arca.server.stderr();
    assert!(
        stderr.contains("\"level\":\"DEBUG\""),
        "the server logged nothing at debug level in JSON:\n{stderr}"
    );
    let audit_file = arca.data_dir().join("audit.jsonl");
    let mut sources: Vec<(String, Vec<u8>)> = vec![
        ("the server log (stderr)".into(), stderr.into_bytes()),
        (
            "the server's stdout".into(),
            arca.server.stdout().into_bytes(),
        ),
        ("the metrics".into(), scraped.body.clone()),
    ];
    if let Ok(audit) = std::fs::read(&audit_file) {
        assert!(!audit.is_empty(), "{} is empty", audit_file.display());
        sources.push((audit_file.display().to_string(), audit));
    }

    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("the text payload".into(), text.into()),
        ("the PUT payload".into(), put_text.into()),
        (
            "the text payload in base64".into(),
            b64(text.as_bytes()).into_bytes(),
        ),
        ("the binary payload".into(), binary.clone()),
        (
            "the binary payload in base64".into(),
            b64(&binary).into_bytes(),
        ),
        ("the bad token".into(), bogus.clone().into_bytes()),
        (
            "the bad token's secret part".into(),
            b"notarealsecret".to_vec(),
        ),
    ];
    for (what, token) in [
        ("the admin token", &arca.admin_token),
        ("the creator token", &creator),
    ] {
        needles.push((what.into(), token.clone().into_bytes()));
        // arca_<id>_<secret>_<crc>: the id may be logged, the secret part never.
        let parts: Vec<&str> = token.split('_').collect();
        assert!(parts.len() >= 4, "unexpected token shape");
        let secret = parts[2..parts.len() - 1].join("_");
        needles.push((format!("{what}'s secret part"), secret.into_bytes()));
    }
    for (source, bytes) in &sources {
        for (what, needle) in &needles {
            assert!(
                !contains(bytes, needle),
                "{what} appears in {source}:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
