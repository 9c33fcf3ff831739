//! Binary-level lifecycle tests of `arca`: what `init` leaves on disk, the start-up refusals
//! (a root.key readable by others, a non-loopback bind without `--insecure-http`), durability
//! of acknowledged writes across SIGKILL, detection of swapped or flipped ciphertexts in the
//! database, tokens made while the server runs, the `arca secret …` client commands and
//! `arca server --dev`. Everything goes through the real binary and real HTTP.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use common::{
    COMMAND_TIMEOUT, Server, ServerOpts, arca, database_dump, get_payload, http, init, init_args,
    mode_of, rt, run, secret_id, set_mode, store_text, token_create,
};

// ---------------------------------------------------------------------------------------
// (a) init
// ---------------------------------------------------------------------------------------

#[test]
fn init_creates_private_data_dir_and_refuses_to_run_twice() {
    let d = init();

    assert!(d.dir.is_dir(), "init did not create {}", d.dir.display());
    assert_eq!(
        mode_of(&d.dir),
        0o700,
        "data dir mode should be 0700, is {:04o}",
        mode_of(&d.dir)
    );

    let key = d.root_key();
    assert_eq!(
        mode_of(&key),
        0o400,
        "root.key mode should be 0400, is {:04o}",
        mode_of(&key)
    );
    let key_bytes = std::fs::read(&key).expect("read root.key");
    assert!(!key_bytes.is_empty(), "root.key is empty");

    assert!(
        d.config().is_file(),
        "init did not write {}",
        d.config().display()
    );
    let toml = std::fs::read_to_string(d.config()).expect("read arca.toml");
    assert!(
        !toml.contains(d.admin_token.as_str()),
        "arca.toml must not contain the admin token"
    );

    if let Some(database) = &d.database {
        // PostgreSQL: no SQLite file, and the admin token is not in the database in clear.
        assert!(!d.db().exists(), "arca.db exists on PostgreSQL");
        assert!(
            !contains(&database_dump(database), d.admin_token.as_bytes()),
            "the admin token is stored in clear in the database"
        );
    } else {
        let db = std::fs::read(d.db()).unwrap_or_else(|e| panic!("read {}: {e}", d.db().display()));
        assert!(
            db.starts_with(b"SQLite format 3\0"),
            "arca.db is not an SQLite database (first bytes {:?})",
            &db[..db.len().min(16)]
        );

        // The admin token must not be in the database in clear (only a digest is stored).
        let all_db_bytes = [
            db,
            std::fs::read(d.dir.join("arca.db-wal")).unwrap_or_default(),
        ]
        .concat();
        assert!(
            !contains(&all_db_bytes, d.admin_token.as_bytes()),
            "the admin token is stored in clear in arca.db"
        );
    }

    // A second init on the same directory refuses and leaves root.key alone.
    let again = run(
        arca()
            .arg("init")
            .arg("--data-dir")
            .arg(&d.dir)
            .args(init_args(d.database.as_ref())),
        COMMAND_TIMEOUT,
    );
    assert!(
        !again.status.success(),
        "a second `arca init` on an initialised directory must fail\n{}",
        again.describe()
    );
    assert!(
        !again.stderr.trim().is_empty(),
        "the refusal should say why on stderr"
    );
    assert_eq!(
        std::fs::read(&key).expect("read root.key"),
        key_bytes,
        "a refused init changed root.key"
    );
    assert_eq!(
        mode_of(&key),
        0o400,
        "a refused init changed root.key's mode"
    );
}

// ---------------------------------------------------------------------------------------
// (b) root.key permissions
// ---------------------------------------------------------------------------------------

#[test]
fn server_refuses_root_key_readable_or_writable_by_others() {
    let d = init();
    let key = d.root_key();
    let key_path = key.display().to_string();
    let mut problems = Vec::new();
    for mode in [
        0o444, 0o644, 0o640, 0o440, 0o620, 0o604, 0o602, 0o404, 0o420, 0o402,
    ] {
        set_mode(&key, mode);
        match Server::start_with(ServerOpts::new(&d.dir)) {
            Ok(mut s) => {
                s.kill9();
                problems.push(format!("mode {mode:04o}: the server started"));
            }
            Err(f) => {
                let mode_str = format!("{mode:04o}");
                let mut missing = Vec::new();
                if f.status.is_none_or(|s| s.success()) {
                    missing.push(format!("a non-zero exit (got {:?})", f.status));
                }
                if !f.stderr.contains(&key_path) {
                    missing.push(format!("the path {key_path}"));
                }
                if !f.stderr.contains(&mode_str) {
                    missing.push(format!("the mode {mode_str}"));
                }
                if !f.stderr.contains("chmod 0400") {
                    missing.push("the fix `chmod 0400`".to_string());
                }
                if !missing.is_empty() {
                    problems.push(format!(
                        "mode {mode:04o}: refusal lacks {}; stderr was:\n{}",
                        missing.join(", "),
                        f.stderr
                    ));
                }
            }
        }
    }
    set_mode(&key, 0o400);
    let server = Server::start_with(ServerOpts::new(&d.dir));
    if let Err(f) = &server {
        problems.push(format!(
            "mode 0400: the server did not start\n{}",
            f.describe()
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// ---------------------------------------------------------------------------------------
// (c) durability across SIGKILL
// ---------------------------------------------------------------------------------------

/// Concurrent stores in the burst that is SIGKILLed mid-flight (after the 5th 201).
const BURST: usize = 200;

#[test]
fn acknowledged_writes_survive_sigkill() {
    let d = init();
    let rt = rt();
    let client = http();
    let token = d.admin_token.clone();
    let mut expected: Vec<(String, String)> = Vec::new(); // (id, payload)

    // 1. Twenty concurrent stores, all acknowledged; then one more and SIGKILL on its 201.
    let mut server = Server::start(&d.dir);
    let url = server.url.clone();
    rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..20 {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            set.spawn(async move {
                let payload = format!("concurrent-{i}");
                let r = store_text(&client, &url, &token, &format!("c{i}"), &payload).await;
                (payload, r)
            });
        }
        while let Some(joined) = set.join_next().await {
            let (payload, r) = joined.expect("task");
            let secret_ref = r.unwrap_or_else(|(s, b)| panic!("store {payload}: {s} {b}"));
            expected.push((secret_id(&secret_ref), payload));
        }
        let secret_ref = store_text(&client, &url, &token, "x", "hello")
            .await
            .unwrap_or_else(|(s, b)| panic!("store hello: {s} {b}"));
        server.kill9(); // immediately after the 201
        expected.push((secret_id(&secret_ref), "hello".into()));
    });

    // 2. A burst of concurrent stores, SIGKILL as soon as the 5th is acknowledged: every
    //    store the client saw a 201 for must survive, whatever happened to the others.
    let mut server = Server::start(&d.dir);
    let url = server.url.clone();
    let burst_acked = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut set = tokio::task::JoinSet::new();
        for i in 0..BURST {
            let (client, url, token, tx) = (client.clone(), url.clone(), token.clone(), tx.clone());
            set.spawn(async move {
                let payload = format!("burst-{i}");
                if let Ok(secret_ref) =
                    store_text(&client, &url, &token, &format!("b{i}"), &payload).await
                {
                    let _ = tx.send((secret_id(&secret_ref), payload));
                }
            });
        }
        drop(tx);
        let mut acked = Vec::new();
        while let Some(item) = rx.recv().await {
            acked.push(item);
            if acked.len() == 5 {
                server.kill9();
            }
        }
        while set.join_next().await.is_some() {}
        acked
    });
    println!(
        "burst: {} of {BURST} stores acknowledged before/around the SIGKILL",
        burst_acked.len()
    );
    assert!(
        burst_acked.len() >= 5,
        "only {} of {BURST} burst stores were acknowledged",
        burst_acked.len()
    );
    expected.extend(burst_acked);

    // 3. Restart on the same directory: every acknowledged secret reads back.
    let server = Server::start(&d.dir);
    let mut lost = Vec::new();
    rt.block_on(async {
        for (id, payload) in &expected {
            let (status, body) = get_payload(&client, &server.url, &token, id).await;
            if status != 200 || body != payload.as_bytes() {
                lost.push(format!(
                    "{id} ({payload}): {status} {}",
                    String::from_utf8_lossy(&body)
                ));
            }
        }
    });
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged secrets were lost or wrong after SIGKILL:\n{}\n--- server stderr ---\n{}",
        lost.len(),
        expected.len(),
        lost.join("\n"),
        server.stderr()
    );
}

// ---------------------------------------------------------------------------------------
// (d) ciphertexts are bound to their secret
// ---------------------------------------------------------------------------------------

#[test]
fn swapped_or_flipped_ciphertexts_are_refused_as_integrity_errors() {
    let d = init();
    let rt = rt();
    let client = http();
    let token = d.admin_token.clone();
    let (alpha, bravo, charlie) = (
        "alpha-payload-0123456789",
        "bravo-payload-9876543210",
        "charlie-payload-abcdef",
    );

    let mut server = Server::start(&d.dir);
    let url = server.url.clone();
    let ids: Vec<String> = rt.block_on(async {
        let mut ids = Vec::new();
        for (name, payload) in [("a", alpha), ("b", bravo), ("c", charlie)] {
            let r = store_text(&client, &url, &token, name, payload)
                .await
                .unwrap_or_else(|(s, b)| panic!("store {name}: {s} {b}"));
            ids.push(secret_id(&r));
        }
        // Sanity: they read back before tampering.
        for (id, payload) in ids.iter().zip([alpha, bravo, charlie]) {
            let (status, body) = get_payload(&client, &url, &token, id).await;
            assert_eq!(
                (status, body.as_slice()),
                (200, payload.as_bytes()),
                "payload of {id} before tampering"
            );
        }
        ids
    });
    server.stop();

    // Swap the ciphertexts of a and b; flip one bit in the last byte of c's.
    match &d.database {
        Some(db) => rt.block_on(tamper_postgres(&db.url, &ids)),
        None => rt.block_on(tamper(&d.db(), &ids)),
    }

    let server = Server::start(&d.dir);
    let mut problems = Vec::new();
    rt.block_on(async {
        let others = [[bravo, charlie], [alpha, charlie], [alpha, bravo]];
        for ((id, own), others) in ids.iter().zip([alpha, bravo, charlie]).zip(others) {
            let (status, body) = get_payload(&client, &server.url, &token, id).await;
            let text = String::from_utf8_lossy(&body).to_string();
            if (200..300).contains(&status) {
                problems.push(format!(
                    "{id}: tampered ciphertext answered {status} with {text:?}"
                ));
                continue;
            }
            for leaked in others.iter().chain([&own]) {
                if text.contains(leaked) {
                    problems.push(format!("{id}: the error body leaks {leaked:?}: {text}"));
                }
            }
            if !text.to_lowercase().contains("integrity") {
                problems.push(format!(
                    "{id}: status {status}, body does not mention \"integrity\": {text}"
                ));
            }
        }
    });
    assert!(
        problems.is_empty(),
        "{}\n--- server stderr ---\n{}",
        problems.join("\n"),
        server.stderr()
    );
    // Nothing should have panicked in the server.
    assert!(
        !server.stderr().contains("panicked"),
        "server panicked:\n{}",
        server.stderr()
    );
}

/// [`tamper`] on PostgreSQL: the same swap and bit flip in the data directory's database.
async fn tamper_postgres(url: &str, ids: &[String]) {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    let mut blobs: HashMap<String, Vec<u8>> = HashMap::new();
    for row in sqlx::query("SELECT secret_id, ciphertext FROM secret_payloads")
        .fetch_all(&mut conn)
        .await
        .expect("SELECT secret_id, ciphertext FROM secret_payloads")
    {
        blobs.insert(row.get("secret_id"), row.get("ciphertext"));
    }
    let blob = |id: &String| blobs.get(id).cloned().expect("a secret_payloads row");
    let (a, b, mut c) = (blob(&ids[0]), blob(&ids[1]), blob(&ids[2]));
    assert_ne!(a, b, "two secrets have the same ciphertext");
    *c.last_mut().expect("empty ciphertext") ^= 0x01;
    for (id, new) in [(&ids[0], b), (&ids[1], a), (&ids[2], c)] {
        let done = sqlx::query("UPDATE secret_payloads SET ciphertext = $1 WHERE secret_id = $2")
            .bind(new)
            .bind(id.as_str())
            .execute(&mut conn)
            .await
            .expect("UPDATE secret_payloads");
        assert_eq!(done.rows_affected(), 1, "update of {id}");
    }
    conn.close().await.expect("close");
}

async fn tamper(db: &Path, ids: &[String]) {
    use sqlx::{Connection, Row};
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
    let rows = sqlx::query("SELECT secret_id, ciphertext FROM secret_payloads")
        .fetch_all(&mut conn)
        .await
        .expect("SELECT secret_id, ciphertext FROM secret_payloads");
    let blobs: HashMap<String, Vec<u8>> = rows
        .iter()
        .map(|r| {
            (
                r.get::<String, _>("secret_id"),
                r.get::<Vec<u8>, _>("ciphertext"),
            )
        })
        .collect();
    let blob = |id: &String| {
        blobs.get(id).cloned().unwrap_or_else(|| {
            panic!(
                "no secret_payloads row for {id}; rows: {:?}",
                blobs.keys().collect::<Vec<_>>()
            )
        })
    };
    let (a, b, mut c) = (blob(&ids[0]), blob(&ids[1]), blob(&ids[2]));
    assert_ne!(a, b, "two secrets have the same ciphertext");
    *c.last_mut().expect("empty ciphertext") ^= 0x01;
    let mut tx = conn.begin().await.expect("begin");
    for (id, new) in [(&ids[0], b), (&ids[1], a), (&ids[2], c)] {
        // SQLite keeps the payload in the secret's row; `secret_payloads` is a read-only view of it.
        let done = sqlx::query("UPDATE secrets SET payload = ? WHERE id = ?")
            .bind(new)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .expect("UPDATE secrets SET payload");
        assert_eq!(done.rows_affected(), 1, "update of {id}");
    }
    tx.commit().await.expect("commit");
    conn.close().await.expect("close");
}

// ---------------------------------------------------------------------------------------
// (e) non-loopback bind
// ---------------------------------------------------------------------------------------

#[test]
fn non_loopback_bind_needs_insecure_http() {
    let d = init();
    match Server::start_with(ServerOpts::new(&d.dir).env("ARCA_API_LISTEN", "0.0.0.0:0")) {
        Ok(mut s) => {
            let url = s.url.clone();
            s.kill9();
            panic!("the server bound a non-loopback address without --insecure-http ({url})");
        }
        Err(f) => {
            assert!(
                f.status.is_some_and(|s| !s.success()),
                "expected a non-zero exit\n{}",
                f.describe()
            );
            assert!(
                f.stderr.contains("--insecure-http"),
                "the refusal should name the flag --insecure-http\n{}",
                f.describe()
            );
        }
    }

    // With the flag it starts (the test talks to it over loopback only).
    let s = Server::start_with(
        ServerOpts::new(&d.dir)
            .env("ARCA_API_LISTEN", "0.0.0.0:0")
            .arg("--insecure-http"),
    )
    .unwrap_or_else(|f| panic!("--insecure-http did not start the server\n{}", f.describe()));
    let port = s.url.rsplit(':').next().expect("port").to_string();
    let status = rt().block_on(async {
        http()
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    assert!(
        status.is_ok(),
        "server on 0.0.0.0:{port} did not answer on loopback: {status:?}"
    );
}

#[test]
fn trusted_headers_on_a_non_loopback_address_needs_explicit_consent() {
    let d = init();
    let opts = || {
        ServerOpts::new(&d.dir)
            .env("ARCA_API_LISTEN", "0.0.0.0:0")
            .env("ARCA_AUTH_MODE", "trusted-headers")
            .arg("--insecure-http")
    };
    match Server::start_with(opts()) {
        Ok(mut s) => {
            s.kill9();
            panic!("trusted-headers mode listened on a non-loopback address without consent");
        }
        Err(f) => assert!(
            f.stderr.contains("trusted_headers_remote"),
            "the refusal should name the setting\n{}",
            f.describe()
        ),
    }
    let mut s = Server::start_with(opts().env("ARCA_AUTH_TRUSTED_HEADERS_REMOTE", "true"))
        .unwrap_or_else(|f| {
            panic!(
                "explicit consent did not start the server\n{}",
                f.describe()
            )
        });
    s.stop();
}

// ---------------------------------------------------------------------------------------
// tokens
// ---------------------------------------------------------------------------------------

#[test]
fn tokens_authenticate_and_scope_to_their_project() {
    let d = init();
    let server = Server::start(&d.dir);
    // Made while the server runs.
    let alice = token_create(&d.dir, "proj-alice", "alice", "creator");
    let client = http();
    let url = server.url.clone();
    let admin = d.admin_token.clone();
    rt().block_on(async {
        let list = |hdr: Option<(&'static str, String)>| {
            let mut req = client.get(format!("{url}/v1/secrets"));
            if let Some((k, v)) = hdr {
                req = req.header(k, v);
            }
            async move { req.send().await.expect("GET /v1/secrets").status().as_u16() }
        };
        assert_eq!(
            list(Some(("X-Auth-Token", admin.clone()))).await,
            200,
            "admin token, X-Auth-Token"
        );
        assert_eq!(
            list(Some(("Authorization", format!("Bearer {admin}")))).await,
            200,
            "Authorization: Bearer"
        );
        assert_eq!(
            list(Some(("X-Auth-Token", alice.clone()))).await,
            200,
            "token from `arca token create`"
        );
        assert_eq!(list(None).await, 401, "no token");
        assert_eq!(
            list(Some(("X-Auth-Token", format!("{admin}x")))).await,
            401,
            "wrong token"
        );

        let a_ref = store_text(&client, &url, &alice, "alice-secret", "alice-only")
            .await
            .unwrap_or_else(|(s, b)| panic!("creator store: {s} {b}"));
        let (status, body) = get_payload(&client, &url, &alice, &secret_id(&a_ref)).await;
        assert_eq!(
            (status, body.as_slice()),
            (200, &b"alice-only"[..]),
            "creator reads own payload"
        );

        let admin_ref = store_text(&client, &url, &admin, "admin-secret", "admin-only")
            .await
            .unwrap_or_else(|(s, b)| panic!("admin store: {s} {b}"));
        let (status, body) = get_payload(&client, &url, &alice, &secret_id(&admin_ref)).await;
        assert!(
            !(200..300).contains(&status) && !String::from_utf8_lossy(&body).contains("admin-only"),
            "another project's secret must not be readable: {status} {}",
            String::from_utf8_lossy(&body)
        );
    });
}

// ---------------------------------------------------------------------------------------
// (f) `arca secret …` client commands
// ---------------------------------------------------------------------------------------

#[test]
fn secret_client_commands_round_trip() {
    let d = init();
    let server = Server::start(&d.dir);
    let client_cmd = |args: &[&str]| {
        let mut cmd = arca();
        cmd.args(args)
            .env("ARCA_URL", &server.url)
            .env("ARCA_TOKEN", &d.admin_token);
        run(&mut cmd, COMMAND_TIMEOUT)
    };
    let payload = "hello from arca secret store \u{2713}";

    let stored = client_cmd(&["secret", "store", "--payload", payload, "--name", "cli-one"])
        .ok("arca secret store");
    let secret_ref = stored.last_line();
    assert!(
        secret_ref.starts_with(&format!("{}/v1/secrets/", server.url)),
        "`arca secret store` should print the secret ref last, got {secret_ref:?}\n{}",
        stored.describe()
    );
    let id = secret_id(&secret_ref);

    let meta = client_cmd(&["secret", "get", &secret_ref]).ok("arca secret get");
    assert!(
        meta.stdout_str().contains("cli-one"),
        "metadata should show the name\n{}",
        meta.describe()
    );

    for by in [secret_ref.as_str(), id.as_str()] {
        let got = client_cmd(&["secret", "get", by, "--payload"]).ok("arca secret get --payload");
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            payload,
            "`arca secret get {by} --payload` should print exactly the payload bytes"
        );
    }

    let typed = client_cmd(&[
        "secret",
        "store",
        "--payload",
        "correct horse",
        "--name",
        "cli-two",
        "--secret-type",
        "passphrase",
        "--payload-content-type",
        "text/plain",
    ])
    .ok("arca secret store --secret-type passphrase");
    let typed_ref = typed.last_line();
    let meta = client_cmd(&["secret", "get", &typed_ref]).ok("arca secret get (passphrase)");
    assert!(
        meta.stdout_str().contains("passphrase"),
        "metadata should show the secret type\n{}",
        meta.describe()
    );

    let list = client_cmd(&["secret", "list"]).ok("arca secret list");
    let listed = list.stdout_str();
    assert!(
        listed.contains(&id) && listed.contains(&secret_id(&typed_ref)),
        "`arca secret list` should show both secrets\n{}",
        list.describe()
    );

    client_cmd(&["secret", "delete", &secret_ref]).ok("arca secret delete");
    let gone = client_cmd(&["secret", "get", &secret_ref, "--payload"]);
    assert!(
        !gone.status.success(),
        "get after delete should fail\n{}",
        gone.describe()
    );
    assert!(
        !gone.stdout_str().contains(payload),
        "get after delete printed the payload"
    );
    let list = client_cmd(&["secret", "list"]).ok("arca secret list");
    assert!(
        !list.stdout_str().contains(&id),
        "deleted secret still listed\n{}",
        list.describe()
    );

    // Without a token the client fails with a message, not a panic.
    let mut cmd = arca();
    cmd.args(["secret", "list"]).env("ARCA_URL", &server.url);
    let anon = run(&mut cmd, COMMAND_TIMEOUT);
    assert!(
        !anon.status.success(),
        "`arca secret list` without ARCA_TOKEN should fail\n{}",
        anon.describe()
    );
    assert!(
        !anon.stderr.contains("panicked"),
        "the client panicked\n{}",
        anon.describe()
    );
}

// ---------------------------------------------------------------------------------------
// (g) `arca server --dev`
// ---------------------------------------------------------------------------------------

#[test]
fn dev_mode_initialises_arca_data_in_the_working_directory() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let data = cwd.path().join("arca-data");
    let opts = ServerOpts::default().arg("--dev").cwd(cwd.path());

    let mut server = Server::start_with(opts.clone())
        .unwrap_or_else(|f| panic!("`arca server --dev` did not start\n{}", f.describe()));
    // Give the process a moment to finish printing after the listening line.
    std::thread::sleep(Duration::from_millis(300));
    let output = format!("{}\n{}", server.stdout(), server.stderr());
    assert!(data.is_dir(), "--dev did not create ./arca-data\n{output}");
    assert_eq!(mode_of(&data), 0o700, "./arca-data mode");
    let key = data.join("root.key");
    assert_eq!(mode_of(&key), 0o400, "./arca-data/root.key mode");
    assert!(
        output.contains("arca-data") && output.to_lowercase().contains("token"),
        "--dev should print where the admin token is (mentioning arca-data)\n{output}"
    );

    // If the output names a token file, the token in it must work.
    let token_file = output
        .split(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '(' | ')' | ','))
        .map(|w| w.trim_end_matches(['.', ':', ';']))
        .filter(|w| w.contains("arca-data"))
        .map(|w| {
            if Path::new(w).is_absolute() {
                w.into()
            } else {
                cwd.path().join(w)
            }
        })
        .find(|p| {
            p.is_file()
                && !matches!(
                    p.file_name().and_then(|n| n.to_str()),
                    Some("root.key" | "arca.toml" | "arca.db")
                )
        });
    if let Some(file) = token_file {
        let token = std::fs::read_to_string(&file).expect("read token file");
        let token = token
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or_default()
            .to_string();
        let status = rt().block_on(async {
            http()
                .get(format!("{}/v1/secrets", server.url))
                .header("X-Auth-Token", token)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        assert_eq!(
            status.ok(),
            Some(200),
            "the token in {} should list secrets",
            file.display()
        );
    }
    let key_bytes = std::fs::read(&key).expect("read root.key");
    server.kill9();

    // A second --dev run reuses ./arca-data.
    let mut again = Server::start_with(opts).unwrap_or_else(|f| {
        panic!(
            "a second `arca server --dev` did not start\n{}",
            f.describe()
        )
    });
    again.kill9();
    assert_eq!(
        std::fs::read(&key).expect("read root.key"),
        key_bytes,
        "--dev re-initialised ./arca-data"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_revoked_token_is_refused() {
    let d = init();
    // No token cache, so the revocation bites on the next request.
    let server = Server::start_with(ServerOpts::new(&d.dir).env("ARCA_AUTH_TOKEN_CACHE_TTL", "0"))
        .unwrap_or_else(|f| panic!("server did not start\n{}", f.describe()));
    let bob = token_create(&d.dir, "proj-bob", "bob", "creator");
    let id = bob.split('_').nth(1).expect("token id").to_owned();
    let client = http();
    let status = |token: String| {
        let req = client
            .get(format!("{}/v1/secrets", server.url))
            .header("X-Auth-Token", token);
        async move { req.send().await.expect("GET /v1/secrets").status().as_u16() }
    };
    assert_eq!(rt().block_on(status(bob.clone())), 200);
    let out = run(
        arca().args([
            "token",
            "revoke",
            "--data-dir",
            d.dir.to_str().unwrap(),
            &id,
        ]),
        Duration::from_secs(30),
    )
    .ok("arca token revoke");
    assert!(out.stdout_str().contains(&id), "{}", out.describe());
    assert_eq!(
        rt().block_on(status(bob)),
        401,
        "a revoked token must be refused"
    );
    let unknown = run(
        arca().args([
            "token",
            "revoke",
            "--data-dir",
            d.dir.to_str().unwrap(),
            "0123456789abcdef",
        ]),
        Duration::from_secs(30),
    );
    assert!(
        !unknown.status.success(),
        "revoking an unknown token must fail\n{}",
        unknown.describe()
    );
}
