//! Key rotation against the real binary while a server serves the same data directory: `arca root rotate`
//! SIGKILLed mid-way and rerun (every secret of 1,000 projects still reads through the server, the audit chain
//! verifies, root.key ends with only the new version), and `arca project rotate-kek` (new secrets sealed under
//! version 2, old ones still read, the server's background rewrap moving every payload and the KMS key
//! material to version 2, the KMS key still working after a restart).

mod common;
use common::*;

use std::path::Path;
use std::time::{Duration, Instant};

const PROJECTS: usize = 1_000;

/// The data directory's database (the server and the rotation write it).
fn db(dir: &Path) -> DbProbe {
    DbProbe::of(dir)
}

fn count(conn: &DbProbe, sql: &str) -> i64 {
    conn.count(sql)
}

fn th(rb: reqwest::RequestBuilder, project: &str) -> reqwest::RequestBuilder {
    rb.header("X-Project-Id", project)
        .header("X-User-Id", "u")
        .header("X-Roles", "admin")
}

async fn create(http: &reqwest::Client, url: &str, project: &str, value: &str) -> String {
    let resp = send(
        th(http.post(format!("{url}/v1/secrets")), project).json(&json!({
            "name": "s",
            "payload": value,
            "payload_content_type": "text/plain",
        })),
    )
    .await;
    assert_eq!(resp.status, 201, "{}", resp.text());
    secret_id(resp.json()["secret_ref"].as_str().unwrap())
}

async fn payload(http: &reqwest::Client, url: &str, project: &str, id: &str) -> String {
    let resp = send(
        th(http.get(format!("{url}/v1/secrets/{id}/payload")), project)
            .header("Accept", "text/plain"),
    )
    .await;
    assert_eq!(resp.status, 200, "{project}/{id}: {}", resp.text());
    resp.text()
}

fn rotate_cmd(dir: &Path, batch: &str) -> std::process::Command {
    let mut cmd = arca();
    cmd.args(["root", "rotate", "--data-dir"])
        .arg(dir)
        .args(["--batch", batch, "--settle", "3"]);
    cmd
}

#[test]
fn root_rotation_survives_sigkill_and_a_rerun_finishes_it_while_serving() {
    let server = Arca::start_trusted_headers();
    let dir = server.data_dir();
    let url = server.base_url.clone();
    let rt = rt();
    let http = server.http.clone();
    let created: Vec<(String, String)> = rt.block_on(async {
        let mut out = Vec::new();
        for chunk in (0..PROJECTS).collect::<Vec<_>>().chunks(50) {
            let mut tasks = tokio::task::JoinSet::new();
            for &i in chunk {
                let (http, url) = (http.clone(), url.clone());
                tasks.spawn(async move {
                    let project = format!("proj-{i}");
                    let id = create(&http, &url, &project, &format!("value {i}")).await;
                    (project, id)
                });
            }
            while let Some(done) = tasks.join_next().await {
                out.push(done.unwrap());
            }
        }
        out
    });
    let conn = db(&dir);
    // The admin project of `arca init` has no KEK; the 1,000 projects have one each.
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM project_keks WHERE rk_version = 1"
        ),
        PROJECTS as i64
    );

    // Rotate in small batches and SIGKILL once some batches are committed, well before the end.
    let mut child = rotate_cmd(&dir, "5")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start arca root rotate");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let moved = count(
            &conn,
            "SELECT COUNT(*) FROM project_keks WHERE rk_version = 2",
        );
        if moved >= 50 {
            break;
        }
        assert!(Instant::now() < deadline, "the rotation made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "arca root rotate exited early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = count(
        &conn,
        "SELECT COUNT(*) FROM project_keks WHERE rk_version = 1",
    );
    assert!(
        left > 0,
        "killed mid-way: some rows are still under version 1"
    );
    let root_key = std::fs::read_to_string(dir.join("root.key")).unwrap();
    assert_eq!(
        root_key.lines().count(),
        2,
        "the new version is added, the old not retired"
    );

    // The server keeps serving meanwhile, old and new projects alike (it reloads the root key on its own).
    let during: Vec<(String, String)> = rt.block_on(async {
        let mut out = Vec::new();
        for i in 0..5 {
            let project = format!("during-{i}");
            out.push((
                project.clone(),
                create(&http, &url, &project, &project).await,
            ));
            let (project, id) = &created[i * 100];
            let n = project.trim_start_matches("proj-");
            assert_eq!(
                payload(&http, &url, project, id).await,
                format!("value {n}")
            );
        }
        out
    });

    // The rerun finishes the pending rotation instead of adding yet another version.
    let rerun = run(&mut rotate_cmd(&dir, "100"), COMMAND_TIMEOUT).ok("arca root rotate (rerun)");
    let said = rerun.stdout_str();
    assert!(
        said.contains("rotated to version 2") && said.contains("finished a pending rotation"),
        "{said}"
    );
    let root_key = std::fs::read_to_string(dir.join("root.key")).unwrap();
    assert_eq!(root_key.lines().count(), 1, "{root_key:.2}…");
    assert!(root_key.starts_with("2 "), "only version 2 is left");
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM project_keks WHERE rk_version <> 2"
        ),
        0
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM system_keys WHERE rk_version <> 2"
        ),
        0
    );

    // Every secret reads back through the running server.
    rt.block_on(async {
        for chunk in created.chunks(50) {
            let mut tasks = tokio::task::JoinSet::new();
            for (project, id) in chunk {
                let (http, url) = (http.clone(), url.clone());
                let (project, id) = (project.clone(), id.clone());
                tasks.spawn(async move {
                    let n = project.trim_start_matches("proj-").to_owned();
                    assert_eq!(
                        payload(&http, &url, &project, &id).await,
                        format!("value {n}")
                    );
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        }
        for (project, id) in &during {
            assert_eq!(&payload(&http, &url, project, id).await, project);
        }
        // And new projects get KEKs wrapped under version 2.
        create(&http, &url, "after", "after").await;
    });
    assert_eq!(
        count(
            &conn,
            "SELECT rk_version FROM project_keks WHERE project_id = 'after'"
        ),
        2
    );
    let verify = run(
        arca().args(["audit", "verify", "--data-dir"]).arg(&dir),
        COMMAND_TIMEOUT,
    )
    .ok("arca audit verify");
    assert!(
        verify.stdout_str().contains("audit chain OK"),
        "{}",
        verify.describe()
    );
    let starts = count(
        &conn,
        "SELECT COUNT(*) FROM audit_log WHERE event LIKE '%root.rotate.start%'",
    );
    let finishes = count(
        &conn,
        "SELECT COUNT(*) FROM audit_log WHERE event LIKE '%root.rotate.finish%' AND event LIKE '%retired 1%'",
    );
    assert_eq!((starts, finishes), (2, 1));
}

/// `arca key ARGS…` against `url` with these credentials.
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

/// The PKEK version of every sealed payload of `project`, and of every KMS key version.
fn sealed_versions(conn: &DbProbe, project: &str) -> (Vec<u32>, Vec<u32>) {
    // The first five bytes of each blob (format byte, big-endian version), hex-encoded in SQL.
    let hex = |column: &str| {
        if on_postgres() {
            format!("encode(substring({column} from 1 for 5), 'hex')")
        } else {
            format!("hex(substr({column}, 1, 5))")
        }
    };
    let versions = |sql: String| -> Vec<u32> {
        conn.texts(&sql)
            .iter()
            .map(|h| {
                let h = h.to_ascii_lowercase();
                assert_eq!(&h[..2], "01", "format byte");
                u32::from_str_radix(&h[2..10], 16).unwrap()
            })
            .collect()
    };
    (
        versions(format!(
            "SELECT {} FROM secret_payloads p JOIN secrets s ON s.id = p.secret_id \
             WHERE s.project_id = '{project}' ORDER BY s.created",
            hex("p.ciphertext")
        )),
        versions(format!(
            "SELECT {} FROM kms_key_versions v JOIN kms_keys k ON k.id = v.key_id \
             WHERE k.project_id = '{project}'",
            hex("v.material")
        )),
    )
}

#[test]
fn project_kek_rotation_and_the_background_rewrap_while_serving() {
    let mut server = Arca::start_trusted_headers();
    let dir = server.data_dir();
    let url = server.base_url.clone();
    let rt = rt();
    let http = server.http.clone();
    let out = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(&dir)
            .args(["--project", "kp", "--user", "u", "--roles", "admin"]),
        COMMAND_TIMEOUT,
    )
    .ok("arca access-key create");
    let last = out.last_line();
    let (id, secret) = last.split_once(' ').unwrap();
    let creds = (id.to_owned(), secret.to_owned());
    let key = key_cmd(&url, &creds, &["create"])
        .ok("key create")
        .last_line();
    let blob = key_cmd(&url, &creds, &["encrypt", &key, "--plaintext", "kms data"])
        .ok("key encrypt")
        .last_line();
    let old: Vec<String> = rt.block_on(async {
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(create(&http, &url, "kp", &format!("old {i}")).await);
        }
        ids
    });
    let conn = db(&dir);
    assert_eq!(sealed_versions(&conn, "kp"), (vec![1; 5], vec![1]));

    let rotated = run(
        arca()
            .args(["project", "rotate-kek", "--data-dir"])
            .arg(&dir)
            .args(["--project", "kp"]),
        COMMAND_TIMEOUT,
    )
    .ok("arca project rotate-kek");
    assert!(
        rotated.stdout_str().contains("KEK version 2"),
        "{}",
        rotated.describe()
    );

    // The server notices the new version within its active-version TTL (5 s); new secrets use it, old ones
    // still read (until the background rewrap moves them, which it does within seconds).
    std::thread::sleep(Duration::from_secs(6));
    let new = rt.block_on(create(&http, &url, "kp", "new"));
    let new_version = count(
        &conn,
        &if on_postgres() {
            format!(
                "SELECT CASE WHEN substring(ciphertext from 2 for 4) = '\\x00000002'::bytea THEN 1 ELSE 0 END \
                 FROM secret_payloads WHERE secret_id = '{new}'"
            )
        } else {
            format!(
                "SELECT substr(ciphertext, 2, 4) = x'00000002' FROM secret_payloads WHERE secret_id = '{new}'"
            )
        },
    );
    assert_eq!(new_version, 1, "the new secret is sealed under version 2");
    rt.block_on(async {
        for (i, id) in old.iter().enumerate() {
            assert_eq!(payload(&http, &url, "kp", id).await, format!("old {i}"));
        }
    });

    // The background rewrap moves everything to version 2 and closes the project.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (payloads, kms) = sealed_versions(&conn, "kp");
        let pending = count(&conn, "SELECT COUNT(*) FROM pkek_rewraps");
        if payloads.iter().chain(&kms).all(|v| *v == 2) && pending == 0 {
            assert_eq!((payloads.len(), kms.len()), (6, 1));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rewrap did not finish: {payloads:?} {kms:?} {pending}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // After a restart (no cached keys or material) everything still reads and the KMS key still works.
    server.server.stop();
    let restarted =
        Server::start_with(ServerOpts::new(&dir).env("ARCA_AUTH_MODE", "trusted-headers"))
            .unwrap_or_else(|f| panic!("restart\n{}", f.describe()));
    let url = restarted.url.clone();
    rt.block_on(async {
        for (i, id) in old.iter().enumerate() {
            assert_eq!(payload(&http, &url, "kp", id).await, format!("old {i}"));
        }
        assert_eq!(payload(&http, &url, "kp", &new).await, "new");
    });
    let plain = key_cmd(&url, &creds, &["decrypt", "--ciphertext", &blob]).ok("key decrypt");
    assert_eq!(plain.stdout, b"kms data");
    let blob2 = key_cmd(&url, &creds, &["encrypt", &key, "--plaintext", "more"])
        .ok("key encrypt after the rewrap")
        .last_line();
    let plain = key_cmd(&url, &creds, &["decrypt", "--ciphertext", &blob2]).ok("key decrypt");
    assert_eq!(plain.stdout, b"more");
    run(
        arca().args(["audit", "verify", "--data-dir"]).arg(&dir),
        COMMAND_TIMEOUT,
    )
    .ok("arca audit verify");
    let audited = count(
        &conn,
        "SELECT COUNT(*) FROM audit_log WHERE event LIKE '%project.kek.rotate%' OR event LIKE '%project.kek.rewrapped%'",
    );
    assert_eq!(audited, 2);
}
