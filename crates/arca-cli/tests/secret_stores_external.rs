//! External secret stores through the whole server, against real peers: a PyKMIP server over mutual TLS and an
//! OpenBao dev server with AppRole (fixtures shared with arca-backends' own tests). Payloads live on the
//! external server and the database keeps only a sealed locator; delete destroys the external object; an
//! outage answers 503 naming the store, shows in /readyz and metrics, loses nothing and heals by itself;
//! `arca secret-store migrate` moves payloads between the two while the server runs and, killed with SIGKILL
//! half-way, finishes on a rerun without losing or leaking an object.

mod common;
use common::*;

#[allow(dead_code)]
#[path = "../../arca-backends/tests/common/kmip_server.rs"]
mod kmip_server;
#[allow(dead_code)]
#[path = "../../arca-backends/tests/common/openbao.rs"]
mod openbao;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use kmip_server::KmipServer;
use openbao::OpenBao;

fn append_config(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open arca.toml");
    f.write_all(text.as_bytes()).expect("append to arca.toml");
}

fn kmip_section(kmip: &KmipServer, default: bool) -> String {
    let d = kmip.dir.path();
    format!(
        "\n[secret_stores.kmip]\nplugin = \"kmip\"\nglobal_default = {default}\nhost = \"127.0.0.1\"\nport = {}\n\
         certfile = \"{}\"\nkeyfile = \"{}\"\nca_certs = \"{}\"\ntimeout = 3\n",
        kmip.port,
        d.join("client.pem").display(),
        d.join("client.key").display(),
        d.join("ca.pem").display(),
    )
}

fn vault_section(config: &arca_backends::VaultConfig, default: bool) -> String {
    format!(
        "\n[secret_stores.vault]\nplugin = \"vault\"\nglobal_default = {default}\nvault_url = \"{}\"\n\
         approle_role_id = \"{}\"\napprole_secret_id_file = \"{}\"\nkv_mountpoint = \"{}\"\ntimeout = 3\n",
        config.vault_url,
        config.approle_role_id,
        config.approle_secret_id_file.display(),
        config.kv_mountpoint,
    )
}

/// How many objects the PyKMIP server holds (its own SQLite database, read with Python's sqlite3).
fn kmip_objects(kmip: &KmipServer) -> u64 {
    let db = kmip.dir.path().join("pykmip.db");
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from managed_objects').fetchone()[0])")
        .arg(&db)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count")
}

/// Whether the data directory's database (files on SQLite, a dump on PostgreSQL) contains `needle`.
fn database_contains(data: &DataDir, needle: &[u8]) -> bool {
    let contains = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if let Some(db) = &data.database {
        return contains(&database_dump(db));
    }
    ["arca.db", "arca.db-wal"].iter().any(|f| {
        std::fs::read(data.dir.join(f))
            .map(|bytes| contains(&bytes))
            .unwrap_or(false)
    })
}

fn metrics_url(server: &Server) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(url) = server
            .stdout()
            .lines()
            .find_map(|l| l.trim().strip_prefix("metrics on ").map(str::to_owned))
        {
            return url;
        }
        assert!(
            Instant::now() < deadline,
            "no `metrics on` line: {}",
            server.stdout()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn get_text(url: &str) -> (u16, String) {
    let r = http().get(url).send().await.expect("GET");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

async fn wait_ready(metrics: &str) -> (u16, String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = get_text(&format!("{metrics}/readyz")).await;
        if status == 200 || Instant::now() > deadline {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kmip_store_keeps_payloads_on_the_kmip_server_and_survives_an_outage() {
    let mut kmip = KmipServer::start();
    let data = init();
    append_config(&data.config(), &kmip_section(&kmip, true));
    append_config(
        &data.config(),
        "\n[secret_stores.software]\nplugin = \"software\"\n",
    );
    let server = Server::start(&data.dir);
    let metrics = metrics_url(&server);
    let http = http();
    let creator = token_create(&data.dir, "p", "alice", "creator");

    let list = send(
        http.get(format!("{}/v1/secret-stores/global-default", server.url))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.text());
    assert_eq!(list.json()["secret_store_plugin"], "kmip_plugin");
    assert_eq!(list.json()["name"], "KMIP HSM");

    let before = kmip_objects(&kmip);
    let marker = format!("kmip-held-{}", uuid_like());
    let text_id = secret_id(
        &store_text(&http, &server.url, &creator, "t", &marker)
            .await
            .unwrap(),
    );
    let binary = random_bytes(3000);
    let bin_ref = send(
        http.post(format!("{}/v1/secrets", server.url))
            .header("X-Auth-Token", &creator)
            .json(&serde_json::json!({
                "payload": b64(&binary),
                "payload_content_type": "application/octet-stream",
                "payload_content_encoding": "base64",
            })),
    )
    .await;
    assert_eq!(bin_ref.status, 201, "{}", bin_ref.text());
    let bin_id = secret_id(bin_ref.json()["secret_ref"].as_str().unwrap());
    assert_eq!(
        kmip_objects(&kmip),
        before + 2,
        "both payloads are objects on the KMIP server"
    );
    assert!(
        !database_contains(&data, marker.as_bytes()),
        "the database keeps only the locator, never the payload"
    );
    let (status, body) = get_payload(&http, &server.url, &creator, &text_id).await;
    assert_eq!((status, body), (200, marker.clone().into_bytes()));
    let r = send(
        http.get(format!("{}/v1/secrets/{bin_id}/payload", server.url))
            .header("X-Auth-Token", &creator)
            .header("Accept", "application/octet-stream"),
    )
    .await;
    assert_eq!((r.status, &r.body), (200, &binary));

    // Delete destroys the object on the KMIP server.
    let r = send(
        http.delete(format!("{}/v1/secrets/{bin_id}", server.url))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(kmip_objects(&kmip), before + 1);

    // Outage: 503 naming the store, nothing lost, /readyz and the gauge say so.
    kmip.stop();
    let (status, body) = get_payload(&http, &server.url, &creator, &text_id).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("secret store 'kmip'"), "{body}");
    assert!(!body.contains(&marker));
    let refused = store_text(&http, &server.url, &creator, "during", "outage payload").await;
    assert_eq!(refused.as_ref().map_err(|e| e.0), Err(503), "{refused:?}");
    let r = send(
        http.delete(format!("{}/v1/secrets/{text_id}", server.url))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(
        r.status,
        503,
        "a delete that cannot destroy the object deletes nothing: {}",
        r.text()
    );
    let meta = send(
        http.get(format!("{}/v1/secrets/{text_id}", server.url))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(meta.status, 200, "the secret is still there");
    let (status, body) = get_text(&format!("{metrics}/readyz")).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("'kmip'"), "{body}");
    let (_, exposition) = get_text(&format!("{metrics}/metrics")).await;
    assert!(
        exposition.contains("arca_secret_store_up{store=\"kmip\"} 0"),
        "{exposition}"
    );
    // Other stores keep working: a project preferring the software store still stores.
    let admin = token_create(&data.dir, "p", "boss", "admin");
    let software_id = arca_core_store_id("software", "software");
    let r = send(
        http.post(format!(
            "{}/v1/secret-stores/{software_id}/preferred",
            server.url
        ))
        .header("X-Auth-Token", &admin),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    store_text(&http, &server.url, &creator, "soft", "kept in the database")
        .await
        .expect("the software store works during the KMIP outage");
    let r = send(
        http.delete(format!(
            "{}/v1/secret-stores/{software_id}/preferred",
            server.url
        ))
        .header("X-Auth-Token", &admin),
    )
    .await;
    assert_eq!(r.status, 204);

    // Recovery without a restart.
    kmip.resume();
    let (status, body) = get_payload(&http, &server.url, &creator, &text_id).await;
    assert_eq!((status, body), (200, marker.clone().into_bytes()));
    let (status, body) = wait_ready(&metrics).await;
    assert_eq!(status, 200, "{body}");
    let (_, exposition) = get_text(&format!("{metrics}/metrics")).await;
    assert!(
        exposition.contains("arca_secret_store_up{store=\"kmip\"} 1"),
        "{exposition}"
    );
    // A project KEK rotation re-seals the locator (its own object kind); the KMIP object is untouched.
    let objects = kmip_objects(&kmip);
    let rotated = run(
        arca()
            .args(["project", "rotate-kek", "--data-dir"])
            .arg(&data.dir)
            .args(["--project", "p", "--rewrap"]),
        COMMAND_TIMEOUT,
    );
    assert!(rotated.status.success(), "{}", rotated.describe());
    assert_eq!(kmip_objects(&kmip), objects);
    let (status, body) = get_payload(&http, &server.url, &creator, &text_id).await;
    assert_eq!((status, body), (200, marker.clone().into_bytes()));
    let r = send(
        http.delete(format!("{}/v1/secrets/{text_id}", server.url))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(kmip_objects(&kmip), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_expiry_sweeper_destroys_expired_payloads_on_the_kmip_server() {
    let kmip = KmipServer::start();
    let data = init();
    append_config(&data.config(), &kmip_section(&kmip, true));
    let server = Server::start_with(
        ServerOpts::new(&data.dir)
            .env("ARCA_EXPIRY_GRACE", "1s")
            .env("ARCA_EXPIRY_SWEEP_INTERVAL", "1s"),
    )
    .unwrap_or_else(|f| panic!("{}", f.describe()));
    let http = http();
    let creator = token_create(&data.dir, "p", "alice", "creator");
    let before = kmip_objects(&kmip);
    let r = send(
        http.post(format!("{}/v1/secrets", server.url))
            .header("X-Auth-Token", &creator)
            .json(&serde_json::json!({
                "payload": "short-lived",
                "payload_content_type": "text/plain",
                "expiration": iso_utc(2),
            })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let kept = secret_id(
        &store_text(&http, &server.url, &creator, "k", "long-lived")
            .await
            .unwrap(),
    );
    assert_eq!(kmip_objects(&kmip), before + 2);
    let deadline = Instant::now() + Duration::from_secs(20);
    while kmip_objects(&kmip) != before + 1 {
        assert!(
            Instant::now() < deadline,
            "the expired payload is still on the KMIP server"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (status, _) = get_payload(&http, &server.url, &creator, &kept).await;
    assert_eq!(status, 200, "the unexpired secret is untouched");
}

#[tokio::test(flavor = "multi_thread")]
async fn vault_store_keeps_payloads_in_kv_v2() {
    let bao = OpenBao::start().await;
    let role = bao.arca_role().await;
    let config = bao.config(&role);
    let data = init();
    append_config(&data.config(), &vault_section(&config, true));
    let server = Server::start(&data.dir);
    let http = http();
    let creator = token_create(&data.dir, "p", "alice", "creator");

    let marker = format!("vault-held-{}", uuid_like());
    let id = secret_id(
        &store_text(&http, &server.url, &creator, "v", &marker)
            .await
            .unwrap(),
    );
    assert!(!database_contains(&data, marker.as_bytes()));
    let (status, body) = get_payload(&http, &server.url, &creator, &id).await;
    assert_eq!((status, body), (200, marker.clone().into_bytes()));
    let (status, listed) = bao
        .root(
            reqwest::Method::GET,
            "secret/metadata/arca/p?list=true",
            None,
        )
        .await;
    assert_eq!(status.as_u16(), 200, "{listed}");
    assert_eq!(
        listed["data"]["keys"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );

    let r = send(
        http.delete(format!("{}/v1/secrets/{id}", server.url))
            .header("X-Auth-Token", &creator),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let (status, listed) = bao
        .root(
            reqwest::Method::GET,
            "secret/metadata/arca/p?list=true",
            None,
        )
        .await;
    assert_eq!(
        status.as_u16(),
        404,
        "every version and the metadata are gone: {listed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn migration_from_kmip_to_vault_survives_sigkill_and_finishes_on_rerun() {
    let kmip = KmipServer::start();
    let bao = OpenBao::start().await;
    let role = bao.arca_role().await;
    let data = init();
    append_config(&data.config(), &kmip_section(&kmip, true));
    append_config(&data.config(), &vault_section(&bao.config(&role), false));
    let server = Server::start(&data.dir);
    let http = http();
    let creator = token_create(&data.dir, "p", "alice", "creator");
    let before = kmip_objects(&kmip);
    let mut ids = Vec::new();
    for i in 0..120 {
        let payload = format!("migrating payload {i}");
        ids.push((
            secret_id(
                &store_text(&http, &server.url, &creator, "m", &payload)
                    .await
                    .unwrap(),
            ),
            payload,
        ));
    }
    assert_eq!(kmip_objects(&kmip), before + 120);

    let mut first = arca()
        .args(["secret-store", "migrate", "--data-dir"])
        .arg(&data.dir)
        .args(["--from", "kmip", "--to", "vault", "--batch", "10"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn migrate");
    // Killed once some payloads have moved and others not: SIGKILL lands in the middle of the work.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, listed) = bao
            .root(
                reqwest::Method::GET,
                "secret/metadata/arca/p?list=true",
                None,
            )
            .await;
        let moved = listed["data"]["keys"].as_array().map_or(0, Vec::len);
        if moved >= 10 {
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the migration ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "the migration made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        first.try_wait().unwrap().is_none(),
        "the migration ended before it could be killed"
    );
    let _ = first.kill();
    let _ = first.wait();
    assert!(
        kmip_objects(&kmip) > before,
        "the kill left payloads on the KMIP server to move"
    );
    // Meanwhile the server serves every secret, wherever it is right now.
    for (id, payload) in ids.iter().step_by(7) {
        let (status, body) = get_payload(&http, &server.url, &creator, id).await;
        assert_eq!((status, body), (200, payload.clone().into_bytes()));
    }
    let rerun = run(
        arca()
            .args(["secret-store", "migrate", "--data-dir"])
            .arg(&data.dir)
            .args(["--from", "kmip", "--to", "vault"]),
        Duration::from_secs(120),
    )
    .ok("arca secret-store migrate (rerun)");
    assert!(
        rerun.stdout_str().contains("moved "),
        "{}",
        rerun.describe()
    );
    for (id, payload) in &ids {
        let (status, body) = get_payload(&http, &server.url, &creator, id).await;
        assert_eq!((status, body), (200, payload.clone().into_bytes()));
    }
    assert_eq!(
        kmip_objects(&kmip),
        before,
        "every source object was destroyed, none leaked"
    );
    let (status, listed) = bao
        .root(
            reqwest::Method::GET,
            "secret/metadata/arca/p?list=true",
            None,
        )
        .await;
    assert_eq!(status.as_u16(), 200, "{listed}");
    assert_eq!(
        listed["data"]["keys"].as_array().map(Vec::len),
        Some(120),
        "one KV entry per payload, no copies left over"
    );
    drop(server);
    let verify = run(
        arca()
            .args(["audit", "verify", "--data-dir"])
            .arg(&data.dir),
        COMMAND_TIMEOUT,
    );
    assert!(verify.status.success(), "{}", verify.describe());
}

fn uuid_like() -> String {
    random_bytes(8).iter().map(|b| format!("{b:02x}")).collect()
}

/// The id Arca derives for `[secret_stores.<name>]` with `plugin`.
fn arca_core_store_id(name: &str, plugin: &str) -> String {
    arca_core::secret_store_id(name, plugin).to_string()
}
