//! `arca report expiring|orphans` (offline, tables or JSON) over secrets created through the API, and the
//! expiry sweeper: an expired secret is no longer served, then destroyed after `[expiry] grace`.

mod common;
use common::*;

use std::path::Path;
use std::time::{Duration, Instant};

fn report(dir: &Path, args: &[&str]) -> String {
    let mut cmd = arca();
    cmd.arg("report")
        .arg(args[0])
        .arg("--data-dir")
        .arg(dir)
        .args(&args[1..]);
    run(&mut cmd, COMMAND_TIMEOUT)
        .ok(&format!("arca report {}", args.join(" ")))
        .stdout_str()
}

fn report_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut args = args.to_vec();
    args.push("--json");
    let out = report(dir, &args);
    serde_json::from_str::<Value>(&out)
        .unwrap_or_else(|e| panic!("`arca report {args:?}` is not JSON ({e}):\n{out}"))
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("`arca report {args:?}` is not a JSON array:\n{out}"))
}

fn row<'a>(rows: &'a [Value], id: &str) -> Option<&'a Value> {
    rows.iter().find(|r| r["id"] == json!(id))
}

fn with_expiration(name: &str, offset_secs: i64) -> Value {
    json!({"name": name, "payload": "report-payload", "payload_content_type": "text/plain",
           "expiration": format!("{}Z", iso_utc(offset_secs))})
}

#[tokio::test]
async fn expiring_and_orphan_reports_list_the_right_secrets() {
    let arca = Arca::start();
    let day = 86_400;
    let soon = arca
        .create_secret(&arca.admin_token, with_expiration("soon", 10 * day))
        .await;
    let later = arca
        .create_secret(&arca.admin_token, with_expiration("later", 60 * day))
        .await;
    let never = arca
        .create_text_secret(&arca.admin_token, "never", "report-payload")
        .await;
    let other = arca.token("proj-b", "bob", "creator");
    let never_b = arca
        .create_text_secret(&other, "never-b", "report-payload")
        .await;
    let dir = arca.data_dir();

    let expiring = report_json(&dir, &["expiring", "--within", "30d"]);
    let r = row(&expiring, &soon).unwrap_or_else(|| panic!("{soon} missing: {expiring:?}"));
    assert_eq!(r["project"], json!("admin"));
    assert_eq!(r["name"], json!("soon"));
    let expires = parse_ts(r["expiration"].as_str().expect("expiration string"));
    let want = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    assert!(
        (expires - want).abs() < time::Duration::minutes(5),
        "expiration {expires} should be about {want}"
    );
    for id in [&later, &never, &never_b] {
        assert!(
            row(&expiring, id).is_none(),
            "{id} is not expiring within 30d: {expiring:?}"
        );
    }
    let expiring_90 = report_json(&dir, &["expiring", "--within", "90d"]);
    assert!(row(&expiring_90, &soon).is_some() && row(&expiring_90, &later).is_some());
    assert_eq!(
        expiring_90[0]["id"],
        json!(soon),
        "soonest first: {expiring_90:?}"
    );

    let orphans = report_json(&dir, &["orphans"]);
    for (id, project, name) in [(&never, "admin", "never"), (&never_b, "proj-b", "never-b")] {
        let r = row(&orphans, id).unwrap_or_else(|| panic!("{id} missing: {orphans:?}"));
        assert_eq!(r["project"], json!(project));
        assert_eq!(r["name"], json!(name));
        assert!(r["expiration"].is_null(), "{r}");
        assert_recent(r["created"].as_str().expect("created string"));
    }
    for id in [&soon, &later] {
        assert!(row(&orphans, id).is_none(), "{id} expires: {orphans:?}");
    }

    let table = report(&dir, &["expiring", "--within", "30d"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["ID", "PROJECT", "NAME", "EXPIRATION"], "{table}");
    let line = lines
        .find(|l| l.starts_with(soon.as_str()))
        .unwrap_or_else(|| panic!("no row for {soon}:\n{table}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&cells[1..3], &["admin", "soon"], "{line}");
    assert!(
        !table.contains(&later) && !table.contains(&never),
        "{table}"
    );

    let table = report(&dir, &["orphans"]);
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["ID", "PROJECT", "NAME", "CREATED"], "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with(never_b.as_str()) && l.contains("proj-b"))
    );
    assert!(
        !table.contains("report-payload"),
        "a report shows no payload"
    );
}

fn secret_rows(db: &DbProbe, id: &str) -> i64 {
    db.count(&format!("SELECT count(*) FROM secrets WHERE id = '{id}'"))
}

#[tokio::test]
async fn the_sweeper_destroys_expired_secrets_after_the_grace() {
    let arca = Arca::start_with(&[
        ("ARCA_EXPIRY_GRACE", "6s"),
        ("ARCA_EXPIRY_SWEEP_INTERVAL", "1s"),
    ]);
    let doomed = arca
        .create_secret(&arca.admin_token, with_expiration("doomed", 2))
        .await;
    let kept = arca
        .create_secret(&arca.admin_token, with_expiration("kept", 86_400))
        .await;
    let db = DbProbe::of(&arca.data.dir);
    assert_eq!(secret_rows(&db, &doomed), 1, "the row exists at first");

    // Expired but in its grace period: not served, still stored.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let r = send(
        arca.admin(Method::GET, &format!("/v1/secrets/{doomed}/payload"))
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(
        r.status,
        404,
        "an expired secret is not served: {}",
        r.text()
    );
    assert_eq!(
        secret_rows(&db, &doomed),
        1,
        "destroyed before the grace ended"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    while secret_rows(&db, &doomed) != 0 {
        assert!(
            Instant::now() < deadline,
            "the expired secret was not destroyed\n{}",
            arca.server_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(secret_rows(&db, &kept), 1, "an unexpired secret is kept");
    let r = send(arca.admin(Method::GET, &format!("/v1/secrets/{kept}"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
}
