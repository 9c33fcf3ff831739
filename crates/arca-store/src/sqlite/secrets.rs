//! Secret rows (`secrets`), their sealed payloads (`secret_payloads`) and their user metadata (`secret_metadata`):
//! the payload read on the sqlx read pool (the hot reads are in `hot_reads`), writes as functions the writer task runs inside a savepoint. Payload bytes are
//! ciphertext and are never logged.

use std::collections::BTreeMap;

use arca_core::{SecretRecord, StoreError, StoredPayload};
use sqlx::{Row, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{db_err, ts_to_db, uuid_to_db};

pub(super) async fn get_payload(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Option<StoredPayload>, StoreError> {
    let row =
        sqlx::query("SELECT ciphertext, content_type FROM secret_payloads WHERE secret_id = ?")
            .bind(uuid_to_db(id))
            .fetch_optional(pool)
            .await
            .map_err(db_err("reading a payload"))?;
    let Some(row) = row else { return Ok(None) };
    let get = |e| db_err("reading a payload row")(e);
    Ok(Some(StoredPayload {
        ciphertext: row.try_get("ciphertext").map_err(get)?,
        content_type: row.try_get("content_type").map_err(get)?,
    }))
}

/// Inserts the secret row and, if given, its payload. The row's `content_type` is the record's, or the payload's
/// when the record has none.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    secret: &SecretRecord,
    payload: Option<&StoredPayload>,
) -> Result<(), StoreError> {
    let id = uuid_to_db(secret.id);
    let content_type = secret
        .content_type
        .as_deref()
        .or(payload.map(|p| p.content_type.as_str()));
    sqlx::query(
        "INSERT INTO secrets (id, project_id, creator_id, name, algorithm, bit_length, mode, secret_type, \
         expiration, created, updated, content_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(&secret.project_id)
    .bind(&secret.creator_id)
    .bind(&secret.name)
    .bind(&secret.algorithm)
    .bind(secret.bit_length)
    .bind(&secret.mode)
    .bind(secret.secret_type.as_str())
    .bind(secret.expiration.map(ts_to_db).transpose()?)
    .bind(ts_to_db(secret.created)?)
    .bind(ts_to_db(secret.updated)?)
    .bind(content_type)
    .execute(&mut *conn)
    .await
    .map_err(db_err("inserting a secret"))?;
    if let Some(payload) = payload {
        sqlx::query(
            "INSERT INTO secret_payloads (secret_id, ciphertext, content_type) VALUES (?, ?, ?)",
        )
        .bind(&id)
        .bind(&payload.ciphertext)
        .bind(&payload.content_type)
        .execute(&mut *conn)
        .await
        .map_err(db_err("inserting a payload"))?;
    }
    Ok(())
}

/// Stores the payload of a secret that has none and stamps the secret's `updated` and `content_type`.
pub(super) async fn attach_payload(
    conn: &mut SqliteConnection,
    id: Uuid,
    payload: &StoredPayload,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let updated = ts_to_db(updated)?;
    let done = sqlx::query(
        "INSERT INTO secret_payloads (secret_id, ciphertext, content_type) \
         SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM secrets WHERE id = ?1) \
         ON CONFLICT (secret_id) DO NOTHING",
    )
    .bind(&id)
    .bind(&payload.ciphertext)
    .bind(&payload.content_type)
    .execute(&mut *conn)
    .await
    .map_err(db_err("attaching a payload"))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE secrets SET updated = ?, content_type = ? WHERE id = ?")
        .bind(updated)
        .bind(&payload.content_type)
        .bind(&id)
        .execute(&mut *conn)
        .await
        .map_err(db_err("stamping a secret after attaching its payload"))?;
    Ok(true)
}

/// Deletes a secret; its payload and metadata go by cascade.
pub(super) async fn delete(conn: &mut SqliteConnection, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM secrets WHERE id = ?")
        .bind(uuid_to_db(id))
        .execute(conn)
        .await
        .map_err(db_err("deleting a secret"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn get_metadata(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<BTreeMap<String, String>, StoreError> {
    let rows = sqlx::query("SELECT key, value FROM secret_metadata WHERE secret_id = ?")
        .bind(uuid_to_db(id))
        .fetch_all(pool)
        .await
        .map_err(db_err("reading secret metadata"))?;
    rows.iter()
        .map(|row| {
            let get = |e| db_err("reading a metadata row")(e);
            Ok((
                row.try_get("key").map_err(get)?,
                row.try_get("value").map_err(get)?,
            ))
        })
        .collect()
}

/// Metadata belongs to a secret: writing it for an unknown one is an error with a clear message (rather than a
/// bare foreign-key failure).
async fn ensure_secret(conn: &mut SqliteConnection, id: &str) -> Result<(), StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM secrets WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_err("looking up a secret"))?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError(format!(
            "SQLite store: no secret {id} to hold metadata"
        ))),
    }
}

pub(super) async fn replace_metadata(
    conn: &mut SqliteConnection,
    id: Uuid,
    metadata: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    let id = uuid_to_db(id);
    ensure_secret(conn, &id).await?;
    sqlx::query("DELETE FROM secret_metadata WHERE secret_id = ?")
        .bind(&id)
        .execute(&mut *conn)
        .await
        .map_err(db_err("clearing secret metadata"))?;
    for (key, value) in metadata {
        sqlx::query("INSERT INTO secret_metadata (secret_id, key, value) VALUES (?, ?, ?)")
            .bind(&id)
            .bind(key)
            .bind(value)
            .execute(&mut *conn)
            .await
            .map_err(db_err("inserting secret metadata"))?;
    }
    Ok(())
}

pub(super) async fn insert_metadatum(
    conn: &mut SqliteConnection,
    id: Uuid,
    key: &str,
    value: &str,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    ensure_secret(conn, &id).await?;
    let done = sqlx::query(
        "INSERT INTO secret_metadata (secret_id, key, value) VALUES (?, ?, ?) ON CONFLICT (secret_id, key) DO NOTHING",
    )
    .bind(&id)
    .bind(key)
    .bind(value)
    .execute(conn)
    .await
    .map_err(db_err("inserting a metadata key"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn update_metadatum(
    conn: &mut SqliteConnection,
    id: Uuid,
    key: &str,
    value: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE secret_metadata SET value = ? WHERE secret_id = ? AND key = ?")
        .bind(value)
        .bind(uuid_to_db(id))
        .bind(key)
        .execute(conn)
        .await
        .map_err(db_err("updating a metadata key"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_metadatum(
    conn: &mut SqliteConnection,
    id: Uuid,
    key: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM secret_metadata WHERE secret_id = ? AND key = ?")
        .bind(uuid_to_db(id))
        .bind(key)
        .execute(conn)
        .await
        .map_err(db_err("deleting a metadata key"))?;
    Ok(done.rows_affected() > 0)
}
