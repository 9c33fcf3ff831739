//! `arca db copy`: a SQLite deployment with secrets, metadata, containers, ACLs, orders, quotas, KMS keys,
//! access keys and an audit chain is copied into an empty PostgreSQL database and verified row by row; the
//! same data directory then runs on PostgreSQL (payloads, KMS ciphertext, tokens and the audit chain all carry
//! over), a tampered row is found by `--verify-only`, and a target that is not empty is refused.

mod common;
use common::*;

use arca_store::postgres_testing::TempPostgres;
use serde_json::json;

fn access_key(dir: &std::path::Path) -> (String, String) {
    let out = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(dir)
            .args(["--project", "web", "--user", "alice", "--roles", "creator"]),
        COMMAND_TIMEOUT,
    )
    .ok("arca access-key create");
    let last = out.last_line();
    let (id, secret) = last.split_once(' ').expect("<id> <secret>");
    (id.to_owned(), secret.to_owned())
}

fn key_cmd(url: &str, creds: &(String, String), args: &[&str]) -> Run {
    run(
        arca()
            .arg("key")
            .args(args)
            .env("ARCA_URL", url)
            .env("ARCA_ACCESS_KEY_ID", &creds.0)
            .env("ARCA_SECRET_ACCESS_KEY", &creds.1),
        COMMAND_TIMEOUT,
    )
}

fn copy(from: &std::path::Path, to: &str, verify_only: bool) -> Run {
    let mut cmd = arca();
    cmd.args(["db", "copy", "--from"])
        .arg(format!("sqlite:{}", from.display()))
        .args(["--to", to]);
    if verify_only {
        cmd.arg("--verify-only");
    }
    run(&mut cmd, COMMAND_TIMEOUT)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_deployment_moves_to_postgresql_verified_row_by_row() {
    let data = init();
    let http = http();
    let admin = data.admin_token.clone();
    let creator = token_create(&data.dir, "web", "alice", "creator");
    let mut server = Server::start(&data.dir);
    let url = server.url.clone();

    // A bit of everything.
    let mut secrets = Vec::new();
    for i in 0..30 {
        let payload = format!("payload number {i}");
        let id = secret_id(
            &store_text(&http, &url, &creator, &format!("s{i}"), &payload)
                .await
                .unwrap(),
        );
        secrets.push((id, payload));
    }
    let (first, _) = secrets[0].clone();
    let r = send(
        http.put(format!("{url}/v1/secrets/{first}/metadata"))
            .header("X-Auth-Token", &creator)
            .json(&json!({"metadata": {"owner": "alice", "tier": "gold"}})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send(
        http.put(format!("{url}/v1/secrets/{first}/acl"))
            .header("X-Auth-Token", &creator)
            .json(&json!({"read": {"users": ["bob", "carol"], "project-access": false}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(
        http.post(format!("{url}/v1/containers"))
            .header("X-Auth-Token", &creator)
            .json(
                &json!({"type": "generic", "name": "bundle", "secret_refs": [
                    {"name": "a", "secret_ref": format!("{url}/v1/secrets/{first}")},
                    {"name": "b", "secret_ref": format!("{url}/v1/secrets/{}", secrets[1].0)},
                ]}),
            ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = send(
        http.post(format!("{url}/v1/orders"))
            .header("X-Auth-Token", &creator)
            .json(&json!({"type": "key", "meta": {"algorithm": "aes", "bit_length": 256, "mode": "cbc"}})),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let creds = access_key(&data.dir);
    let key = key_cmd(&url, &creds, &["create", "--description", "moves"])
        .ok("key create")
        .last_line();
    let blob = key_cmd(
        &url,
        &creds,
        &[
            "encrypt",
            &key,
            "--plaintext",
            "kms survives",
            "--context",
            "a=b",
        ],
    )
    .ok("key encrypt")
    .last_line();
    key_cmd(&url, &creds, &["rotate", &key]).ok("key rotate");
    server.stop();

    let pg = TempPostgres::new();
    let target = pg.create_database("moved");
    let copied = copy(&data.db(), &target, false).ok("arca db copy");
    assert!(
        copied.stdout_str().contains("matches"),
        "{}",
        copied.describe()
    );
    assert!(
        copied.stderr.contains("  secrets: 31 rows identical"),
        "the order's key is a secret too: {}",
        copied.describe()
    );
    assert!(
        copied.stderr.contains("audit_log:"),
        "{}",
        copied.describe()
    );

    // The same data directory, now on PostgreSQL.
    let config = std::fs::read_to_string(data.config()).unwrap();
    let on_pg = config.replacen(
        "# url = \"postgres://arca@db.example",
        &format!("url = \"{target}\"\n# was: \"postgres://arca@db.example"),
        1,
    );
    assert_ne!(on_pg, config);
    std::fs::write(data.config(), on_pg).unwrap();
    std::fs::rename(data.db(), data.dir.join("arca.db.moved")).unwrap();
    let server = Server::start(&data.dir);
    let url = server.url.clone();
    for (id, payload) in &secrets {
        let (status, body) = get_payload(&http, &url, &creator, id).await;
        assert_eq!((status, body), (200, payload.clone().into_bytes()));
    }
    let meta = send(
        http.get(format!("{url}/v1/secrets/{first}/metadata"))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(meta.json()["metadata"]["tier"], "gold", "{}", meta.text());
    let acl = send(
        http.get(format!("{url}/v1/secrets/{first}/acl"))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(
        acl.json()["read"]["users"].as_array().map(Vec::len),
        Some(2),
        "{}",
        acl.text()
    );
    let out = key_cmd(
        &url,
        &creds,
        &["decrypt", "--ciphertext", &blob, "--context", "a=b"],
    )
    .ok("decrypt on PostgreSQL");
    assert_eq!(out.stdout, b"kms survives");
    let r = send(
        http.get(format!("{url}/v1/secrets"))
            .header("X-Auth-Token", &admin),
    )
    .await;
    assert_eq!(r.status, 200, "the admin token carried over: {}", r.text());
    // The audit chain continues on PostgreSQL from the copied head.
    store_text(&http, &url, &creator, "after", "written on postgres")
        .await
        .unwrap();
    drop(server);
    let verify = run(
        arca()
            .args(["audit", "verify", "--data-dir"])
            .arg(&data.dir),
        COMMAND_TIMEOUT,
    );
    assert!(verify.status.success(), "{}", verify.describe());

    // A second copy into the now-used database is refused; nothing changes.
    std::fs::rename(data.dir.join("arca.db.moved"), data.db()).unwrap();
    let again = copy(&data.db(), &target, false);
    assert!(!again.status.success());
    assert!(again.stderr.contains("not empty"), "{}", again.describe());

    // Verification finds a tampered row (and an extra one), naming the table.
    let fresh = pg.create_database("tampered");
    copy(&data.db(), &fresh, false).ok("arca db copy (second target)");
    copy(&data.db(), &fresh, true).ok("arca db copy --verify-only");
    let pool = sqlx::PgPool::connect(&fresh).await.unwrap();
    sqlx::query("UPDATE secrets SET name = 'edited' WHERE id = $1")
        .bind(&first)
        .execute(&pool)
        .await
        .unwrap();
    let found = copy(&data.db(), &fresh, true);
    assert!(!found.status.success(), "{}", found.describe());
    assert!(
        found.stderr.contains("table secrets row") && found.stderr.contains("differs"),
        "{}",
        found.describe()
    );
    sqlx::query("UPDATE secrets SET name = 's0' WHERE id = $1")
        .bind(&first)
        .execute(&pool)
        .await
        .unwrap();
    copy(&data.db(), &fresh, true).ok("restored row verifies");
    sqlx::query("DELETE FROM secret_metadata WHERE key = 'tier'")
        .execute(&pool)
        .await
        .unwrap();
    let found = copy(&data.db(), &fresh, true);
    assert!(
        found.stderr.contains("table secret_metadata row")
            && found.stderr.contains("missing from PostgreSQL"),
        "{}",
        found.describe()
    );
    pool.close().await;

    // Bad arguments.
    let missing = copy(&data.dir.join("nope.db"), &fresh, false);
    assert!(
        !missing.status.success() && missing.stderr.contains("no SQLite database"),
        "{}",
        missing.describe()
    );
    let wrong = copy(&data.db(), "mysql://x/y", false);
    assert!(
        !wrong.status.success() && wrong.stderr.contains("postgres://"),
        "{}",
        wrong.describe()
    );
}
