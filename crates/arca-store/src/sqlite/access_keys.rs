//! Access key rows (`access_keys`): the id, the principal it acts as and the sealed secret. Roles are stored
//! comma-joined (as tokens do), so a role name may not be empty or contain a comma. The read runs on a pooled
//! read connection; writes run on the writer thread.

use arca_core::{AccessKeyRecord, StoreError};
use rusqlite::{Connection, Row, params};

use super::codec::{execute, query_opt, sql_err, ts_from_db, ts_to_db};

const ACCESS_KEY_BY_ID: &str =
    "SELECT id, project_id, user_id, roles, secret, created, revoked FROM access_keys WHERE id = ?";

fn from_row(row: &Row<'_>) -> Result<AccessKeyRecord, StoreError> {
    let get = sql_err("reading an access key row");
    let roles: String = row.get(3).map_err(&get)?;
    Ok(AccessKeyRecord {
        id: row.get(0).map_err(&get)?,
        project_id: row.get(1).map_err(&get)?,
        user_id: row.get(2).map_err(&get)?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        sealed_secret: row.get(4).map_err(&get)?,
        created: ts_from_db(row.get(5).map_err(&get)?)?,
        revoked: row.get::<_, i64>(6).map_err(&get)? != 0,
    })
}

/// An access key by id.
pub(super) fn get(conn: &Connection, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
    query_opt(
        conn,
        ACCESS_KEY_BY_ID,
        [id],
        "reading an access key",
        from_row,
    )
}

pub(super) fn insert(conn: &Connection, key: &AccessKeyRecord) -> Result<(), StoreError> {
    if let Some(bad) = key.roles.iter().find(|r| r.is_empty() || r.contains(',')) {
        return Err(StoreError(format!(
            "SQLite store: role name {bad:?} must be non-empty and contain no comma"
        )));
    }
    execute(
        conn,
        "INSERT INTO access_keys (id, project_id, user_id, roles, secret, created, revoked) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![
            key.id,
            key.project_id,
            key.user_id,
            key.roles.join(","),
            key.sealed_secret,
            ts_to_db(key.created)?,
            key.revoked
        ],
        "inserting an access key",
    )?;
    Ok(())
}

pub(super) fn revoke(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE access_keys SET revoked = 1 WHERE id = ?",
        [id],
        "revoking an access key",
    )?;
    Ok(done > 0)
}
