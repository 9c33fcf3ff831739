//! `arca backup`, `arca restore` and `arca root export|import` against the real binary: a backup taken while the
//! server is under a write load restores into a fresh data directory holding a copy of root.key, and a server
//! on it serves every secret byte-identical (text and binary, several projects) and decrypts an old KMS
//! ciphertext; a restore under another root key, without one, into a non-empty directory or from a tampered
//! file is refused before anything is written; a root key export round-trips through its passphrase, is
//! refused with a wrong one and holds no key bytes.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Stored {
    id: String,
    token: String,
    bytes: Vec<u8>,
    text: bool,
}

/// POST a secret (text or binary) and return it as stored.
async fn store(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    bytes: Vec<u8>,
    text: bool,
) -> Stored {
    let body = if text {
        json!({"payload": String::from_utf8(bytes.clone()).unwrap(), "payload_content_type": "text/plain"})
    } else {
        json!({"payload": b64(&bytes), "payload_content_type": "application/octet-stream",
               "payload_content_encoding": "base64"})
    };
    let r = send(
        http.post(format!("{base}/v1/secrets"))
            .header("X-Auth-Token", token)
            .json(&body),
    )
    .await;
    assert_eq!(r.status, 201, "store: {}", r.text());
    Stored {
        id: secret_id(r.json()["secret_ref"].as_str().unwrap()),
        token: token.to_owned(),
        bytes,
        text,
    }
}

/// GET a secret's payload: Some(bytes) or None on 404.
async fn payload(http: &reqwest::Client, base: &str, s: &Stored) -> Option<Vec<u8>> {
    let accept = if s.text {
        "text/plain"
    } else {
        "application/octet-stream"
    };
    let r = send(
        http.get(format!("{base}/v1/secrets/{}/payload", s.id))
            .header("X-Auth-Token", &s.token)
            .header("Accept", accept),
    )
    .await;
    match r.status {
        200 => Some(r.body),
        404 => None,
        other => panic!("GET payload of {}: {other} {}", s.id, r.text()),
    }
}

fn access_key(dir: &Path, project: &str) -> (String, String) {
    let out = run(
        arca()
            .args(["access-key", "create", "--data-dir"])
            .arg(dir)
            .args(["--project", project, "--user", "kms", "--roles", "creator"]),
        COMMAND_TIMEOUT,
    )
    .ok("arca access-key create");
    let last = out.last_line();
    let (id, secret) = last.split_once(' ').expect("`<id> <secret>`");
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

fn restore(dir: &Path, from: &Path) -> Run {
    run(
        arca()
            .args(["restore", "--data-dir"])
            .arg(dir)
            .arg("--from")
            .arg(from),
        COMMAND_TIMEOUT,
    )
}

/// The names in a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A new directory `name` under `parent` holding only a copy of `root_key` (mode 0400).
fn dir_with_root_key(parent: &Path, name: &str, root_key: &Path) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o700);
    std::fs::copy(root_key, dir.join("root.key")).unwrap();
    set_mode(&dir.join("root.key"), 0o400);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_under_write_load_restores_every_secret_byte_identical() {
    // `arca backup`/`restore` copy the SQLite file; a PostgreSQL deployment is backed up with PostgreSQL's tools,
    // and `arca backup` says so.
    if on_postgres() {
        let data = init();
        let out = run(
            arca()
                .args(["backup", "--data-dir"])
                .arg(&data.dir)
                .arg("--out")
                .arg(data.tmp.path().join("b.backup")),
            COMMAND_TIMEOUT,
        );
        assert!(!out.status.success(), "{}", out.describe());
        assert!(out.stderr.contains("pg_dump"), "{}", out.describe());
        assert!(!data.tmp.path().join("b.backup").exists());
        return;
    }
    let server = Arca::start();
    let work = tempfile::tempdir().unwrap();
    let http = server.http.clone();
    let base = server.base_url.clone();

    // Secrets in several projects, text and binary, enough pages for the backup to take many steps.
    let alpha = server.token("alpha", "alice", "creator");
    let beta = server.token("beta", "bob", "creator");
    let mut before: Vec<Stored> = Vec::new();
    for i in 0..120 {
        let (token, text) = match i % 3 {
            0 => (&alpha, true),
            1 => (&beta, false),
            _ => (&server.admin_token, false),
        };
        let bytes = if text {
            format!("text secret {i} ✓{}", "x".repeat(i * 50)).into_bytes()
        } else {
            random_non_utf8(1000 + i * 80)
        };
        let mut s = store(&http, &base, token, bytes, text).await;
        // What the original server serves is what the restored one must serve.
        s.bytes = payload(&http, &base, &s).await.expect("stored secret");
        before.push(s);
    }

    // A token revoked before the backup stays revoked after the restore.
    let revoked = server.token("alpha", "mallory", "creator");
    let revoked_id = revoked.split('_').nth(1).unwrap().to_owned();
    run(
        arca()
            .args(["token", "revoke", "--data-dir"])
            .arg(server.data_dir())
            .arg(&revoked_id),
        COMMAND_TIMEOUT,
    )
    .ok("arca token revoke");

    // A KMS key and a ciphertext made before the backup.
    let creds = access_key(&server.data_dir(), "alpha");
    let key = key_cmd(&base, &creds, &["create"])
        .ok("key create")
        .last_line();
    let blob = key_cmd(
        &base,
        &creds,
        &["encrypt", &key, "--plaintext", "kms survives restore"],
    )
    .ok("key encrypt")
    .last_line();

    // A write load that runs throughout the backup.
    let stop = Arc::new(AtomicBool::new(false));
    let during: Arc<Mutex<Vec<Stored>>> = Arc::default();
    let mut load = Vec::new();
    for w in 0..3 {
        let (stop, during, http, base) = (stop.clone(), during.clone(), http.clone(), base.clone());
        let token = if w % 2 == 0 {
            alpha.clone()
        } else {
            beta.clone()
        };
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let s = store(&http, &base, &token, random_bytes(3000), false).await;
                during.lock().unwrap().push(s);
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let acked_before_backup = during.lock().unwrap().len();
    let out = work.path().join("server.backup");
    let (data_dir, out2) = (server.data_dir(), out.clone());
    let backup = tokio::task::spawn_blocking(move || {
        run(
            arca()
                .args(["backup", "--data-dir"])
                .arg(&data_dir)
                .arg("--out")
                .arg(&out2),
            COMMAND_TIMEOUT,
        )
    })
    .await
    .unwrap()
    .ok("arca backup");
    let acked_after_backup = during.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    assert!(
        acked_after_backup > acked_before_backup,
        "stores must have completed while the backup ran ({acked_before_backup} → {acked_after_backup})"
    );
    assert_eq!(mode_of(&out), 0o600);
    let stdout = backup.stdout_str();
    assert!(
        stdout.contains("needs root key version 1 (KCV "),
        "{stdout}"
    );
    // The root key is not in the backup; the payloads stay sealed.
    let file = std::fs::read(&out).unwrap();
    let root_text = std::fs::read_to_string(server.data.root_key()).unwrap();
    let rk_b64 = root_text.split_whitespace().nth(1).unwrap();
    assert!(!file.windows(rk_b64.len()).any(|w| w == rk_b64.as_bytes()));
    let marker = b"text secret 3 ";
    assert!(
        !file.windows(marker.len()).any(|w| w == marker),
        "payloads are sealed in the backup"
    );

    // The manifest: counts and the KCV of root key version 1, as the backup printed it.
    let magic_len = b"ARCA-BACKUP\n".len() + 1;
    let mlen = u32::from_be_bytes(file[magic_len..magic_len + 4].try_into().unwrap()) as usize;
    let manifest: Value =
        serde_json::from_slice(&file[magic_len + 4..magic_len + 4 + mlen]).expect("JSON manifest");
    assert!(
        manifest["counts"]["secrets"].as_u64().unwrap() >= 120,
        "{manifest}"
    );
    assert!(
        manifest["counts"]["projects"].as_u64().unwrap() >= 3,
        "{manifest}"
    );
    assert_eq!(manifest["counts"]["kms_keys"], 1, "{manifest}");
    assert_eq!(manifest["root_keys"][0]["version"], 1, "{manifest}");
    let kcv = manifest["root_keys"][0]["kcv"].as_str().unwrap();
    assert!(stdout.contains(&format!("(KCV {kcv})")), "{stdout}");

    // Refused: no root of trust, another root key, a non-empty directory, tampered files. Nothing written.
    let empty = work.path().join("no-root");
    let r = restore(&empty, &out);
    assert!(!r.status.success());
    assert!(
        r.stderr.contains("root key version 1 with KCV") && r.stderr.contains("root.key"),
        "{}",
        r.describe()
    );
    assert!(!empty.exists() || entries(&empty).is_empty());

    let other = init();
    let wrong = dir_with_root_key(work.path(), "wrong-root", &other.root_key());
    let r = restore(&wrong, &out);
    assert!(!r.status.success());
    assert!(
        r.stderr
            .contains("this backup was made under root key version 1 with KCV")
            && r.stderr.contains("the root of trust here does not match"),
        "{}",
        r.describe()
    );
    assert_eq!(entries(&wrong), ["root.key"], "nothing written");

    let busy = dir_with_root_key(work.path(), "busy", &server.data.root_key());
    std::fs::write(busy.join("leftover.db"), b"x").unwrap();
    let r = restore(&busy, &out);
    assert!(!r.status.success());
    assert!(
        r.stderr.contains("not empty") && r.stderr.contains("leftover.db"),
        "{}",
        r.describe()
    );

    // A byte changed in the manifest (the MAC catches it) and in the snapshot (the digest catches it).
    let manifest_at = file.windows(7).position(|w| w == b"created").unwrap() + 12;
    for (what, at) in [("manifest", manifest_at), ("snapshot", file.len() - 100)] {
        let mut bad = file.clone();
        bad[at] ^= 0x01;
        let bad_path = work.path().join(format!("tampered-{what}.backup"));
        std::fs::write(&bad_path, &bad).unwrap();
        let dir = dir_with_root_key(
            work.path(),
            &format!("tampered-{what}"),
            &server.data.root_key(),
        );
        let r = restore(&dir, &bad_path);
        assert!(!r.status.success(), "{what}: {}", r.describe());
        assert!(r.stderr.contains("altered"), "{what}: {}", r.describe());
        assert_eq!(entries(&dir), ["root.key"], "{what}: nothing written");
    }

    // The real restore, into a fresh directory holding a copy of root.key.
    let fresh = dir_with_root_key(work.path(), "restored", &server.data.root_key());
    let r = restore(&fresh, &out).ok("arca restore");
    assert!(r.stdout_str().contains("restored"), "{}", r.describe());
    assert!(fresh.join("arca.toml").exists());
    assert_eq!(mode_of(&fresh.join("arca.db")), 0o600);
    let again = restore(&fresh, &out);
    assert!(
        !again.status.success(),
        "a second restore into it is refused"
    );

    let restored = Server::start(&fresh);
    let rbase = restored.url.clone();
    for s in &before {
        assert_eq!(
            payload(&http, &rbase, s).await.as_deref(),
            Some(&s.bytes[..]),
            "secret {} must come back byte-identical",
            s.id
        );
    }
    let load_secrets = during.lock().unwrap().clone();
    let mut present = 0;
    for (i, s) in load_secrets.iter().enumerate() {
        match payload(&http, &rbase, s).await {
            Some(bytes) => {
                assert_eq!(bytes, s.bytes, "load secret {} differs", s.id);
                present += 1;
            }
            None => assert!(
                i >= acked_before_backup,
                "secret {} was acknowledged before the backup started but is missing",
                s.id
            ),
        }
    }
    assert!(present >= acked_before_backup);
    let r = send(
        http.get(format!("{rbase}/v1/secrets"))
            .header("X-Auth-Token", &revoked),
    )
    .await;
    assert_eq!(r.status, 401, "a revoked token stays revoked: {}", r.text());
    let plain = key_cmd(&rbase, &creds, &["decrypt", "--ciphertext", &blob]).ok("key decrypt");
    assert_eq!(plain.stdout, b"kms survives restore");
}

#[test]
fn root_key_export_import_round_trip() {
    let data = init();
    let work = tempfile::tempdir().unwrap();
    let pass_file = work.path().join("passphrase");
    std::fs::write(&pass_file, "correct horse battery staple\n").unwrap();
    set_mode(&pass_file, 0o600);
    let export = work.path().join("root.export");
    let out = run(
        arca()
            .args(["root", "export", "--data-dir"])
            .arg(&data.dir)
            .arg("--out")
            .arg(&export)
            .arg("--passphrase-file")
            .arg(&pass_file),
        COMMAND_TIMEOUT,
    )
    .ok("arca root export");
    assert!(
        out.stdout_str().contains("root key version 1 (KCV "),
        "{}",
        out.describe()
    );
    assert_eq!(mode_of(&export), 0o600);

    // No key bytes in the export: neither the base64 line nor the raw 32 bytes.
    let root_text = std::fs::read_to_string(data.root_key()).unwrap();
    let rk_b64 = root_text.split_whitespace().nth(1).unwrap();
    let rk_raw = <base64ct::Base64 as base64ct::Encoding>::decode_vec(rk_b64).unwrap();
    let bytes = std::fs::read(&export).unwrap();
    assert!(!bytes.windows(rk_b64.len()).any(|w| w == rk_b64.as_bytes()));
    assert!(!bytes.windows(32).any(|w| w == &rk_raw[..]));

    let import = |dir: &Path, pass: Option<&str>, file: Option<&Path>| {
        let mut cmd = arca();
        cmd.args(["root", "import", "--data-dir"])
            .arg(dir)
            .arg("--from")
            .arg(&export);
        if let Some(p) = pass {
            cmd.env("ARCA_ROOT_PASSPHRASE", p);
        }
        if let Some(f) = file {
            cmd.arg("--passphrase-file").arg(f);
        }
        run(&mut cmd, COMMAND_TIMEOUT)
    };
    let target = work.path().join("new-data");

    let r = import(&target, Some("a wrong passphrase"), None);
    assert!(!r.status.success());
    assert!(r.stderr.contains("passphrase is wrong"), "{}", r.describe());
    assert!(!target.join("root.key").exists());

    let r = import(&target, Some("short"), None);
    assert!(
        !r.status.success() && r.stderr.contains("at least 12"),
        "{}",
        r.describe()
    );
    let open_file = work.path().join("open-passphrase");
    std::fs::write(&open_file, "correct horse battery staple").unwrap();
    set_mode(&open_file, 0o644);
    let r = import(&target, None, Some(&open_file));
    assert!(
        !r.status.success() && r.stderr.contains("chmod"),
        "{}",
        r.describe()
    );
    let r = import(&target, None, None);
    assert!(
        !r.status.success() && r.stderr.contains("ARCA_ROOT_PASSPHRASE"),
        "{}",
        r.describe()
    );

    import(&target, Some("correct horse battery staple"), None).ok("arca root import");
    assert_eq!(mode_of(&target.join("root.key")), 0o400);
    assert_eq!(
        std::fs::read_to_string(target.join("root.key")).unwrap(),
        root_text
    );
    let r = import(&target, Some("correct horse battery staple"), None);
    assert!(
        !r.status.success() && r.stderr.contains("already exists"),
        "{}",
        r.describe()
    );

    // The imported key works: a backup of the original restores under it and the keys unwrap. (Backups are of
    // the SQLite file: on PostgreSQL the round trip above is the test.)
    if on_postgres() {
        return;
    }
    let backup = work.path().join("b.backup");
    run(
        arca()
            .args(["backup", "--data-dir"])
            .arg(&data.dir)
            .arg("--out")
            .arg(&backup),
        COMMAND_TIMEOUT,
    )
    .ok("arca backup");
    restore(&target, &backup).ok("arca restore under the imported key");
    let token = token_create(&target, "p", "u", "creator");
    assert!(token.starts_with("arca_"));
}
