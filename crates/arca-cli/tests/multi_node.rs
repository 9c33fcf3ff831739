//! Several Arca nodes over one PostgreSQL (DESIGN.md, Storage): two `arca server` processes with their own data
//! directories sharing one database and one root key. A change made through one node (secret, ACL, project
//! quota, token revocation, KMS key creation, disable, rotation) takes effect on the other at once; a quota holds
//! exactly under creates spread over both; the audit chain stays one valid chain. A node killed under load loses
//! no acknowledged write and rejoins on restart; a PostgreSQL restart makes requests fail fast with 503 and the
//! same server serves again once the database is back.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use arca_server::kms::sigv4::{Credentials, SERVICE, sign};
use arca_store::postgres_testing::TempPostgres;
use serde_json::{Value, json};

const SERVICE_ADMIN: &str = "key-manager:service-admin";

/// Two data directories over one PostgreSQL database: `a` from `arca init --database-url`, `b` holding copies
/// of its root.key and arca.toml.
struct Nodes {
    _tmp: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
    admin: String,
    url: String,
}

fn two_data_dirs(pg: &TempPostgres, database: &str) -> Nodes {
    let url = pg.create_database(database);
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let init = run(
        arca()
            .args(["init", "--data-dir"])
            .arg(&a)
            .args(["--database-url", &url]),
        COMMAND_TIMEOUT,
    )
    .ok("arca init --database-url");
    let admin = init.last_line();
    let b = tmp.path().join("b");
    std::fs::create_dir(&b).unwrap();
    set_mode(&b, 0o700);
    for file in ["root.key", "arca.toml"] {
        std::fs::copy(a.join(file), b.join(file)).unwrap();
        set_mode(&b.join(file), mode_of(&a.join(file)));
    }
    Nodes {
        _tmp: tmp,
        a,
        b,
        admin,
        url,
    }
}

/// `arca access-key create` on `dir` → (id, secret).
fn access_key(dir: &Path, project: &str, roles: &str) -> (String, String) {
    let out = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(dir)
            .args(["--project", project, "--user", "kms-user", "--roles", roles]),
        COMMAND_TIMEOUT,
    )
    .ok("arca access-key create");
    let last = out.last_line();
    let (id, secret) = last.split_once(' ').expect("`<id> <secret>`");
    (id.to_owned(), secret.to_owned())
}

/// A SigV4-signed `TrentService.<operation>` call → (status, JSON answer).
async fn kms(
    client: &reqwest::Client,
    base: &str,
    creds: &(String, String),
    operation: &str,
    body: Value,
) -> (u16, Value) {
    let url = format!("{base}/");
    let uri: http::Uri = url.parse().unwrap();
    let body = serde_json::to_vec(&body).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    headers.insert(
        "x-amz-target",
        http::HeaderValue::from_str(&format!("TrentService.{operation}")).unwrap(),
    );
    let credentials = Credentials {
        access_key_id: &creds.0,
        secret_access_key: creds.1.as_bytes(),
        region: "us-east-1",
        service: SERVICE,
    };
    sign(
        &http::Method::POST,
        &uri,
        &mut headers,
        &body,
        &credentials,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let r = send(client.post(&url).headers(headers).body(body)).await;
    let answer = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    (r.status, answer)
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> Resp {
    send(client.get(url).header("X-Auth-Token", token)).await
}

/// Stores a text secret as `token` through `base` → its id (panics unless 201).
async fn stored(client: &reqwest::Client, base: &str, token: &str, payload: &str) -> String {
    let secret_ref = store_text(client, base, token, "mn", payload)
        .await
        .unwrap_or_else(|(s, b)| panic!("store through {base}: {s} {b}"));
    secret_id(&secret_ref)
}

/// The server's `metrics on http://…` address.
fn metrics_url(server: &Server) -> String {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        let out = server.stdout();
        if let Some(url) = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("metrics on "))
        {
            return url.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "no `metrics on` line:\n{out}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_through_one_node_takes_effect_on_the_other() {
    let pg = TempPostgres::new();
    let nodes = two_data_dirs(&pg, "arca_nodes");
    let a = Server::start(&nodes.a);
    let b = Server::start(&nodes.b);
    let client = http();
    let admin = &nodes.admin;

    // A secret stored through A is read through B, and the other way round.
    let id = stored(&client, &a.url, admin, "from A").await;
    let (status, body) = get_payload(&client, &b.url, admin, &id).await;
    assert_eq!((status, body.as_slice()), (200, &b"from A"[..]));
    let id_b = stored(&client, &b.url, admin, "from B").await;
    let (status, body) = get_payload(&client, &a.url, admin, &id_b).await;
    assert_eq!((status, body.as_slice()), (200, &b"from B"[..]));

    // An ACL set through A lets a user of another project read through B at once; removed through B, A
    // refuses at once.
    let bob = token_create(&nodes.a, "elsewhere", "bob", "observer");
    let (status, _) = get_payload(&client, &b.url, &bob, &id).await;
    assert_ne!(status, 200, "bob is not in the secret's project");
    let r = send(
        client
            .put(format!("{}/v1/secrets/{id}/acl", a.url))
            .header("X-Auth-Token", admin)
            .json(&json!({"read": {"users": ["bob"], "project-access": true}})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (status, body) = get_payload(&client, &b.url, &bob, &id).await;
    assert_eq!((status, body.as_slice()), (200, &b"from A"[..]));
    let r = send(
        client
            .delete(format!("{}/v1/secrets/{id}/acl", b.url))
            .header("X-Auth-Token", admin),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (status, _) = get_payload(&client, &a.url, &bob, &id).await;
    assert_ne!(status, 200, "the ACL removed through B binds A at once");

    // A token created on the data directory works on both nodes; revoked, both refuse it at once (the
    // token cache is off on a shared store).
    let carol = token_create(&nodes.b, "p", "carol", "creator");
    for node in [&a, &b] {
        assert_eq!(
            get(&client, &format!("{}/v1/secrets", node.url), &carol)
                .await
                .status,
            200
        );
    }
    let token_id = carol.split('_').nth(1).unwrap().to_owned();
    run(
        arca()
            .args(["token", "revoke", "--data-dir"])
            .arg(&nodes.a)
            .arg(&token_id),
        COMMAND_TIMEOUT,
    )
    .ok("arca token revoke");
    for node in [&a, &b] {
        let r = get(&client, &format!("{}/v1/secrets", node.url), &carol).await;
        assert_eq!(
            r.status,
            401,
            "a revoked token is refused at once: {}",
            r.text()
        );
    }

    // A project quota set through A holds exactly under concurrent creates spread over both nodes.
    let sa = token_create(&nodes.a, "ops", "sa", SERVICE_ADMIN);
    let dave = token_create(&nodes.a, "quota", "dave", "creator");
    const QUOTA: usize = 5;
    let r = send(
        client
            .put(format!("{}/v1/project-quotas/quota", a.url))
            .header("X-Auth-Token", &sa)
            .json(&json!({"project_quotas": {"secrets": QUOTA}})),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let mut creates = Vec::new();
    for i in 0..24 {
        let base = if i % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let (client, dave) = (client.clone(), dave.clone());
        creates.push(tokio::spawn(async move {
            store_text(&client, &base, &dave, "q", &format!("quota {i}")).await
        }));
    }
    let mut created = 0;
    for c in creates {
        match c.await.unwrap() {
            Ok(_) => created += 1,
            Err((403, _)) => {}
            Err((status, body)) => panic!("a create answered {status}: {body}"),
        }
    }
    assert_eq!(
        created, QUOTA,
        "exactly the quota's worth of creates succeed"
    );
    for node in [&a, &b] {
        let refused = store_text(&client, &node.url, &dave, "q", "one more").await;
        assert!(matches!(refused, Err((403, _))), "{refused:?}");
    }

    // KMS: a key created through A is used through B; disabled through A, B refuses at once; rotated through
    // A, B sees the rotation, and ciphertext from before decrypts on both.
    let creds = access_key(&nodes.a, "kms", "creator");
    let (status, created) = kms(&client, &a.url, &creds, "CreateKey", json!({})).await;
    assert_eq!(status, 200, "{created}");
    let key = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let plaintext = b64(b"kms across nodes");
    let encrypt = |node: String| {
        let (client, creds, key, plaintext) = (
            client.clone(),
            creds.clone(),
            key.clone(),
            plaintext.clone(),
        );
        async move {
            kms(
                &client,
                &node,
                &creds,
                "Encrypt",
                json!({"KeyId": key, "Plaintext": plaintext}),
            )
            .await
        }
    };
    let (status, sealed) = encrypt(b.url.clone()).await;
    assert_eq!(status, 200, "{sealed}");
    let blob = sealed["CiphertextBlob"].as_str().unwrap().to_owned();
    let decrypt = |node: String, blob: String| {
        let (client, creds) = (client.clone(), creds.clone());
        async move {
            kms(
                &client,
                &node,
                &creds,
                "Decrypt",
                json!({"CiphertextBlob": blob}),
            )
            .await
        }
    };
    let (status, opened) = decrypt(a.url.clone(), blob.clone()).await;
    assert_eq!(
        (status, opened["Plaintext"].as_str()),
        (200, Some(plaintext.as_str()))
    );

    let (status, _) = kms(&client, &a.url, &creds, "DisableKey", json!({"KeyId": key})).await;
    assert_eq!(status, 200);
    let (status, refused) = encrypt(b.url.clone()).await;
    assert_eq!(
        (status, refused["__type"].as_str()),
        (400, Some("DisabledException")),
        "{refused}"
    );
    let (status, _) = kms(&client, &b.url, &creds, "EnableKey", json!({"KeyId": key})).await;
    assert_eq!(status, 200);
    let (status, sealed) = encrypt(a.url.clone()).await;
    assert_eq!(
        status, 200,
        "enabled through B, A encrypts at once: {sealed}"
    );

    let (status, rotated) = kms(
        &client,
        &a.url,
        &creds,
        "RotateKeyOnDemand",
        json!({"KeyId": key}),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let (status, rotations) = kms(
        &client,
        &b.url,
        &creds,
        "ListKeyRotations",
        json!({"KeyId": key}),
    )
    .await;
    assert_eq!(status, 200, "{rotations}");
    assert_eq!(
        rotations["Rotations"].as_array().map(Vec::len),
        Some(1),
        "B sees the rotation made through A: {rotations}"
    );
    let (status, after) = encrypt(b.url.clone()).await;
    assert_eq!(status, 200, "{after}");
    let new_blob = after["CiphertextBlob"].as_str().unwrap().to_owned();
    for node in [&a, &b] {
        for blob in [&blob, &new_blob] {
            let (status, opened) = decrypt(node.url.clone(), blob.clone()).await;
            assert_eq!(
                (status, opened["Plaintext"].as_str()),
                (200, Some(plaintext.as_str()))
            );
        }
    }

    // Everything both nodes did is one valid audit chain.
    drop((a, b));
    let verify = run(
        arca().args(["audit", "verify", "--data-dir"]).arg(&nodes.b),
        COMMAND_TIMEOUT,
    );
    assert!(verify.status.success(), "{}", verify.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_node_loses_no_acknowledged_write_and_rejoins() {
    let pg = TempPostgres::new();
    let nodes = two_data_dirs(&pg, "arca_kill");
    let mut a = Server::start(&nodes.a);
    let b = Server::start(&nodes.b);
    let client = http();

    // Writers spread over both nodes remember every acknowledged (201) secret and where it was acknowledged.
    let acked: Arc<std::sync::Mutex<Vec<(String, String, usize)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let urls = [a.url.clone(), b.url.clone()];
        let (client, admin, acked, stop) = (
            client.clone(),
            nodes.admin.clone(),
            acked.clone(),
            stop.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let node = (w + i) % 2;
                let payload = format!("w{w} n{i}");
                if let Ok(secret_ref) =
                    store_text(&client, &urls[node], &admin, "load", &payload).await
                {
                    acked
                        .lock()
                        .unwrap()
                        .push((secret_id(&secret_ref), payload, node));
                } else if node == 0 {
                    // A is down: don't spin on refused connections.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                i += 1;
            }
        }));
    }
    let wait_for = |count: usize, node: Option<usize>| {
        let acked = acked.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let n = acked
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(_, _, on)| node.is_none_or(|x| x == *on))
                    .count();
                if n >= count {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "only {n} of {count} writes acknowledged"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    wait_for(60, None).await;
    let on_b_before = acked.lock().unwrap().iter().filter(|e| e.2 == 1).count();
    a.kill9();
    // B keeps acknowledging writes.
    wait_for(on_b_before + 60, Some(1)).await;
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.iter().any(|e| e.2 == 0),
        "A acknowledged writes before it died"
    );

    // Every acknowledged write is readable through B, then through A restarted on the same data directory.
    for (id, payload, _) in &acked {
        let (status, body) = get_payload(&client, &b.url, &nodes.admin, id).await;
        assert_eq!((status, body.as_slice()), (200, payload.as_bytes()), "{id}");
    }
    let a = Server::start(&nodes.a);
    for (id, payload, _) in &acked {
        let (status, body) = get_payload(&client, &a.url, &nodes.admin, id).await;
        assert_eq!((status, body.as_slice()), (200, payload.as_bytes()), "{id}");
    }
    stored(&client, &a.url, &nodes.admin, "after the restart").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_restart_answers_503_fast_then_recovers() {
    let pg = TempPostgres::new();
    let nodes = two_data_dirs(&pg, "arca_dbloss");
    const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);
    let server =
        Server::start_with(ServerOpts::new(&nodes.a).env("ARCA_DATABASE_ACQUIRE_TIMEOUT", "1"))
            .unwrap_or_else(|f| panic!("{}", f.describe()));
    let metrics = metrics_url(&server);
    let client = http();
    let admin = &nodes.admin;
    let creds = access_key(&nodes.a, "kms", "creator");
    let (status, created) = kms(&client, &server.url, &creds, "CreateKey", json!({})).await;
    assert_eq!(status, 200, "{created}");
    let key = created["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let id = stored(&client, &server.url, admin, "survives").await;

    pg.stop();
    let margin = Duration::from_secs(3);
    let started = Instant::now();
    let r = send(
        client
            .get(format!("{}/v1/secrets/{id}", server.url))
            .header("X-Auth-Token", admin),
    )
    .await;
    assert!(
        started.elapsed() < ACQUIRE_TIMEOUT + margin,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("database is unavailable"), "{}", r.text());
    let started = Instant::now();
    let refused = store_text(&client, &server.url, admin, "x", "not now").await;
    assert!(
        started.elapsed() < ACQUIRE_TIMEOUT + margin,
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(refused, Err((503, _))), "{refused:?}");
    let started = Instant::now();
    let (status, answer) = kms(
        &client,
        &server.url,
        &creds,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": b64(b"x")}),
    )
    .await;
    assert!(
        started.elapsed() < ACQUIRE_TIMEOUT + margin,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        (status, answer["__type"].as_str()),
        (503, Some("DependencyTimeoutException")),
        "{answer}"
    );
    let r = send(client.get(format!("{metrics}/readyz"))).await;
    assert_eq!(r.status, 503);
    assert!(r.text().contains("database unavailable"), "{}", r.text());

    // The same server serves again once PostgreSQL is back, without a restart.
    pg.start();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = get_payload(&client, &server.url, admin, &id).await;
        if status == 200 {
            assert_eq!(body, b"survives");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {status} after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stored(&client, &server.url, admin, "after the restart").await;
    let (status, answer) = kms(
        &client,
        &server.url,
        &creds,
        "Encrypt",
        json!({"KeyId": key, "Plaintext": b64(b"x")}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let r = send(client.get(format!("{metrics}/readyz"))).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_starting_node_fails_only_orders_pending_for_long() {
    let pg = TempPostgres::new();
    let nodes = two_data_dirs(&pg, "arca_orders");
    let a = Server::start(&nodes.a);
    let client = http();
    let token = token_create(&nodes.a, "orders", "olga", "admin");

    // Two orders left PENDING: one by a node that stopped 20 minutes ago, one another node is processing now.
    let pool = sqlx::PgPool::connect(&nodes.url).await.unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64;
    let old = uuid_like(1);
    let fresh = uuid_like(2);
    for (id, created) in [(&old, now - 20 * 60 * 1_000_000_000), (&fresh, now)] {
        sqlx::query(
            "INSERT INTO orders (id, project_id, creator_id, order_type, status, meta, created, updated) \
             VALUES ($1, 'orders', 'olga', 'key', 'PENDING', '{\"algorithm\":\"aes\"}', $2, $2)",
        )
        .bind(id)
        .bind(created)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    // B starts: it fails the old order only.
    let _b = Server::start(&nodes.b);
    let status = |id: String| {
        let (client, url, token) = (client.clone(), a.url.clone(), token.clone());
        async move {
            let r = get(&client, &format!("{url}/v1/orders/{id}"), &token).await;
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["status"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(status(old).await, "ERROR");
    assert_eq!(status(fresh).await, "PENDING");
}

/// A fixed, well-formed UUID (v7-shaped) for rows written straight into the database.
fn uuid_like(n: u8) -> String {
    format!("0190a1b2-c3d4-7e5f-8a6b-00000000000{n}")
}
