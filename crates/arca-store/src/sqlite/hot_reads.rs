//! The hot-path reads (a secret, a secret with its payload, a token row, a page of the list) on rusqlite
//! connections of our own. sqlx's SQLite driver sends every statement to a worker thread and back, and a
//! `spawn_blocking` hand-off costs two thread wake-ups: on paths that read one row by primary key (or one
//! index-ordered page) those hops cost more than the query (bench/README.md has the numbers). So these reads run
//! in place, with a cached prepared statement on a pooled read-only connection. They are bounded: WAL readers do
//! not wait for the writer, and every statement is a key lookup or an index range of one page. Writes (which
//! fsync) never run on the async runtime: they go to the writer task.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arca_core::{SecretRecord, SecretType, StoreError, StoredPayload, TokenRow};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};
use uuid::Uuid;

use super::codec::{ts_from_db, uuid_from_db, uuid_to_db};

/// Idle read connections kept open; more are opened under load and closed when returned past this.
const KEEP_IDLE: usize = 8;

/// A pool of read-only rusqlite connections to one database file.
#[derive(Clone)]
pub(super) struct HotReads {
    path: Arc<PathBuf>,
    busy_timeout: Duration,
    idle: Arc<Mutex<Vec<Connection>>>,
}

pub(super) fn sql_err(what: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError(format!("SQLite store: {what}: {e}"))
}

impl HotReads {
    pub(super) fn new(path: &Path, busy_timeout: Duration) -> Self {
        Self {
            path: Arc::new(path.to_path_buf()),
            busy_timeout,
            idle: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(self.path.as_path(), flags)
            .map_err(sql_err("opening a read connection"))?;
        conn.busy_timeout(self.busy_timeout)
            .map_err(sql_err("setting the busy timeout"))?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    /// Runs `read` on a pooled connection (opened on demand; at most `KEEP_IDLE` kept).
    pub(super) async fn run<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError>,
    {
        let popped = self.idle().pop();
        let conn = match popped {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = read(&conn);
        let mut idle = self.idle();
        if idle.len() < KEEP_IDLE {
            idle.push(conn);
        }
        result
    }

    /// A secret by id.
    pub(super) async fn secret(&self, id: Uuid) -> Result<Option<SecretRecord>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(SECRET_BY_ID)
                .map_err(sql_err("preparing a secret read"))?;
            let row = stmt
                .query_row([uuid_to_db(id)], |row| Ok(secret_from_row(row)))
                .optional()
                .map_err(sql_err("reading a secret"))?;
            row.transpose()
        })
        .await
    }

    /// A secret and its payload (if any), in one statement.
    pub(super) async fn secret_with_payload(
        &self,
        id: Uuid,
    ) -> Result<Option<(SecretRecord, Option<StoredPayload>)>, StoreError> {
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(SECRET_WITH_PAYLOAD_BY_ID)
                .map_err(sql_err("preparing a payload read"))?;
            let row = stmt
                .query_row([uuid_to_db(id)], |row| {
                    let secret = secret_from_row(row);
                    let ciphertext: Option<Vec<u8>> = row.get(12)?;
                    let content_type: Option<String> = row.get(13)?;
                    let payload = ciphertext
                        .zip(content_type)
                        .map(|(ciphertext, content_type)| StoredPayload {
                            ciphertext,
                            content_type,
                        });
                    Ok(secret.map(|s| (s, payload)))
                })
                .optional()
                .map_err(sql_err("reading a secret with its payload"))?;
            row.transpose()
        })
        .await
    }

    /// A token row by id.
    pub(super) async fn token(&self, id: &str) -> Result<Option<TokenRow>, StoreError> {
        let id = id.to_owned();
        self.run(move |conn| {
            let mut stmt = conn
                .prepare_cached(TOKEN_BY_ID)
                .map_err(sql_err("preparing a token read"))?;
            let row = stmt
                .query_row([id], |row| Ok(token_from_row(row)))
                .optional()
                .map_err(sql_err("reading a token"))?;
            row.transpose()
        })
        .await
    }
}

/// The columns `secret_from_row` reads, in its order.
pub(super) const SECRET_COLUMNS: &str = "id, project_id, creator_id, name, algorithm, bit_length, mode, \
     secret_type, expiration, created, updated, content_type";

const SECRET_BY_ID: &str = "SELECT id, project_id, creator_id, name, algorithm, bit_length, mode, secret_type, \
     expiration, created, updated, content_type FROM secrets WHERE id = ?1";

const SECRET_WITH_PAYLOAD_BY_ID: &str = "SELECT s.id, s.project_id, s.creator_id, s.name, s.algorithm, \
     s.bit_length, s.mode, s.secret_type, s.expiration, s.created, s.updated, s.content_type, p.ciphertext, \
     p.content_type FROM secrets s LEFT JOIN secret_payloads p ON p.secret_id = s.id WHERE s.id = ?1";

const TOKEN_BY_ID: &str = "SELECT id, digest, project_id, user_id, roles, created, expires_at, revoked FROM tokens WHERE id = ?1";

/// Columns 0–11 (`SECRET_COLUMNS`) as a record. Corrupt values are errors, never panics.
pub(super) fn secret_from_row(row: &Row<'_>) -> Result<SecretRecord, StoreError> {
    let get = sql_err("reading a secret row");
    let id: String = row.get(0).map_err(&get)?;
    let secret_type: String = row.get(7).map_err(&get)?;
    let expiration: Option<i64> = row.get(8).map_err(&get)?;
    Ok(SecretRecord {
        id: uuid_from_db(&id)?,
        project_id: row.get(1).map_err(&get)?,
        creator_id: row.get(2).map_err(&get)?,
        name: row.get(3).map_err(&get)?,
        algorithm: row.get(4).map_err(&get)?,
        bit_length: row.get(5).map_err(&get)?,
        mode: row.get(6).map_err(&get)?,
        secret_type: SecretType::parse(&secret_type).ok_or_else(|| {
            StoreError(format!(
                "SQLite store: unknown secret type {secret_type:?} in secret {id}"
            ))
        })?,
        expiration: expiration.map(ts_from_db).transpose()?,
        created: ts_from_db(row.get(9).map_err(&get)?)?,
        updated: ts_from_db(row.get(10).map_err(&get)?)?,
        content_type: row.get(11).map_err(&get)?,
    })
}

fn token_from_row(row: &Row<'_>) -> Result<TokenRow, StoreError> {
    let get = sql_err("reading a token row");
    let roles: String = row.get(4).map_err(&get)?;
    Ok(TokenRow {
        id: row.get(0).map_err(&get)?,
        digest: row.get(1).map_err(&get)?,
        project_id: row.get(2).map_err(&get)?,
        user_id: row.get(3).map_err(&get)?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        created: ts_from_db(row.get(5).map_err(&get)?)?,
        expires_at: ts_from_db(row.get(6).map_err(&get)?)?,
        revoked: row.get::<_, i64>(7).map_err(&get)? != 0,
    })
}
