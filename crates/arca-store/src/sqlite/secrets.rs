//! Secret rows (`secrets`, with the sealed payload in the row's `payload*` columns) and their user metadata
//! (`secret_metadata`): reads as functions over a pooled read connection (`reads`), writes as functions the writer
//! thread runs inside an operation's savepoint. Payload bytes are ciphertext and are never logged.

use std::collections::BTreeMap;

use arca_core::{SecretRecord, SecretType, StoreError, StoredPayload};
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{
    execute, exists, query_all, query_opt, sql_err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};

/// The columns `secret_from_row` reads, in its order.
pub(super) const SECRET_COLUMNS: &str = "id, project_id, creator_id, name, algorithm, bit_length, mode, \
     secret_type, expiration, created, updated, content_type";

const SECRET_BY_ID: &str = "SELECT id, project_id, creator_id, name, algorithm, bit_length, mode, secret_type, \
     expiration, created, updated, content_type FROM secrets WHERE id = ?1";

const SECRET_WITH_PAYLOAD_BY_ID: &str = "SELECT id, project_id, creator_id, name, algorithm, bit_length, mode, \
     secret_type, expiration, created, updated, content_type, payload, payload_content_type, payload_store_id \
     FROM secrets WHERE id = ?1";

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

/// A secret by id.
pub(super) fn get(conn: &Connection, id: Uuid) -> Result<Option<SecretRecord>, StoreError> {
    query_opt(
        conn,
        SECRET_BY_ID,
        [uuid_to_db(id)],
        "reading a secret",
        secret_from_row,
    )
}

/// A secret and its payload (if any), from its one row.
pub(super) fn get_with_payload(
    conn: &Connection,
    id: Uuid,
) -> Result<Option<(SecretRecord, Option<StoredPayload>)>, StoreError> {
    query_opt(
        conn,
        SECRET_WITH_PAYLOAD_BY_ID,
        [uuid_to_db(id)],
        "reading a secret with its payload",
        |row| {
            let secret = secret_from_row(row)?;
            let get = sql_err("reading a secret with its payload");
            let ciphertext: Option<Vec<u8>> = row.get(12).map_err(&get)?;
            let content_type: Option<String> = row.get(13).map_err(&get)?;
            let store_id: Option<String> = row.get(14).map_err(&get)?;
            let payload = match (ciphertext, content_type, store_id) {
                (Some(ciphertext), Some(content_type), Some(store_id)) => Some(StoredPayload {
                    ciphertext,
                    content_type,
                    store_id: uuid_from_db(&store_id)?,
                }),
                _ => None,
            };
            Ok((secret, payload))
        },
    )
}

pub(super) fn get_payload(
    conn: &Connection,
    id: Uuid,
) -> Result<Option<StoredPayload>, StoreError> {
    query_opt(
        conn,
        "SELECT payload, payload_content_type, payload_store_id FROM secrets WHERE id = ? AND payload IS NOT NULL",
        [uuid_to_db(id)],
        "reading a payload",
        payload_from_row,
    )
}

/// Columns `payload, payload_content_type, payload_store_id` (in that order) as a stored payload.
pub(super) fn payload_from_row(row: &Row<'_>) -> Result<StoredPayload, StoreError> {
    let get = sql_err("reading a payload row");
    let store_id: String = row.get(2).map_err(&get)?;
    Ok(StoredPayload {
        ciphertext: row.get(0).map_err(&get)?,
        content_type: row.get(1).map_err(&get)?,
        store_id: uuid_from_db(&store_id)?,
    })
}

pub(super) fn get_metadata(
    conn: &Connection,
    id: Uuid,
) -> Result<BTreeMap<String, String>, StoreError> {
    let pairs = query_all(
        conn,
        "SELECT key, value FROM secret_metadata WHERE secret_id = ?",
        [uuid_to_db(id)],
        "reading secret metadata",
        |row| {
            let get = sql_err("reading a metadata row");
            Ok((row.get(0).map_err(&get)?, row.get(1).map_err(&get)?))
        },
    )?;
    Ok(pairs.into_iter().collect())
}

/// Inserts the secret row, with its payload if given, and counts it in `project_secret_counts` (this is the only
/// insert into `secrets`; migration 10 says why no trigger does it). The row's `content_type` is the record's, or
/// the payload's when the record has none.
pub(super) fn insert(
    conn: &Connection,
    secret: &SecretRecord,
    payload: Option<&StoredPayload>,
) -> Result<(), StoreError> {
    let content_type = secret
        .content_type
        .as_deref()
        .or(payload.map(|p| p.content_type.as_str()));
    execute(
        conn,
        "INSERT INTO secrets (id, project_id, creator_id, name, algorithm, bit_length, mode, secret_type, \
         expiration, created, updated, content_type, payload_store_id, payload_content_type, payload) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            uuid_to_db(secret.id),
            secret.project_id,
            secret.creator_id,
            secret.name,
            secret.algorithm,
            secret.bit_length,
            secret.mode,
            secret.secret_type.as_str(),
            secret.expiration.map(ts_to_db).transpose()?,
            ts_to_db(secret.created)?,
            ts_to_db(secret.updated)?,
            content_type,
            payload.map(|p| uuid_to_db(p.store_id)),
            payload.map(|p| p.content_type.as_str()),
            payload.map(|p| p.ciphertext.as_slice()),
        ],
        "inserting a secret",
    )?;
    execute(
        conn,
        "INSERT INTO project_secret_counts (project_id, total, expiring) VALUES (?1, 1, ?2) \
         ON CONFLICT (project_id) DO UPDATE SET total = total + 1, expiring = expiring + excluded.expiring",
        params![secret.project_id, i64::from(secret.expiration.is_some())],
        "counting a secret",
    )?;
    Ok(())
}

/// Stores the payload of a secret that has none and stamps the secret's `updated` and `content_type`; false when
/// the secret is unknown or already has a payload.
pub(super) fn attach_payload(
    conn: &Connection,
    id: Uuid,
    payload: &StoredPayload,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE secrets SET payload_store_id = ?, payload_content_type = ?, payload = ?, updated = ?, \
         content_type = ? WHERE id = ? AND payload IS NULL",
        params![
            uuid_to_db(payload.store_id),
            payload.content_type,
            payload.ciphertext,
            ts_to_db(updated)?,
            payload.content_type,
            uuid_to_db(id)
        ],
        "attaching a payload",
    )?;
    Ok(done == 1)
}

/// Deletes a secret: its payload goes with the row, its metadata by cascade.
pub(super) fn delete(conn: &Connection, id: Uuid) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM secrets WHERE id = ?",
        [uuid_to_db(id)],
        "deleting a secret",
    )?;
    Ok(done > 0)
}

/// Whether a secret exists (on the writer's connection, inside the savepoint that depends on the answer).
pub(super) fn exists_by_id(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    exists(
        conn,
        "SELECT 1 FROM secrets WHERE id = ?",
        [id],
        "looking up a secret",
    )
}

/// Metadata belongs to a secret: writing it for an unknown one is an error with a clear message (rather than a
/// bare foreign-key failure).
fn ensure_secret(conn: &Connection, id: &str) -> Result<(), StoreError> {
    if exists_by_id(conn, id)? {
        Ok(())
    } else {
        Err(StoreError(format!(
            "SQLite store: no secret {id} to hold metadata"
        )))
    }
}

pub(super) fn replace_metadata(
    conn: &Connection,
    id: Uuid,
    metadata: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    let id = uuid_to_db(id);
    ensure_secret(conn, &id)?;
    execute(
        conn,
        "DELETE FROM secret_metadata WHERE secret_id = ?",
        [&id],
        "clearing secret metadata",
    )?;
    for (key, value) in metadata {
        execute(
            conn,
            "INSERT INTO secret_metadata (secret_id, key, value) VALUES (?, ?, ?)",
            params![id, key, value],
            "inserting secret metadata",
        )?;
    }
    Ok(())
}

pub(super) fn insert_metadatum(
    conn: &Connection,
    id: Uuid,
    key: &str,
    value: &str,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    ensure_secret(conn, &id)?;
    let done = execute(
        conn,
        "INSERT INTO secret_metadata (secret_id, key, value) VALUES (?, ?, ?) ON CONFLICT (secret_id, key) DO NOTHING",
        params![id, key, value],
        "inserting a metadata key",
    )?;
    Ok(done == 1)
}

pub(super) fn update_metadatum(
    conn: &Connection,
    id: Uuid,
    key: &str,
    value: &str,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE secret_metadata SET value = ? WHERE secret_id = ? AND key = ?",
        params![value, uuid_to_db(id), key],
        "updating a metadata key",
    )?;
    Ok(done > 0)
}

pub(super) fn delete_metadatum(conn: &Connection, id: Uuid, key: &str) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM secret_metadata WHERE secret_id = ? AND key = ?",
        params![uuid_to_db(id), key],
        "deleting a metadata key",
    )?;
    Ok(done > 0)
}

/// Secrets (and certificates) expiring in `(now, until]` and secrets without an expiration (the metrics gauges).
pub(super) fn expiry_counts(
    conn: &Connection,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<arca_core::ExpiryCounts, StoreError> {
    let expiring = super::codec::count(
        conn,
        "SELECT COUNT(*) FROM secrets WHERE expiration > ?1 AND expiration <= ?2",
        params![super::codec::ts_bound(now), super::codec::ts_bound(until)],
        "counting expiring secrets",
    )?;
    let without_expiration = super::codec::count(
        conn,
        "SELECT COUNT(*) FROM secrets WHERE expiration IS NULL",
        [],
        "counting secrets without expiration",
    )?;
    let certificates_expiring = super::codec::count(
        conn,
        "SELECT COUNT(*) FROM secrets WHERE secret_type = ?3 AND expiration > ?1 AND expiration <= ?2",
        params![
            super::codec::ts_bound(now),
            super::codec::ts_bound(until),
            SecretType::Certificate.as_str()
        ],
        "counting expiring certificates",
    )?;
    Ok(arca_core::ExpiryCounts {
        expiring,
        without_expiration,
        certificates_expiring,
    })
}

/// Secrets with an expiration at or before `until`, soonest first.
pub(super) fn expiring_before(
    conn: &Connection,
    until: OffsetDateTime,
) -> Result<Vec<SecretRecord>, StoreError> {
    query_all(
        conn,
        &format!(
            "SELECT {SECRET_COLUMNS} FROM secrets WHERE expiration IS NOT NULL AND expiration <= ?1 \
             ORDER BY expiration, id"
        ),
        [super::codec::ts_bound(until)],
        "listing expiring secrets",
        secret_from_row,
    )
}

/// Secrets without an expiration, oldest first.
pub(super) fn without_expiration(conn: &Connection) -> Result<Vec<SecretRecord>, StoreError> {
    query_all(
        conn,
        &format!(
            "SELECT {SECRET_COLUMNS} FROM secrets WHERE expiration IS NULL ORDER BY created, id"
        ),
        [],
        "listing secrets without expiration",
        secret_from_row,
    )
}
