//! Secret rows (`secrets`), their sealed payloads (`secret_payloads`) and their user metadata
//! (`secret_metadata`), plus the expiry queries of the sweeper, the metrics gauges and `arca report`. Payload
//! bytes are ciphertext and are never logged. Functions taking a `PgConnection` run inside the caller's
//! transaction (quota-checked inserts, orders).

use std::collections::BTreeMap;

use arca_core::{ExpiryCounts, SecretRecord, SecretType, StoreError, StoredPayload};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{
    col, db_error, err, is_foreign_key_violation, opt_ts_from_db, opt_ts_to_db, to_count, ts_bound,
    ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};

/// The columns `secret_from_row` reads.
pub(super) const SECRET_COLUMNS: &str = "id, project_id, creator_id, name, algorithm, bit_length, mode, \
     secret_type, expiration, created, updated, content_type";

/// A secret record from the `SECRET_COLUMNS` of `row`. Corrupt values are errors, never panics.
pub(super) fn secret_from_row(row: &PgRow) -> Result<SecretRecord, StoreError> {
    let id: String = col(row, "id")?;
    let secret_type: String = col(row, "secret_type")?;
    Ok(SecretRecord {
        id: uuid_from_db(&id)?,
        project_id: col(row, "project_id")?,
        creator_id: col(row, "creator_id")?,
        name: col(row, "name")?,
        algorithm: col(row, "algorithm")?,
        bit_length: col(row, "bit_length")?,
        mode: col(row, "mode")?,
        secret_type: SecretType::parse(&secret_type).ok_or_else(|| {
            StoreError(format!(
                "PostgreSQL store: unknown secret type {secret_type:?} in secret {id}"
            ))
        })?,
        expiration: opt_ts_from_db(col(row, "expiration")?)?,
        created: ts_from_db(col(row, "created")?)?,
        updated: ts_from_db(col(row, "updated")?)?,
        content_type: col(row, "content_type")?,
    })
}

pub(super) async fn get(pool: &PgPool, id: Uuid) -> Result<Option<SecretRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id, project_id, creator_id, name, algorithm, bit_length, mode, secret_type, expiration, \
         created, updated, content_type FROM secrets WHERE id = $1",
    )
    .bind(uuid_to_db(id))
    .fetch_optional(pool)
    .await
    .map_err(err("reading a secret"))?;
    row.as_ref().map(secret_from_row).transpose()
}

pub(super) async fn get_with_payload(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<(SecretRecord, Option<StoredPayload>)>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.project_id, s.creator_id, s.name, s.algorithm, s.bit_length, s.mode, s.secret_type, \
         s.expiration, s.created, s.updated, s.content_type, p.ciphertext, p.content_type AS payload_type, \
         p.store_id FROM secrets s LEFT JOIN secret_payloads p ON p.secret_id = s.id WHERE s.id = $1",
    )
    .bind(uuid_to_db(id))
    .fetch_optional(pool)
    .await
    .map_err(err("reading a secret with its payload"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let secret = secret_from_row(&row)?;
    let ciphertext: Option<Vec<u8>> = col(&row, "ciphertext")?;
    let content_type: Option<String> = col(&row, "payload_type")?;
    let store_id: Option<String> = col(&row, "store_id")?;
    let payload = match (ciphertext, content_type, store_id) {
        (Some(ciphertext), Some(content_type), Some(store_id)) => Some(StoredPayload {
            ciphertext,
            content_type,
            store_id: uuid_from_db(&store_id)?,
        }),
        _ => None,
    };
    Ok(Some((secret, payload)))
}

pub(super) async fn get_payload(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<StoredPayload>, StoreError> {
    let row = sqlx::query(
        "SELECT ciphertext, content_type, store_id FROM secret_payloads WHERE secret_id = $1",
    )
    .bind(uuid_to_db(id))
    .fetch_optional(pool)
    .await
    .map_err(err("reading a payload"))?;
    row.as_ref().map(payload_from_row).transpose()
}

/// The columns `ciphertext, content_type, store_id` of `row` as a stored payload.
pub(super) fn payload_from_row(row: &PgRow) -> Result<StoredPayload, StoreError> {
    let store_id: String = col(row, "store_id")?;
    Ok(StoredPayload {
        ciphertext: col(row, "ciphertext")?,
        content_type: col(row, "content_type")?,
        store_id: uuid_from_db(&store_id)?,
    })
}

/// Inserts the secret row and, if given, its payload (inside the caller's transaction). The row's
/// `content_type` is the record's, or the payload's when the record has none.
pub(super) async fn insert(
    conn: &mut PgConnection,
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
         expiration, created, updated, content_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(&secret.project_id)
    .bind(&secret.creator_id)
    .bind(&secret.name)
    .bind(&secret.algorithm)
    .bind(secret.bit_length)
    .bind(&secret.mode)
    .bind(secret.secret_type.as_str())
    .bind(opt_ts_to_db(secret.expiration)?)
    .bind(ts_to_db(secret.created)?)
    .bind(ts_to_db(secret.updated)?)
    .bind(content_type)
    .execute(&mut *conn)
    .await
    .map_err(err("inserting a secret"))?;
    if let Some(payload) = payload {
        sqlx::query(
            "INSERT INTO secret_payloads (secret_id, ciphertext, content_type, store_id) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(&payload.ciphertext)
        .bind(&payload.content_type)
        .bind(uuid_to_db(payload.store_id))
        .execute(&mut *conn)
        .await
        .map_err(err("inserting a payload"))?;
    }
    Ok(())
}

/// Inserts a secret and its payload in one transaction.
pub(super) async fn insert_alone(
    pool: &PgPool,
    secret: &SecretRecord,
    payload: Option<&StoredPayload>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    insert(&mut tx, secret, payload).await?;
    tx.commit().await.map_err(err("committing a secret"))
}

/// Stores the payload of a secret that has none and stamps the secret's `updated` and `content_type`.
pub(super) async fn attach_payload(
    pool: &PgPool,
    id: Uuid,
    payload: &StoredPayload,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let updated = ts_to_db(updated)?;
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    let done = sqlx::query(
        "INSERT INTO secret_payloads (secret_id, ciphertext, content_type, store_id) \
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM secrets WHERE id = $1) \
         ON CONFLICT (secret_id) DO NOTHING",
    )
    .bind(&id)
    .bind(&payload.ciphertext)
    .bind(&payload.content_type)
    .bind(uuid_to_db(payload.store_id))
    .execute(&mut *tx)
    .await;
    let done = match done {
        Ok(done) => done.rows_affected(),
        // The secret was deleted meanwhile (by another node).
        Err(e) if is_foreign_key_violation(&e) => return Ok(false),
        Err(e) => return Err(db_error("attaching a payload", e)),
    };
    if done != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE secrets SET updated = $1, content_type = $2 WHERE id = $3")
        .bind(updated)
        .bind(&payload.content_type)
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(err("stamping a secret after attaching its payload"))?;
    tx.commit()
        .await
        .map_err(err("committing an attached payload"))?;
    Ok(true)
}

/// Deletes a secret; its payload, metadata, consumers, ACL and container references go by cascade.
pub(super) async fn delete(pool: &PgPool, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM secrets WHERE id = $1")
        .bind(uuid_to_db(id))
        .execute(pool)
        .await
        .map_err(err("deleting a secret"))?;
    Ok(done.rows_affected() > 0)
}

/// Whether a secret exists; with `lock`, also locks its row until the transaction ends (so it cannot be deleted
/// or concurrently changed meanwhile).
pub(super) async fn exists_by_id(
    conn: &mut PgConnection,
    id: &str,
    lock: bool,
) -> Result<bool, StoreError> {
    let sql = if lock {
        "SELECT 1 FROM secrets WHERE id = $1 FOR NO KEY UPDATE"
    } else {
        "SELECT 1 FROM secrets WHERE id = $1"
    };
    let row = sqlx::query(sql)
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(err("looking up a secret"))?;
    Ok(row.is_some())
}

/// Metadata belongs to a secret: writing it for an unknown one is an error with a clear message.
async fn ensure_secret(conn: &mut PgConnection, id: &str) -> Result<(), StoreError> {
    if exists_by_id(conn, id, true).await? {
        Ok(())
    } else {
        Err(StoreError(format!(
            "PostgreSQL store: no secret {id} to hold metadata"
        )))
    }
}

pub(super) async fn get_metadata(
    pool: &PgPool,
    id: Uuid,
) -> Result<BTreeMap<String, String>, StoreError> {
    let rows = sqlx::query("SELECT key, value FROM secret_metadata WHERE secret_id = $1")
        .bind(uuid_to_db(id))
        .fetch_all(pool)
        .await
        .map_err(err("reading secret metadata"))?;
    rows.iter()
        .map(|row| Ok((col(row, "key")?, col(row, "value")?)))
        .collect()
}

pub(super) async fn replace_metadata(
    pool: &PgPool,
    id: Uuid,
    metadata: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    ensure_secret(&mut tx, &id).await?;
    sqlx::query("DELETE FROM secret_metadata WHERE secret_id = $1")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(err("clearing secret metadata"))?;
    if !metadata.is_empty() {
        let (keys, values): (Vec<&str>, Vec<&str>) = metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .unzip();
        sqlx::query(
            "INSERT INTO secret_metadata (secret_id, key, value) \
             SELECT $1, k, v FROM UNNEST($2::TEXT[], $3::TEXT[]) AS m (k, v)",
        )
        .bind(&id)
        .bind(keys)
        .bind(values)
        .execute(&mut *tx)
        .await
        .map_err(err("inserting secret metadata"))?;
    }
    tx.commit().await.map_err(err("committing secret metadata"))
}

pub(super) async fn insert_metadatum(
    pool: &PgPool,
    id: Uuid,
    key: &str,
    value: &str,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    ensure_secret(&mut tx, &id).await?;
    let done = sqlx::query(
        "INSERT INTO secret_metadata (secret_id, key, value) VALUES ($1, $2, $3) \
         ON CONFLICT (secret_id, key) DO NOTHING",
    )
    .bind(&id)
    .bind(key)
    .bind(value)
    .execute(&mut *tx)
    .await
    .map_err(err("inserting a metadata key"))?;
    tx.commit()
        .await
        .map_err(err("committing a metadata key"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn update_metadatum(
    pool: &PgPool,
    id: Uuid,
    key: &str,
    value: &str,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE secret_metadata SET value = $1 WHERE secret_id = $2 AND key = $3")
            .bind(value)
            .bind(uuid_to_db(id))
            .bind(key)
            .execute(pool)
            .await
            .map_err(err("updating a metadata key"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_metadatum(
    pool: &PgPool,
    id: Uuid,
    key: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM secret_metadata WHERE secret_id = $1 AND key = $2")
        .bind(uuid_to_db(id))
        .bind(key)
        .execute(pool)
        .await
        .map_err(err("deleting a metadata key"))?;
    Ok(done.rows_affected() > 0)
}

/// Secrets (and certificates) expiring in `(now, until]` and secrets without an expiration, in one statement.
pub(super) async fn expiry_counts(
    pool: &PgPool,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<ExpiryCounts, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*) FILTER (WHERE expiration > $1 AND expiration <= $2) AS expiring, \
                COUNT(*) FILTER (WHERE expiration IS NULL) AS without_expiration, \
                COUNT(*) FILTER (WHERE secret_type = $3 AND expiration > $1 AND expiration <= $2) AS certificates \
         FROM secrets",
    )
    .bind(ts_bound(now))
    .bind(ts_bound(until))
    .bind(SecretType::Certificate.as_str())
    .fetch_one(pool)
    .await
    .map_err(err("counting expiring secrets"))?;
    Ok(ExpiryCounts {
        expiring: to_count(col(&row, "expiring")?)?,
        without_expiration: to_count(col(&row, "without_expiration")?)?,
        certificates_expiring: to_count(col(&row, "certificates")?)?,
    })
}

/// Secrets with an expiration at or before `until`, soonest first.
pub(super) async fn expiring_before(
    pool: &PgPool,
    until: OffsetDateTime,
) -> Result<Vec<SecretRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, project_id, creator_id, name, algorithm, bit_length, mode, secret_type, expiration, \
         created, updated, content_type FROM secrets WHERE expiration IS NOT NULL AND expiration <= $1 \
         ORDER BY expiration, id COLLATE \"C\"",
    )
    .bind(ts_bound(until))
    .fetch_all(pool)
    .await
    .map_err(err("listing expiring secrets"))?;
    rows.iter().map(secret_from_row).collect()
}

/// Secrets without an expiration, oldest first.
pub(super) async fn without_expiration(pool: &PgPool) -> Result<Vec<SecretRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, project_id, creator_id, name, algorithm, bit_length, mode, secret_type, expiration, \
         created, updated, content_type FROM secrets WHERE expiration IS NULL ORDER BY created, id COLLATE \"C\"",
    )
    .fetch_all(pool)
    .await
    .map_err(err("listing secrets without expiration"))?;
    rows.iter().map(secret_from_row).collect()
}
