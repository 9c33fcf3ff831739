//! API token rows (`tokens`): only the HMAC digest of a token is stored, never the token. Roles are stored
//! comma-joined (as on SQLite), so a role name may not be empty or contain a comma.

use arca_core::{StoreError, TokenRow};
use sqlx::PgPool;
use sqlx::postgres::PgRow;

use super::error::{col, err, ts_from_db, ts_to_db};

fn token_from_row(row: &PgRow) -> Result<TokenRow, StoreError> {
    let roles: String = col(row, "roles")?;
    Ok(TokenRow {
        id: col(row, "id")?,
        digest: col(row, "digest")?,
        project_id: col(row, "project_id")?,
        user_id: col(row, "user_id")?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        created: ts_from_db(col(row, "created")?)?,
        expires_at: ts_from_db(col(row, "expires_at")?)?,
        revoked: col(row, "revoked")?,
    })
}

pub(super) async fn get(pool: &PgPool, id: &str) -> Result<Option<TokenRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, digest, project_id, user_id, roles, created, expires_at, revoked FROM tokens WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(err("reading a token"))?;
    row.as_ref().map(token_from_row).transpose()
}

pub(super) async fn insert(pool: &PgPool, row: &TokenRow) -> Result<(), StoreError> {
    if let Some(bad) = row.roles.iter().find(|r| r.is_empty() || r.contains(',')) {
        return Err(StoreError(format!(
            "PostgreSQL store: role name {bad:?} must be non-empty and contain no comma"
        )));
    }
    sqlx::query(
        "INSERT INTO tokens (id, digest, project_id, user_id, roles, created, expires_at, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&row.id)
    .bind(&row.digest)
    .bind(&row.project_id)
    .bind(&row.user_id)
    .bind(row.roles.join(","))
    .bind(ts_to_db(row.created)?)
    .bind(ts_to_db(row.expires_at)?)
    .bind(row.revoked)
    .execute(pool)
    .await
    .map_err(err("inserting a token"))?;
    Ok(())
}

pub(super) async fn revoke(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE tokens SET revoked = TRUE WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(err("revoking a token"))?;
    Ok(done.rows_affected() > 0)
}
