//! The tamper-evident audit log, against the real binary: operations are recorded (successes, a denied payload
//! read, a failed authentication), `arca audit verify` accepts the chain, and a record deleted, edited or
//! reordered in `DIR/arca.db` while the server is stopped is caught and named. The JSON-lines file has one line
//! per record with `seq` and `mac`, and never a payload or token. On PostgreSQL the records are read and tampered
//! with in the data directory's database (a copy of it per tampering).

mod common;
use common::*;

use std::path::{Path, PathBuf};

const PAYLOAD: &str = "audit-test-payload-7f3c9a1e";

/// `arca audit verify --data-dir DIR` → (success, stdout + stderr).
fn verify(dir: &Path) -> (bool, String) {
    let r = run(
        arca().arg("audit").arg("verify").arg("--data-dir").arg(dir),
        COMMAND_TIMEOUT,
    );
    let ok = r.status.success();
    (ok, r.describe())
}

/// A copy of the data directory (database, WAL, root key, configuration) to tamper with; on PostgreSQL also a
/// copy of its database, which the copy's arca.toml names.
fn copy_dir(
    from: &Path,
    db: Option<&TestDatabase>,
) -> (tempfile::TempDir, PathBuf, Option<TestDatabase>) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::Builder::new()
        .prefix("arca-audit-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let copy = db.map(|db| {
        let copy = db.copy();
        let config = std::fs::read_to_string(dir.join("arca.toml")).unwrap();
        assert!(config.contains(&db.url), "{config}");
        std::fs::write(dir.join("arca.toml"), config.replace(&db.url, &copy.url)).unwrap();
        copy
    });
    (tmp, dir, copy)
}

/// Runs `sql` on the data directory's database: `arca.db` on SQLite, `db` on PostgreSQL.
fn tamper(dir: &Path, db: Option<&TestDatabase>, sql: &str) {
    match db {
        Some(db) => {
            psql(&db.url, sql);
        }
        None => {
            let conn = rusqlite::Connection::open(dir.join("arca.db")).expect("open the database");
            conn.execute_batch(sql).expect("tamper");
        }
    }
}

/// The audit records' events (JSON), in `seq` order.
fn events(dir: &Path, db: Option<&TestDatabase>) -> Vec<String> {
    match db {
        Some(db) => psql(
            &db.url,
            "SELECT convert_from(event, 'UTF8') FROM audit_log ORDER BY seq",
        )
        .lines()
        .map(str::to_owned)
        .collect(),
        None => {
            let conn = rusqlite::Connection::open(dir.join("arca.db")).expect("open the database");
            let mut stmt = conn
                .prepare("SELECT event FROM audit_log ORDER BY seq")
                .unwrap();
            stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
                .unwrap()
                .map(|e| String::from_utf8(e.unwrap()).unwrap())
                .collect()
        }
    }
}

#[test]
fn audit_chain_records_verifies_and_catches_tampering() {
    let rt = rt();
    let mut arca = Arca::start();
    let reader = arca.token("p2", "mallory", "creator");
    let (id, denied_status, unauth_status) = rt.block_on(async {
        let id = arca
            .create_text_secret(&arca.admin_token, "audited", PAYLOAD)
            .await;
        let (status, body) = get_payload(&arca.http, &arca.base_url, &arca.admin_token, &id).await;
        assert_eq!((status, body.as_slice()), (200, PAYLOAD.as_bytes()));
        let (denied, _) = get_payload(&arca.http, &arca.base_url, &reader, &id).await;
        let (unauth, _) = get_payload(&arca.http, &arca.base_url, "arca_bogus", &id).await;
        // A foreign project's read of the secret's metadata: refused, and recorded though it records no event
        // of its own when allowed.
        let r = send(arca.req(Method::GET, &format!("/v1/secrets/{id}"), &reader)).await;
        assert_eq!(r.status, 403, "{}", r.text());
        // And of its ACL: refused and recorded as a denied ACL read.
        let r = send(arca.req(Method::GET, &format!("/v1/secrets/{id}/acl"), &reader)).await;
        assert_eq!(r.status, 403, "{}", r.text());
        let r = send(arca.admin(Method::DELETE, &format!("/v1/secrets/{id}"))).await;
        assert_eq!(r.status, 204, "{}", r.text());
        (id, denied, unauth)
    });
    assert_ne!(denied_status, 200);
    assert_eq!(unauth_status, 401);
    arca.server.stop();
    let dir = arca.data_dir();

    let (ok, out) = verify(&dir);
    assert!(ok, "a clean chain verifies\n{out}");

    let db = arca.data.database.as_ref();
    // What was recorded.
    let events = events(&dir, db);
    let has = |action: &str, outcome: &str| {
        events.iter().any(|e| {
            let v: Value = serde_json::from_str(e).unwrap();
            v["action"] == action && v["outcome"] == outcome
        })
    };
    for (action, outcome) in [
        ("token.create", "success"),
        ("server.start", "success"),
        ("secret.create", "success"),
        ("secret.payload.read", "success"),
        ("secret.delete", "success"),
        ("auth.failure", "denied"),
        ("acl.read", "denied"),
        ("server.stop", "success"),
    ] {
        assert!(has(action, outcome), "no {action} {outcome} in {events:#?}");
    }
    let read: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter(|v| v["action"] == "secret.payload.read" && v["object_id"] == id.as_str())
        .collect();
    assert!(
        read.iter()
            .any(|v| v["outcome"] != "success" && v["user_id"] == "mallory"),
        "the refused payload read is recorded: {read:#?}"
    );
    let refused_get: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter(|v| v["action"] == "secret.read" && v["object_id"] == id.as_str())
        .collect();
    assert!(
        refused_get.len() == 1
            && refused_get[0]["outcome"] == "denied"
            && refused_get[0]["user_id"] == "mallory"
            && refused_get[0]["project_id"] == "p2",
        "the refused metadata read is recorded once as denied: {refused_get:#?}"
    );
    // The refused payload read is recorded once (by the payload read, not again by the admission).
    assert_eq!(
        read.iter().filter(|v| v["user_id"] == "mallory").count(),
        1,
        "{read:#?}"
    );
    let ok_read = read.iter().find(|v| v["outcome"] == "success").unwrap();
    assert!(
        ok_read["source"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(ok_read["request_id"].as_str().unwrap().starts_with("req-"));

    // The JSON lines: exactly one per record (in commit order, which may differ from seq order by a batch),
    // with seq and mac, and no payload or token.
    let lines = std::fs::read_to_string(dir.join("audit.jsonl")).expect("audit.jsonl");
    let count = events.len();
    let mut seqs: Vec<u64> = lines
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["mac"].as_str().unwrap().len(), 64, "{line}");
            assert!(v["event"]["action"].is_string(), "{line}");
            v["seq"].as_u64().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    let expected: Vec<u64> = (1..=count as u64).collect();
    assert_eq!(seqs, expected, "one line per record\n{lines}");
    for secret in [PAYLOAD, arca.admin_token.as_str(), reader.as_str()] {
        assert!(
            !lines.contains(secret),
            "the audit output holds a payload or token"
        );
    }

    // A deleted record: the next one is named.
    let (_t1, deleted, deleted_db) = copy_dir(&dir, db);
    tamper(
        &deleted,
        deleted_db.as_ref(),
        "DELETE FROM audit_log WHERE seq = 3",
    );
    let (ok, out) = verify(&deleted);
    assert!(
        !ok && out.contains("record 4") && out.contains("missing"),
        "{out}"
    );

    // An edited record.
    let (_t2, edited, edited_db) = copy_dir(&dir, db);
    let edit = if on_postgres() {
        "UPDATE audit_log SET event = convert_to(replace(convert_from(event, 'UTF8'), 'success', 'failed'), 'UTF8') \
         WHERE seq = 2"
    } else {
        "UPDATE audit_log SET event = CAST(replace(CAST(event AS TEXT), 'success', 'failed') AS BLOB) WHERE seq = 2"
    };
    tamper(&edited, edited_db.as_ref(), edit);
    let (ok, out) = verify(&edited);
    assert!(
        !ok && out.contains("record 2") && out.contains("edited"),
        "{out}"
    );

    // Two records reordered (their seq swapped).
    let (_t3, swapped, swapped_db) = copy_dir(&dir, db);
    tamper(
        &swapped,
        swapped_db.as_ref(),
        "UPDATE audit_log SET seq = -1 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3; \
         UPDATE audit_log SET seq = 3 WHERE seq = -1;",
    );
    let (ok, out) = verify(&swapped);
    assert!(!ok && out.contains("record 2"), "{out}");

    // The untouched original still verifies.
    let (ok, out) = verify(&dir);
    assert!(ok, "{out}");
}

/// Payload reads are recorded in the background (the response does not wait for the record's commit), yet none
/// is lost: after a concurrent burst and a graceful stop, every read is in the chain, before the stop record,
/// and the chain verifies.
#[test]
fn every_read_of_a_burst_is_recorded_before_the_stop() {
    const READS: usize = 200;
    let rt = rt();
    let mut arca = Arca::start();
    let id = rt.block_on(async {
        let id = arca
            .create_text_secret(&arca.admin_token, "burst", PAYLOAD)
            .await;
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..READS {
            let (http, base, token, id) = (
                arca.http.clone(),
                arca.base_url.clone(),
                arca.admin_token.clone(),
                id.clone(),
            );
            reads.spawn(async move { get_payload(&http, &base, &token, &id).await.0 });
        }
        while let Some(status) = reads.join_next().await {
            assert_eq!(status.unwrap(), 200);
        }
        id
    });
    arca.server.stop();
    let dir = arca.data_dir();
    let (ok, out) = verify(&dir);
    assert!(ok, "the chain verifies\n{out}");
    let actions: Vec<(String, String)> = events(&dir, arca.data.database.as_ref())
        .iter()
        .map(|e| {
            let v: Value = serde_json::from_str(e).unwrap();
            (
                v["action"].as_str().unwrap_or_default().to_owned(),
                v["object_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let reads = actions
        .iter()
        .filter(|(a, o)| a == "secret.payload.read" && *o == id)
        .count();
    assert_eq!(reads, READS, "every read is recorded");
    let stop = actions.iter().rposition(|(a, _)| a == "server.stop");
    let last_read = actions
        .iter()
        .rposition(|(a, _)| a == "secret.payload.read");
    assert!(stop > last_read, "the stop record comes after every read");
}
