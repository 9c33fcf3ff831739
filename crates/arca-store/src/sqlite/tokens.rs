//! API token rows (`tokens`): only the HMAC digest of a token is stored, never the token. Roles are stored
//! comma-joined, so a role name may not be empty or contain a comma. The read runs on a pooled read connection
//! (every authenticated request that misses the token cache makes it); writes run on the writer thread.

use arca_core::{StoreError, TokenRow};
use rusqlite::{Connection, Row, params};

use super::codec::{execute, query_opt, sql_err, ts_from_db, ts_to_db};

const TOKEN_BY_ID: &str = "SELECT id, digest, project_id, user_id, roles, created, expires_at, revoked FROM tokens WHERE id = ?1";

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

/// A token row by id.
pub(super) fn get(conn: &Connection, id: &str) -> Result<Option<TokenRow>, StoreError> {
    query_opt(conn, TOKEN_BY_ID, [id], "reading a token", token_from_row)
}

pub(super) fn insert(conn: &Connection, row: &TokenRow) -> Result<(), StoreError> {
    if let Some(bad) = row.roles.iter().find(|r| r.is_empty() || r.contains(',')) {
        return Err(StoreError(format!(
            "SQLite store: role name {bad:?} must be non-empty and contain no comma"
        )));
    }
    execute(
        conn,
        "INSERT INTO tokens (id, digest, project_id, user_id, roles, created, expires_at, revoked) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            row.id,
            row.digest,
            row.project_id,
            row.user_id,
            row.roles.join(","),
            ts_to_db(row.created)?,
            ts_to_db(row.expires_at)?,
            row.revoked
        ],
        "inserting a token",
    )?;
    Ok(())
}

pub(super) fn revoke(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE tokens SET revoked = 1 WHERE id = ?",
        [id],
        "revoking a token",
    )?;
    Ok(done > 0)
}
