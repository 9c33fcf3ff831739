//! API token rows (`tokens`): only the HMAC digest of a token is stored, never the token. Roles are stored
//! comma-joined, so a role name may not be empty or contain a comma.

use arca_core::{StoreError, TokenRow};
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::codec::{db_err, ts_from_db, ts_to_db};

pub(super) async fn insert(conn: &mut SqliteConnection, row: &TokenRow) -> Result<(), StoreError> {
    if let Some(bad) = row.roles.iter().find(|r| r.is_empty() || r.contains(',')) {
        return Err(StoreError(format!(
            "SQLite store: role name {bad:?} must be non-empty and contain no comma"
        )));
    }
    sqlx::query(
        "INSERT INTO tokens (id, digest, project_id, user_id, roles, created, expires_at, revoked) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.id)
    .bind(&row.digest)
    .bind(&row.project_id)
    .bind(&row.user_id)
    .bind(row.roles.join(","))
    .bind(ts_to_db(row.created)?)
    .bind(ts_to_db(row.expires_at)?)
    .bind(row.revoked)
    .execute(conn)
    .await
    .map_err(db_err("inserting a token"))?;
    Ok(())
}

pub(super) async fn get(pool: &SqlitePool, id: &str) -> Result<Option<TokenRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, digest, project_id, user_id, roles, created, expires_at, revoked FROM tokens WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(db_err("reading a token"))?;
    let Some(row) = row else { return Ok(None) };
    let get = |e| db_err("reading a token row")(e);
    let roles: String = row.try_get("roles").map_err(get)?;
    Ok(Some(TokenRow {
        id: row.try_get("id").map_err(get)?,
        digest: row.try_get("digest").map_err(get)?,
        project_id: row.try_get("project_id").map_err(get)?,
        user_id: row.try_get("user_id").map_err(get)?,
        roles: if roles.is_empty() {
            Vec::new()
        } else {
            roles.split(',').map(str::to_owned).collect()
        },
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        expires_at: ts_from_db(row.try_get("expires_at").map_err(get)?)?,
        revoked: row.try_get("revoked").map_err(get)?,
    }))
}

pub(super) async fn revoke(conn: &mut SqliteConnection, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE tokens SET revoked = 1 WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await
        .map_err(db_err("revoking a token"))?;
    Ok(done.rows_affected() > 0)
}
