//! Access key rows on PostgreSQL (`access_keys`): the id, the principal it acts as and the sealed secret. Roles are
//! stored comma-joined (as tokens are), so a role name may not be empty or contain a comma. Each method is one
//! statement; nothing is cached here, so a revocation on one node bites on every node at its next read.

use arca_core::{AccessKeyRecord, StoreError};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use super::error::{db_error, err, ts_from_db, ts_to_db};

fn from_row(row: &PgRow) -> Result<AccessKeyRecord, StoreError> {
    let get = |e| db_error("reading an access key row", e);
    let roles: String = row.try_get("roles").map_err(get)?;
    Ok(AccessKeyRecord {
        id: row.try_get("id").map_err(get)?,
        project_id: row.try_get("project_id").map_err(get)?,
        user_id: row.try_get("user_id").map_err(get)?,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        sealed_secret: row.try_get("secret").map_err(get)?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        revoked: row.try_get("revoked").map_err(get)?,
    })
}

/// Stores an access key; an existing id is an error (ids are random, a clash is a bug).
pub(super) async fn insert_access_key(
    pool: &PgPool,
    key: &AccessKeyRecord,
) -> Result<(), StoreError> {
    if let Some(bad) = key.roles.iter().find(|r| r.is_empty() || r.contains(',')) {
        return Err(StoreError(format!(
            "PostgreSQL store: role name {bad:?} must be non-empty and contain no comma"
        )));
    }
    sqlx::query(
        "INSERT INTO access_keys (id, project_id, user_id, roles, secret, created, revoked) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.id)
    .bind(&key.project_id)
    .bind(&key.user_id)
    .bind(key.roles.join(","))
    .bind(&key.sealed_secret)
    .bind(ts_to_db(key.created)?)
    .bind(key.revoked)
    .execute(pool)
    .await
    .map_err(err("inserting an access key"))?;
    Ok(())
}

/// An access key by id.
pub(super) async fn get_access_key(
    pool: &PgPool,
    id: &str,
) -> Result<Option<AccessKeyRecord>, StoreError> {
    sqlx::query(
        "SELECT id, project_id, user_id, roles, secret, created, revoked FROM access_keys WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(err("reading an access key"))?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// Marks an access key revoked; `false` if unknown.
pub(super) async fn revoke_access_key(pool: &PgPool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE access_keys SET revoked = TRUE WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(err("revoking an access key"))?;
    Ok(done.rows_affected() > 0)
}
