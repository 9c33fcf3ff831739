//! Helpers shared by the SQLite store tests: a store on a fresh file in a temp dir, and record builders.
#![allow(dead_code)] // each test binary uses a different subset of these helpers

use std::path::PathBuf;

use arca_core::{KekRow, SecretRecord, SecretType, StoredPayload, TokenRow, WrappedKeyRow};
use arca_store::SqliteStore;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// A store on a new file; keep the `TempDir` alive as long as the store.
pub async fn open_temp() -> (tempfile::TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("arca.db");
    let store = SqliteStore::open(&path).await.expect("open store");
    (dir, path, store)
}

/// A fixed instant with a nanosecond part, so round trips prove full precision.
pub fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(1_767_225_600_123_456_789).expect("valid instant")
}

/// `t0` plus some seconds.
pub fn at(seconds: i64) -> OffsetDateTime {
    t0() + Duration::seconds(seconds)
}

/// A minimal secret in `project`, created and updated at `t0 + created`.
pub fn secret(project: &str, created: i64) -> SecretRecord {
    SecretRecord {
        id: Uuid::now_v7(),
        project_id: project.to_owned(),
        creator_id: "alice".to_owned(),
        name: None,
        algorithm: None,
        bit_length: None,
        mode: None,
        secret_type: SecretType::Opaque,
        expiration: None,
        created: at(created),
        updated: at(created),
        content_type: None,
    }
}

pub fn payload(bytes: &[u8], content_type: &str) -> StoredPayload {
    StoredPayload {
        ciphertext: bytes.to_vec(),
        content_type: content_type.to_owned(),
        store_id: arca_core::SOFTWARE_STORE_ID,
    }
}

pub fn wrapped(tag: u8) -> WrappedKeyRow {
    WrappedKeyRow {
        rk_version: 3,
        wrap_alg: 1,
        wrapped: vec![tag; 60],
        mac: vec![tag ^ 0xff; 32],
    }
}

pub fn kek(project: &str, version: u32, tag: u8) -> KekRow {
    KekRow {
        project_id: project.to_owned(),
        pkek_version: version,
        key: wrapped(tag),
    }
}

pub fn token(id: &str) -> TokenRow {
    TokenRow {
        id: id.to_owned(),
        digest: vec![7; 32],
        project_id: "p1".to_owned(),
        user_id: "bob".to_owned(),
        roles: vec!["creator".to_owned(), "observer".to_owned()],
        created: t0(),
        expires_at: at(86_400),
        revoked: false,
    }
}

/// A raw read-write connection to the same file, for inspecting or corrupting rows behind the store's back.
pub fn raw(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("raw connection");
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .expect("busy timeout");
    conn
}

/// The first column of every row `sql` returns, over a raw connection.
pub fn first_column<T: rusqlite::types::FromSql>(path: &std::path::Path, sql: &str) -> Vec<T> {
    raw(path)
        .prepare(sql)
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Rows in a table (a fixed name from the test).
pub async fn count_rows(path: &std::path::Path, table: &'static str) -> i64 {
    let conn = raw(path);
    let sql = match table {
        "secrets" => "SELECT COUNT(*) FROM secrets",
        "secret_payloads" => "SELECT COUNT(*) FROM secret_payloads",
        "secret_metadata" => "SELECT COUNT(*) FROM secret_metadata",
        other => panic!("unknown table {other}"),
    };
    conn.query_row(sql, [], |row| row.get(0)).expect("count")
}
