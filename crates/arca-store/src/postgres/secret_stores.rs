//! Secret stores (`secret_stores`, seeded by the migrations with the stores this build has) and each project's
//! preferred store (`project_secret_stores`).

use arca_core::{SecretStoreRecord, StoreError};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{col, err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db};

pub(super) async fn list(pool: &PgPool) -> Result<Vec<SecretStoreRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, store_plugin, crypto_plugin, global_default, created, updated \
         FROM secret_stores ORDER BY created, id COLLATE \"C\"",
    )
    .fetch_all(pool)
    .await
    .map_err(err("listing secret stores"))?;
    rows.iter()
        .map(|row| {
            let id: String = col(row, "id")?;
            Ok(SecretStoreRecord {
                id: uuid_from_db(&id)?,
                name: col(row, "name")?,
                store_plugin: col(row, "store_plugin")?,
                crypto_plugin: col(row, "crypto_plugin")?,
                global_default: col(row, "global_default")?,
                created: ts_from_db(col(row, "created")?)?,
                updated: ts_from_db(col(row, "updated")?)?,
            })
        })
        .collect()
}

pub(super) async fn get_preferred(
    pool: &PgPool,
    project_id: &str,
) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT store_id FROM project_secret_stores WHERE project_id = $1")
            .bind(project_id)
            .fetch_optional(pool)
            .await
            .map_err(err("reading a preferred secret store"))?;
    id.as_deref().map(uuid_from_db).transpose()
}

pub(super) async fn set_preferred(
    pool: &PgPool,
    project_id: &str,
    store_id: Uuid,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO project_secret_stores (project_id, store_id, created, updated) \
         SELECT $1, $2, $3, $3 WHERE EXISTS (SELECT 1 FROM secret_stores WHERE id = $2) \
         ON CONFLICT (project_id) DO UPDATE SET store_id = EXCLUDED.store_id, updated = EXCLUDED.updated",
    )
    .bind(project_id)
    .bind(uuid_to_db(store_id))
    .bind(ts_to_db(now)?)
    .execute(pool)
    .await
    .map_err(err("setting a preferred secret store"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_preferred(pool: &PgPool, project_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM project_secret_stores WHERE project_id = $1")
        .bind(project_id)
        .execute(pool)
        .await
        .map_err(err("clearing a preferred secret store"))?;
    Ok(done.rows_affected() > 0)
}
