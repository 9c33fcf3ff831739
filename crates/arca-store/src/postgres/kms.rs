//! KMS rows on PostgreSQL: keys (`kms_keys`), their versions (`kms_key_versions`), aliases (`kms_aliases`) and
//! tags (`kms_tags`). Reads are one index lookup or one index range of a page (`id > marker` / `name > marker`,
//! `LIMIT`, bytewise order through `COLLATE "C"` columns). A multi-step write (a key with its first version and
//! tags; a rotation's current-version bump and new version; tag changes under the per-key limit) is one
//! transaction; rotations and tag changes first lock the key row (the rotation through its compare-and-swap
//! `UPDATE`), so writers on several nodes serialise per key; a deletion takes its
//! versions, aliases and tags with it through the foreign keys. "Already exists" and "the key is gone" are the
//! trait's `false`, never an error.

use std::collections::HashSet;

use arca_core::{
    KeyState, KmsAlias, KmsKeyRow, KmsKeyVersionRow, NewKmsKey, RotationKind, RotationSchedule,
    StoreError,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{
    db_error, err, is_foreign_key_violation, is_unique_violation, narrow, opt_ts_to_db, ts_bound,
    ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};

const KEY_BY_ID: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, deletion_date, \
     current_version, rotation_period_days, next_rotation FROM kms_keys WHERE id = $1";
const KEYS_FIRST: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, deletion_date, \
     current_version, rotation_period_days, next_rotation FROM kms_keys WHERE project_id = $1 ORDER BY id LIMIT $2";
const KEYS_AFTER: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, deletion_date, \
     current_version, rotation_period_days, next_rotation FROM kms_keys WHERE project_id = $1 AND id > $2 \
     ORDER BY id LIMIT $3";
const KEYS_DUE_DELETION: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, \
     deletion_date, current_version, rotation_period_days, next_rotation FROM kms_keys \
     WHERE deletion_date IS NOT NULL AND deletion_date <= $1 ORDER BY deletion_date LIMIT $2";
const KEYS_DUE_ROTATION: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, \
     deletion_date, current_version, rotation_period_days, next_rotation FROM kms_keys \
     WHERE next_rotation IS NOT NULL AND next_rotation <= $1 ORDER BY next_rotation LIMIT $2";

const VERSION_BY_ID: &str = "SELECT key_id, version, material, created, rotation_kind FROM kms_key_versions \
     WHERE key_id = $1 AND version = $2";
const VERSIONS_AFTER: &str = "SELECT key_id, version, material, created, rotation_kind FROM kms_key_versions \
     WHERE key_id = $1 AND version > $2 ORDER BY version LIMIT $3";

const ALIAS_BY_NAME: &str = "SELECT project_id, name, key_id, created, updated FROM kms_aliases \
     WHERE project_id = $1 AND name = $2";
const ALIASES_AFTER: &str = "SELECT project_id, name, key_id, created, updated FROM kms_aliases \
     WHERE project_id = $1 AND name > $2 ORDER BY name LIMIT $3";
const ALIASES_OF_KEY_AFTER: &str = "SELECT project_id, name, key_id, created, updated FROM kms_aliases \
     WHERE key_id = $1 AND project_id = $2 AND name > $3 ORDER BY name LIMIT $4";

fn key_from_row(row: &PgRow) -> Result<KmsKeyRow, StoreError> {
    let get = |e| db_error("reading a KMS key row", e);
    let id: String = row.try_get("id").map_err(get)?;
    let state: String = row.try_get("state").map_err(get)?;
    let deletion: Option<i64> = row.try_get("deletion_date").map_err(get)?;
    let period: Option<i64> = row.try_get("rotation_period_days").map_err(get)?;
    let next: Option<i64> = row.try_get("next_rotation").map_err(get)?;
    let rotation = match (period, next) {
        (Some(p), Some(n)) => Some(RotationSchedule {
            period_days: narrow(p, "rotation_period_days")?,
            next_rotation: ts_from_db(n)?,
        }),
        _ => None,
    };
    Ok(KmsKeyRow {
        id: uuid_from_db(&id)?,
        project_id: row.try_get("project_id").map_err(get)?,
        description: row.try_get("description").map_err(get)?,
        key_spec: row.try_get("key_spec").map_err(get)?,
        key_usage: row.try_get("key_usage").map_err(get)?,
        state: KeyState::parse(&state).ok_or_else(|| {
            StoreError(format!("PostgreSQL store: corrupt KMS key state {state:?}"))
        })?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        deletion_date: deletion.map(ts_from_db).transpose()?,
        current_version: narrow(
            row.try_get::<i64, _>("current_version").map_err(get)?,
            "current_version",
        )?,
        rotation,
    })
}

fn version_from_row(row: &PgRow) -> Result<KmsKeyVersionRow, StoreError> {
    let get = |e| db_error("reading a KMS key version row", e);
    let id: String = row.try_get("key_id").map_err(get)?;
    let kind: String = row.try_get("rotation_kind").map_err(get)?;
    Ok(KmsKeyVersionRow {
        key_id: uuid_from_db(&id)?,
        version: narrow(row.try_get::<i64, _>("version").map_err(get)?, "version")?,
        sealed: row.try_get("material").map_err(get)?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        kind: RotationKind::parse(&kind).ok_or_else(|| {
            StoreError(format!("PostgreSQL store: corrupt rotation kind {kind:?}"))
        })?,
    })
}

fn alias_from_row(row: &PgRow) -> Result<KmsAlias, StoreError> {
    let get = |e| db_error("reading a KMS alias row", e);
    let key: String = row.try_get("key_id").map_err(get)?;
    Ok(KmsAlias {
        project_id: row.try_get("project_id").map_err(get)?,
        name: row.try_get("name").map_err(get)?,
        key_id: uuid_from_db(&key)?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
    })
}

fn all<T>(
    rows: &[PgRow],
    convert: impl Fn(&PgRow) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(convert).collect()
}

fn rotation_columns(key: &KmsKeyRow) -> Result<(Option<i64>, Option<i64>), StoreError> {
    Ok(match &key.rotation {
        Some(r) => (
            Some(i64::from(r.period_days)),
            Some(ts_to_db(r.next_rotation)?),
        ),
        None => (None, None),
    })
}

/// Locks a key's row for the rest of the transaction (`FOR NO KEY UPDATE`: tag writers on several nodes serialise,
/// inserts that only reference the key are not blocked); `false` if the key does not exist.
async fn lock_key(conn: &mut PgConnection, id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM kms_keys WHERE id = $1 FOR NO KEY UPDATE")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(err("locking a KMS key"))?;
    Ok(row.is_some())
}

// --- keys ---

/// Inserts a key with its first version and tags, atomically.
pub(super) async fn insert_kms_key(pool: &PgPool, new: &NewKmsKey) -> Result<(), StoreError> {
    let key = &new.key;
    if new.version.key_id != key.id || new.version.version != key.current_version {
        return Err(StoreError(
            "PostgreSQL store: a new KMS key's first version must be its current version".into(),
        ));
    }
    let (period, next) = rotation_columns(key)?;
    let id = uuid_to_db(key.id);
    let mut tx = pool
        .begin()
        .await
        .map_err(err("starting a KMS key insert"))?;
    sqlx::query(
        "INSERT INTO kms_keys (id, project_id, description, key_spec, key_usage, state, created, \
         deletion_date, current_version, rotation_period_days, next_rotation) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&id)
    .bind(&key.project_id)
    .bind(&key.description)
    .bind(&key.key_spec)
    .bind(&key.key_usage)
    .bind(key.state.as_str())
    .bind(ts_to_db(key.created)?)
    .bind(opt_ts_to_db(key.deletion_date)?)
    .bind(i64::from(key.current_version))
    .bind(period)
    .bind(next)
    .execute(&mut *tx)
    .await
    .map_err(err("inserting a KMS key"))?;
    insert_version(&mut tx, &new.version).await?;
    for (k, v) in &new.tags {
        upsert_tag(&mut tx, &id, k, v).await?;
    }
    tx.commit()
        .await
        .map_err(err("committing a KMS key insert"))
}

async fn insert_version(
    conn: &mut PgConnection,
    version: &KmsKeyVersionRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO kms_key_versions (key_id, version, material, created, rotation_kind) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(uuid_to_db(version.key_id))
    .bind(i64::from(version.version))
    .bind(&version.sealed)
    .bind(ts_to_db(version.created)?)
    .bind(version.kind.as_str())
    .execute(&mut *conn)
    .await
    .map_err(err("inserting a KMS key version"))?;
    Ok(())
}

/// A key's row by id, whatever its project.
pub(super) async fn get_kms_key(pool: &PgPool, id: Uuid) -> Result<Option<KmsKeyRow>, StoreError> {
    sqlx::query(KEY_BY_ID)
        .bind(uuid_to_db(id))
        .fetch_optional(pool)
        .await
        .map_err(err("reading a KMS key"))?
        .as_ref()
        .map(key_from_row)
        .transpose()
}

/// Up to `limit` of a project's keys with ids greater than `after`, in id order.
pub(super) async fn list_kms_keys(
    pool: &PgPool,
    project_id: &str,
    limit: u32,
    after: Option<Uuid>,
) -> Result<Vec<KmsKeyRow>, StoreError> {
    let rows = match after {
        None => {
            sqlx::query(KEYS_FIRST)
                .bind(project_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        }
        Some(after) => {
            sqlx::query(KEYS_AFTER)
                .bind(project_id)
                .bind(uuid_to_db(after))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        }
    }
    .map_err(err("listing KMS keys"))?;
    all(&rows, key_from_row)
}

/// Writes a key's mutable fields (never its current version); `false` if the key is gone.
pub(super) async fn update_kms_key(pool: &PgPool, key: &KmsKeyRow) -> Result<bool, StoreError> {
    let (period, next) = rotation_columns(key)?;
    let done = sqlx::query(
        "UPDATE kms_keys SET description = $1, state = $2, deletion_date = $3, rotation_period_days = $4, \
         next_rotation = $5 WHERE id = $6",
    )
    .bind(&key.description)
    .bind(key.state.as_str())
    .bind(opt_ts_to_db(key.deletion_date)?)
    .bind(period)
    .bind(next)
    .bind(uuid_to_db(key.id))
    .execute(pool)
    .await
    .map_err(err("updating a KMS key"))?;
    Ok(done.rows_affected() > 0)
}

/// Adds `version` (the key's current version + 1) and makes it current in one transaction; the current-version
/// bump is a compare-and-swap, so of two concurrent rotations to the same version exactly one wins.
pub(super) async fn rotate_kms_key(
    pool: &PgPool,
    version: &KmsKeyVersionRow,
    next_rotation: Option<OffsetDateTime>,
) -> Result<bool, StoreError> {
    let Some(previous) = version.version.checked_sub(1) else {
        return Ok(false);
    };
    let id = uuid_to_db(version.key_id);
    let next = opt_ts_to_db(next_rotation)?;
    let mut tx = pool
        .begin()
        .await
        .map_err(err("starting a KMS key rotation"))?;
    let moved = sqlx::query(
        "UPDATE kms_keys SET current_version = $1 WHERE id = $2 AND current_version = $3",
    )
    .bind(i64::from(version.version))
    .bind(&id)
    .bind(i64::from(previous))
    .execute(&mut *tx)
    .await
    .map_err(err("rotating a KMS key"))?;
    if moved.rows_affected() == 0 {
        tx.rollback()
            .await
            .map_err(err("rolling back a KMS key rotation"))?;
        return Ok(false);
    }
    insert_version(&mut tx, version).await?;
    if let Some(next) = next {
        sqlx::query(
            "UPDATE kms_keys SET next_rotation = $1 WHERE id = $2 AND rotation_period_days IS NOT NULL",
        )
        .bind(next)
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(err("scheduling a KMS key's next rotation"))?;
    }
    tx.commit()
        .await
        .map_err(err("committing a KMS key rotation"))?;
    Ok(true)
}

/// One version of a key.
pub(super) async fn get_kms_key_version(
    pool: &PgPool,
    key_id: Uuid,
    version: u32,
) -> Result<Option<KmsKeyVersionRow>, StoreError> {
    sqlx::query(VERSION_BY_ID)
        .bind(uuid_to_db(key_id))
        .bind(i64::from(version))
        .fetch_optional(pool)
        .await
        .map_err(err("reading a KMS key version"))?
        .as_ref()
        .map(version_from_row)
        .transpose()
}

/// Up to `limit` of a key's versions above `after`, in version order.
pub(super) async fn list_kms_key_versions(
    pool: &PgPool,
    key_id: Uuid,
    limit: u32,
    after: u32,
) -> Result<Vec<KmsKeyVersionRow>, StoreError> {
    let rows = sqlx::query(VERSIONS_AFTER)
        .bind(uuid_to_db(key_id))
        .bind(i64::from(after))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(err("listing KMS key versions"))?;
    all(&rows, version_from_row)
}

/// Deletes a key; its versions, aliases and tags go with it (ON DELETE CASCADE, same statement); `false` if
/// unknown.
pub(super) async fn delete_kms_key(pool: &PgPool, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM kms_keys WHERE id = $1")
        .bind(uuid_to_db(id))
        .execute(pool)
        .await
        .map_err(err("deleting a KMS key"))?;
    Ok(done.rows_affected() > 0)
}

/// Up to `limit` keys whose deletion date is at or before `now`, soonest first.
pub(super) async fn kms_keys_due_for_deletion(
    pool: &PgPool,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<KmsKeyRow>, StoreError> {
    let rows = sqlx::query(KEYS_DUE_DELETION)
        .bind(ts_bound(now))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(err("finding KMS keys due for deletion"))?;
    all(&rows, key_from_row)
}

/// Up to `limit` keys whose next automatic rotation is at or before `now`, soonest first.
pub(super) async fn kms_keys_due_for_rotation(
    pool: &PgPool,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<KmsKeyRow>, StoreError> {
    let rows = sqlx::query(KEYS_DUE_ROTATION)
        .bind(ts_bound(now))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await
        .map_err(err("finding KMS keys due for rotation"))?;
    all(&rows, key_from_row)
}

// --- aliases ---

/// Inserts an alias; `false` if the project has one of that name or the key is gone (also when the key is
/// deleted concurrently: the foreign key then refuses the row).
pub(super) async fn insert_kms_alias(pool: &PgPool, alias: &KmsAlias) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "INSERT INTO kms_aliases (project_id, name, key_id, created, updated) \
         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM kms_keys WHERE id = $3) \
         ON CONFLICT (project_id, name) DO NOTHING",
    )
    .bind(&alias.project_id)
    .bind(&alias.name)
    .bind(uuid_to_db(alias.key_id))
    .bind(ts_to_db(alias.created)?)
    .bind(ts_to_db(alias.updated)?)
    .execute(pool)
    .await;
    match result {
        Ok(done) => Ok(done.rows_affected() > 0),
        Err(e) if is_unique_violation(&e) || is_foreign_key_violation(&e) => Ok(false),
        Err(e) => Err(db_error("inserting a KMS alias", e)),
    }
}

/// Points an existing alias at another key; `false` if the alias or key is gone.
pub(super) async fn update_kms_alias(
    pool: &PgPool,
    project_id: &str,
    name: &str,
    key_id: Uuid,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE kms_aliases SET key_id = $1, updated = $2 WHERE project_id = $3 AND name = $4 \
         AND EXISTS (SELECT 1 FROM kms_keys WHERE id = $1)",
    )
    .bind(uuid_to_db(key_id))
    .bind(ts_to_db(updated)?)
    .bind(project_id)
    .bind(name)
    .execute(pool)
    .await;
    match result {
        Ok(done) => Ok(done.rows_affected() > 0),
        Err(e) if is_foreign_key_violation(&e) => Ok(false),
        Err(e) => Err(db_error("updating a KMS alias", e)),
    }
}

/// Deletes an alias; `false` if unknown.
pub(super) async fn delete_kms_alias(
    pool: &PgPool,
    project_id: &str,
    name: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM kms_aliases WHERE project_id = $1 AND name = $2")
        .bind(project_id)
        .bind(name)
        .execute(pool)
        .await
        .map_err(err("deleting a KMS alias"))?;
    Ok(done.rows_affected() > 0)
}

/// An alias by project and name.
pub(super) async fn get_kms_alias(
    pool: &PgPool,
    project_id: &str,
    name: &str,
) -> Result<Option<KmsAlias>, StoreError> {
    sqlx::query(ALIAS_BY_NAME)
        .bind(project_id)
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(err("reading a KMS alias"))?
        .as_ref()
        .map(alias_from_row)
        .transpose()
}

/// Up to `limit` of a project's aliases (only those of `key_id` if given) named after `after`, by name.
pub(super) async fn list_kms_aliases(
    pool: &PgPool,
    project_id: &str,
    key_id: Option<Uuid>,
    limit: u32,
    after: Option<&str>,
) -> Result<Vec<KmsAlias>, StoreError> {
    let after = after.unwrap_or("");
    let rows = match key_id {
        None => {
            sqlx::query(ALIASES_AFTER)
                .bind(project_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        }
        Some(key) => {
            sqlx::query(ALIASES_OF_KEY_AFTER)
                .bind(uuid_to_db(key))
                .bind(project_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        }
    }
    .map_err(err("listing KMS aliases"))?;
    all(&rows, alias_from_row)
}

// --- tags ---

async fn upsert_tag(
    conn: &mut PgConnection,
    key_id: &str,
    key: &str,
    value: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO kms_tags (key_id, tag_key, tag_value) VALUES ($1, $2, $3) \
         ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
    )
    .bind(key_id)
    .bind(key)
    .bind(value)
    .execute(&mut *conn)
    .await
    .map_err(err("writing a KMS tag"))?;
    Ok(())
}

/// Sets tags unless the key would then have more than `max_tags`; `false` (nothing written) if it would or the
/// key is gone. The key row is locked first, so concurrent tag writers cannot both pass the limit.
pub(super) async fn put_kms_tags(
    pool: &PgPool,
    key_id: Uuid,
    tags: &[(String, String)],
    max_tags: u32,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(key_id);
    let mut tx = pool
        .begin()
        .await
        .map_err(err("starting a KMS tag write"))?;
    if !lock_key(&mut tx, &id).await? {
        tx.rollback()
            .await
            .map_err(err("rolling back a KMS tag write"))?;
        return Ok(false);
    }
    let existing: Vec<String> =
        sqlx::query_scalar("SELECT tag_key FROM kms_tags WHERE key_id = $1")
            .bind(&id)
            .fetch_all(&mut *tx)
            .await
            .map_err(err("reading a KMS key's tags"))?;
    let mut keys: HashSet<&str> = existing.iter().map(String::as_str).collect();
    for (k, _) in tags {
        keys.insert(k);
    }
    if keys.len() as u64 > u64::from(max_tags) {
        tx.rollback()
            .await
            .map_err(err("rolling back a KMS tag write"))?;
        return Ok(false);
    }
    for (k, v) in tags {
        upsert_tag(&mut tx, &id, k, v).await?;
    }
    tx.commit()
        .await
        .map_err(err("committing a KMS tag write"))?;
    Ok(true)
}

/// Removes tags by key (absent ones ignored); `false` if the key is gone.
pub(super) async fn delete_kms_tags(
    pool: &PgPool,
    key_id: Uuid,
    tag_keys: &[String],
) -> Result<bool, StoreError> {
    let id = uuid_to_db(key_id);
    let mut tx = pool
        .begin()
        .await
        .map_err(err("starting a KMS tag deletion"))?;
    if !lock_key(&mut tx, &id).await? {
        tx.rollback()
            .await
            .map_err(err("rolling back a KMS tag deletion"))?;
        return Ok(false);
    }
    sqlx::query("DELETE FROM kms_tags WHERE key_id = $1 AND tag_key = ANY($2)")
        .bind(&id)
        .bind(tag_keys)
        .execute(&mut *tx)
        .await
        .map_err(err("deleting KMS tags"))?;
    tx.commit()
        .await
        .map_err(err("committing a KMS tag deletion"))?;
    Ok(true)
}

/// A key's tags, by tag key.
pub(super) async fn list_kms_tags(
    pool: &PgPool,
    key_id: Uuid,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows =
        sqlx::query("SELECT tag_key, tag_value FROM kms_tags WHERE key_id = $1 ORDER BY tag_key")
            .bind(uuid_to_db(key_id))
            .fetch_all(pool)
            .await
            .map_err(err("listing KMS tags"))?;
    all(&rows, |row| {
        let get = |e| db_error("reading a KMS tag", e);
        Ok((
            row.try_get("tag_key").map_err(get)?,
            row.try_get("tag_value").map_err(get)?,
        ))
    })
}
