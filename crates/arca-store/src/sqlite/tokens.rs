//! API token rows (`tokens`): only the HMAC digest of a token is stored, never the token. Roles are stored
//! comma-joined, so a role name may not be empty or contain a comma.

use arca_core::{StoreError, TokenRow};
use sqlx::SqliteConnection;

use super::codec::{db_err, ts_to_db};

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

pub(super) async fn revoke(conn: &mut SqliteConnection, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE tokens SET revoked = 1 WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await
        .map_err(db_err("revoking a token"))?;
    Ok(done.rows_affected() > 0)
}
