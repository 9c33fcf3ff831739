//! KMS rows: keys (`kms_keys`), their versions (`kms_key_versions`), aliases (`kms_aliases`) and tags
//! (`kms_tags`). Reads run on a pooled read connection, each one index lookup or one index range of a page
//! (`id > marker` / `name > marker`, `LIMIT`). Writes are `KmsWrite` operations the writer thread runs in one
//! savepoint each, so a multi-step change (a key with its first version and tags; a rotation's new version and
//! current-version bump; a deletion with versions, aliases and tags) is never half-written.

use arca_core::{
    KeyState, KmsAlias, KmsKeyRow, KmsKeyVersionRow, NewKmsKey, RotationKind, RotationSchedule,
    StoreError,
};
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{
    count, execute, exists, narrow, query_all, query_opt, sql_err, ts_bound, ts_from_db, ts_to_db,
    uuid_from_db, uuid_to_db,
};

const KEY_BY_ID: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, deletion_date, \
     current_version, rotation_period_days, next_rotation FROM kms_keys WHERE id = ?";
const KEYS_FIRST: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, deletion_date, \
     current_version, rotation_period_days, next_rotation FROM kms_keys WHERE project_id = ? ORDER BY id LIMIT ?";
const KEYS_AFTER: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, deletion_date, \
     current_version, rotation_period_days, next_rotation FROM kms_keys WHERE project_id = ? AND id > ? \
     ORDER BY id LIMIT ?";
const KEYS_DUE_DELETION: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, \
     deletion_date, current_version, rotation_period_days, next_rotation FROM kms_keys \
     WHERE deletion_date IS NOT NULL AND deletion_date <= ? ORDER BY deletion_date LIMIT ?";
const KEYS_DUE_ROTATION: &str = "SELECT id, project_id, description, key_spec, key_usage, state, created, \
     deletion_date, current_version, rotation_period_days, next_rotation FROM kms_keys \
     WHERE next_rotation IS NOT NULL AND next_rotation <= ? ORDER BY next_rotation LIMIT ?";

const VERSION_BY_ID: &str = "SELECT key_id, version, material, created, rotation_kind FROM kms_key_versions WHERE key_id = ? AND version = ?";
const VERSIONS_AFTER: &str = "SELECT key_id, version, material, created, rotation_kind FROM kms_key_versions \
     WHERE key_id = ? AND version > ? ORDER BY version LIMIT ?";

const ALIAS_BY_NAME: &str = "SELECT project_id, name, key_id, created, updated FROM kms_aliases WHERE project_id = ? AND name = ?";
const ALIASES_AFTER: &str = "SELECT project_id, name, key_id, created, updated FROM kms_aliases \
     WHERE project_id = ? AND name > ? ORDER BY name LIMIT ?";
const ALIASES_OF_KEY_AFTER: &str = "SELECT project_id, name, key_id, created, updated FROM kms_aliases \
     WHERE key_id = ? AND project_id = ? AND name > ? ORDER BY name LIMIT ?";

fn key_from_row(row: &Row<'_>) -> Result<KmsKeyRow, StoreError> {
    let get = sql_err("reading a KMS key row");
    let id: String = row.get(0).map_err(&get)?;
    let state: String = row.get(5).map_err(&get)?;
    let deletion: Option<i64> = row.get(7).map_err(&get)?;
    let period: Option<i64> = row.get(9).map_err(&get)?;
    let next: Option<i64> = row.get(10).map_err(&get)?;
    let rotation = match (period, next) {
        (Some(p), Some(n)) => Some(RotationSchedule {
            period_days: narrow(p, "rotation_period_days")?,
            next_rotation: ts_from_db(n)?,
        }),
        _ => None,
    };
    Ok(KmsKeyRow {
        id: uuid_from_db(&id)?,
        project_id: row.get(1).map_err(&get)?,
        description: row.get(2).map_err(&get)?,
        key_spec: row.get(3).map_err(&get)?,
        key_usage: row.get(4).map_err(&get)?,
        state: KeyState::parse(&state)
            .ok_or_else(|| StoreError(format!("SQLite store: corrupt KMS key state {state:?}")))?,
        created: ts_from_db(row.get(6).map_err(&get)?)?,
        deletion_date: deletion.map(ts_from_db).transpose()?,
        current_version: narrow(row.get::<_, i64>(8).map_err(&get)?, "current_version")?,
        rotation,
    })
}

fn version_from_row(row: &Row<'_>) -> Result<KmsKeyVersionRow, StoreError> {
    let get = sql_err("reading a KMS key version row");
    let id: String = row.get(0).map_err(&get)?;
    let kind: String = row.get(4).map_err(&get)?;
    Ok(KmsKeyVersionRow {
        key_id: uuid_from_db(&id)?,
        version: narrow(row.get::<_, i64>(1).map_err(&get)?, "version")?,
        sealed: row.get(2).map_err(&get)?,
        created: ts_from_db(row.get(3).map_err(&get)?)?,
        kind: RotationKind::parse(&kind)
            .ok_or_else(|| StoreError(format!("SQLite store: corrupt rotation kind {kind:?}")))?,
    })
}

fn alias_from_row(row: &Row<'_>) -> Result<KmsAlias, StoreError> {
    let get = sql_err("reading a KMS alias row");
    let key: String = row.get(2).map_err(&get)?;
    Ok(KmsAlias {
        project_id: row.get(0).map_err(&get)?,
        name: row.get(1).map_err(&get)?,
        key_id: uuid_from_db(&key)?,
        created: ts_from_db(row.get(3).map_err(&get)?)?,
        updated: ts_from_db(row.get(4).map_err(&get)?)?,
    })
}

fn limit_of(limit: u32) -> i64 {
    i64::from(limit)
}

pub(super) fn get_key(conn: &Connection, id: Uuid) -> Result<Option<KmsKeyRow>, StoreError> {
    query_opt(
        conn,
        KEY_BY_ID,
        [uuid_to_db(id)],
        "reading a KMS key",
        key_from_row,
    )
}

pub(super) fn list_keys(
    conn: &Connection,
    project_id: &str,
    limit: u32,
    after: Option<Uuid>,
) -> Result<Vec<KmsKeyRow>, StoreError> {
    let what = "listing KMS keys";
    match after {
        None => query_all(
            conn,
            KEYS_FIRST,
            params![project_id, limit_of(limit)],
            what,
            key_from_row,
        ),
        Some(after) => query_all(
            conn,
            KEYS_AFTER,
            params![project_id, uuid_to_db(after), limit_of(limit)],
            what,
            key_from_row,
        ),
    }
}

pub(super) fn keys_due_for_deletion(
    conn: &Connection,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<KmsKeyRow>, StoreError> {
    query_all(
        conn,
        KEYS_DUE_DELETION,
        params![ts_bound(now), limit_of(limit)],
        "finding KMS keys due for deletion",
        key_from_row,
    )
}

pub(super) fn keys_due_for_rotation(
    conn: &Connection,
    now: OffsetDateTime,
    limit: u32,
) -> Result<Vec<KmsKeyRow>, StoreError> {
    query_all(
        conn,
        KEYS_DUE_ROTATION,
        params![ts_bound(now), limit_of(limit)],
        "finding KMS keys due for rotation",
        key_from_row,
    )
}

pub(super) fn get_version(
    conn: &Connection,
    key_id: Uuid,
    version: u32,
) -> Result<Option<KmsKeyVersionRow>, StoreError> {
    query_opt(
        conn,
        VERSION_BY_ID,
        params![uuid_to_db(key_id), i64::from(version)],
        "reading a KMS key version",
        version_from_row,
    )
}

pub(super) fn list_versions(
    conn: &Connection,
    key_id: Uuid,
    limit: u32,
    after: u32,
) -> Result<Vec<KmsKeyVersionRow>, StoreError> {
    query_all(
        conn,
        VERSIONS_AFTER,
        params![uuid_to_db(key_id), i64::from(after), limit_of(limit)],
        "listing KMS key versions",
        version_from_row,
    )
}

pub(super) fn get_alias(
    conn: &Connection,
    project_id: &str,
    name: &str,
) -> Result<Option<KmsAlias>, StoreError> {
    query_opt(
        conn,
        ALIAS_BY_NAME,
        params![project_id, name],
        "reading a KMS alias",
        alias_from_row,
    )
}

pub(super) fn list_aliases(
    conn: &Connection,
    project_id: &str,
    key_id: Option<Uuid>,
    limit: u32,
    after: Option<&str>,
) -> Result<Vec<KmsAlias>, StoreError> {
    let after = after.unwrap_or("");
    let what = "listing KMS aliases";
    match key_id {
        None => query_all(
            conn,
            ALIASES_AFTER,
            params![project_id, after, limit_of(limit)],
            what,
            alias_from_row,
        ),
        Some(key) => query_all(
            conn,
            ALIASES_OF_KEY_AFTER,
            params![uuid_to_db(key), project_id, after, limit_of(limit)],
            what,
            alias_from_row,
        ),
    }
}

pub(super) fn list_tags(
    conn: &Connection,
    key_id: Uuid,
) -> Result<Vec<(String, String)>, StoreError> {
    query_all(
        conn,
        "SELECT tag_key, tag_value FROM kms_tags WHERE key_id = ? ORDER BY tag_key",
        [uuid_to_db(key_id)],
        "listing KMS tags",
        |row| {
            let get = sql_err("reading a KMS tag");
            Ok((row.get(0).map_err(&get)?, row.get(1).map_err(&get)?))
        },
    )
}

/// A KMS write.
pub(super) enum KmsWrite {
    /// A key with its first version and tags.
    InsertKey(Box<NewKmsKey>),
    /// A key's mutable fields; `false` if gone.
    UpdateKey(Box<KmsKeyRow>),
    /// A new current version; `false` if the key is gone or its version moved.
    Rotate {
        version: KmsKeyVersionRow,
        next_rotation: Option<OffsetDateTime>,
    },
    /// A key with everything hanging off it; `false` if unknown.
    DeleteKey(Uuid),
    /// A new alias; `false` if the name is taken or the key is gone.
    InsertAlias(KmsAlias),
    /// Repoints an alias; `false` if the alias or key is gone.
    UpdateAlias {
        project_id: String,
        name: String,
        key_id: Uuid,
        updated: OffsetDateTime,
    },
    /// Removes an alias; `false` if unknown.
    DeleteAlias { project_id: String, name: String },
    /// Upserts tags within a per-key maximum; `false` if over it or the key is gone.
    PutTags {
        key_id: Uuid,
        tags: Vec<(String, String)>,
        max: u32,
    },
    /// Removes tags; `false` if the key is gone.
    DeleteTags { key_id: Uuid, keys: Vec<String> },
}

impl KmsWrite {
    pub(super) fn apply(&self, conn: &Connection) -> Result<bool, StoreError> {
        match self {
            KmsWrite::InsertKey(new) => insert_key(conn, new).map(|()| true),
            KmsWrite::UpdateKey(key) => update_key(conn, key),
            KmsWrite::Rotate {
                version,
                next_rotation,
            } => rotate(conn, version, *next_rotation),
            KmsWrite::DeleteKey(id) => delete_key(conn, *id),
            KmsWrite::InsertAlias(alias) => insert_alias(conn, alias),
            KmsWrite::UpdateAlias {
                project_id,
                name,
                key_id,
                updated,
            } => {
                if !key_exists(conn, *key_id)? {
                    return Ok(false);
                }
                let done = execute(
                    conn,
                    "UPDATE kms_aliases SET key_id = ?, updated = ? WHERE project_id = ? AND name = ?",
                    params![uuid_to_db(*key_id), ts_to_db(*updated)?, project_id, name],
                    "updating a KMS alias",
                )?;
                Ok(done > 0)
            }
            KmsWrite::DeleteAlias { project_id, name } => {
                let done = execute(
                    conn,
                    "DELETE FROM kms_aliases WHERE project_id = ? AND name = ?",
                    params![project_id, name],
                    "deleting a KMS alias",
                )?;
                Ok(done > 0)
            }
            KmsWrite::PutTags { key_id, tags, max } => put_tags(conn, *key_id, tags, *max),
            KmsWrite::DeleteTags { key_id, keys } => {
                if !key_exists(conn, *key_id)? {
                    return Ok(false);
                }
                for key in keys {
                    execute(
                        conn,
                        "DELETE FROM kms_tags WHERE key_id = ? AND tag_key = ?",
                        params![uuid_to_db(*key_id), key],
                        "deleting a KMS tag",
                    )?;
                }
                Ok(true)
            }
        }
    }
}

fn key_exists(conn: &Connection, id: Uuid) -> Result<bool, StoreError> {
    exists(
        conn,
        "SELECT 1 FROM kms_keys WHERE id = ?",
        [uuid_to_db(id)],
        "looking up a KMS key",
    )
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

fn insert_key(conn: &Connection, new: &NewKmsKey) -> Result<(), StoreError> {
    let key = &new.key;
    if new.version.key_id != key.id || new.version.version != key.current_version {
        return Err(StoreError(
            "SQLite store: a new KMS key's first version must be its current version".into(),
        ));
    }
    let (period, next) = rotation_columns(key)?;
    execute(
        conn,
        "INSERT INTO kms_keys (id, project_id, description, key_spec, key_usage, state, created, deletion_date, \
         current_version, rotation_period_days, next_rotation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            uuid_to_db(key.id),
            key.project_id,
            key.description,
            key.key_spec,
            key.key_usage,
            key.state.as_str(),
            ts_to_db(key.created)?,
            key.deletion_date.map(ts_to_db).transpose()?,
            i64::from(key.current_version),
            period,
            next
        ],
        "inserting a KMS key",
    )?;
    insert_version(conn, &new.version)?;
    for (k, v) in &new.tags {
        upsert_tag(conn, key.id, k, v)?;
    }
    Ok(())
}

fn insert_version(conn: &Connection, version: &KmsKeyVersionRow) -> Result<(), StoreError> {
    execute(
        conn,
        "INSERT INTO kms_key_versions (key_id, version, material, created, rotation_kind) VALUES (?, ?, ?, ?, ?)",
        params![
            uuid_to_db(version.key_id),
            i64::from(version.version),
            version.sealed,
            ts_to_db(version.created)?,
            version.kind.as_str()
        ],
        "inserting a KMS key version",
    )?;
    Ok(())
}

fn update_key(conn: &Connection, key: &KmsKeyRow) -> Result<bool, StoreError> {
    let (period, next) = rotation_columns(key)?;
    let done = execute(
        conn,
        "UPDATE kms_keys SET description = ?, state = ?, deletion_date = ?, rotation_period_days = ?, \
         next_rotation = ? WHERE id = ?",
        params![
            key.description,
            key.state.as_str(),
            key.deletion_date.map(ts_to_db).transpose()?,
            period,
            next,
            uuid_to_db(key.id)
        ],
        "updating a KMS key",
    )?;
    Ok(done > 0)
}

fn rotate(
    conn: &Connection,
    version: &KmsKeyVersionRow,
    next_rotation: Option<OffsetDateTime>,
) -> Result<bool, StoreError> {
    let Some(previous) = version.version.checked_sub(1) else {
        return Ok(false);
    };
    let id = uuid_to_db(version.key_id);
    let moved = execute(
        conn,
        "UPDATE kms_keys SET current_version = ? WHERE id = ? AND current_version = ?",
        params![i64::from(version.version), id, i64::from(previous)],
        "rotating a KMS key",
    )?;
    if moved == 0 {
        return Ok(false);
    }
    insert_version(conn, version)?;
    if let Some(next) = next_rotation {
        execute(
            conn,
            "UPDATE kms_keys SET next_rotation = ? WHERE id = ? AND rotation_period_days IS NOT NULL",
            params![ts_to_db(next)?, id],
            "scheduling a KMS key's next rotation",
        )?;
    }
    Ok(true)
}

fn delete_key(conn: &Connection, id: Uuid) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    for sql in [
        "DELETE FROM kms_tags WHERE key_id = ?",
        "DELETE FROM kms_aliases WHERE key_id = ?",
        "DELETE FROM kms_key_versions WHERE key_id = ?",
    ] {
        execute(conn, sql, [&id], "deleting a KMS key's dependents")?;
    }
    let done = execute(
        conn,
        "DELETE FROM kms_keys WHERE id = ?",
        [&id],
        "deleting a KMS key",
    )?;
    Ok(done > 0)
}

fn insert_alias(conn: &Connection, alias: &KmsAlias) -> Result<bool, StoreError> {
    if !key_exists(conn, alias.key_id)? {
        return Ok(false);
    }
    let done = execute(
        conn,
        "INSERT INTO kms_aliases (project_id, name, key_id, created, updated) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (project_id, name) DO NOTHING",
        params![
            alias.project_id,
            alias.name,
            uuid_to_db(alias.key_id),
            ts_to_db(alias.created)?,
            ts_to_db(alias.updated)?
        ],
        "inserting a KMS alias",
    )?;
    Ok(done > 0)
}

fn upsert_tag(conn: &Connection, key_id: Uuid, key: &str, value: &str) -> Result<(), StoreError> {
    execute(
        conn,
        "INSERT INTO kms_tags (key_id, tag_key, tag_value) VALUES (?, ?, ?) \
         ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
        params![uuid_to_db(key_id), key, value],
        "writing a KMS tag",
    )?;
    Ok(())
}

fn put_tags(
    conn: &Connection,
    key_id: Uuid,
    tags: &[(String, String)],
    max: u32,
) -> Result<bool, StoreError> {
    if !key_exists(conn, key_id)? {
        return Ok(false);
    }
    let id = uuid_to_db(key_id);
    let mut total = count(
        conn,
        "SELECT COUNT(*) FROM kms_tags WHERE key_id = ?",
        [&id],
        "counting KMS tags",
    )?;
    let mut added: Vec<&str> = Vec::new();
    for (k, _) in tags {
        let known = exists(
            conn,
            "SELECT 1 FROM kms_tags WHERE key_id = ? AND tag_key = ?",
            params![id, k],
            "looking up a KMS tag",
        )?;
        if !known && !added.contains(&k.as_str()) {
            added.push(k);
            total += 1;
        }
    }
    if total > u64::from(max) {
        return Ok(false);
    }
    for (k, v) in tags {
        upsert_tag(conn, key_id, k, v)?;
    }
    Ok(true)
}
