//! Secret stores (`secret_stores`, seeded by the migrations with the stores this build has) and each
//! project's preferred store (`project_secret_stores`).

use arca_core::{SecretStoreRecord, StoreError};
use sqlx::{Row, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{db_err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db};

pub(super) async fn list(pool: &SqlitePool) -> Result<Vec<SecretStoreRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, store_plugin, crypto_plugin, global_default, created, updated \
         FROM secret_stores ORDER BY created, id",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err("listing secret stores"))?;
    rows.iter()
        .map(|row| {
            let get = |e| db_err("reading a secret store row")(e);
            let id: String = row.try_get("id").map_err(get)?;
            let global_default: i64 = row.try_get("global_default").map_err(get)?;
            Ok(SecretStoreRecord {
                id: uuid_from_db(&id)?,
                name: row.try_get("name").map_err(get)?,
                store_plugin: row.try_get("store_plugin").map_err(get)?,
                crypto_plugin: row.try_get("crypto_plugin").map_err(get)?,
                global_default: global_default != 0,
                created: ts_from_db(row.try_get("created").map_err(get)?)?,
                updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
            })
        })
        .collect()
}

pub(super) async fn get_preferred(
    pool: &SqlitePool,
    project_id: &str,
) -> Result<Option<Uuid>, StoreError> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT store_id FROM project_secret_stores WHERE project_id = ?")
            .bind(project_id)
            .fetch_optional(pool)
            .await
            .map_err(db_err("reading a preferred secret store"))?;
    id.as_deref().map(uuid_from_db).transpose()
}

pub(super) async fn set_preferred(
    conn: &mut SqliteConnection,
    project_id: &str,
    store_id: Uuid,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let now = ts_to_db(now)?;
    let done = sqlx::query(
        "INSERT INTO project_secret_stores (project_id, store_id, created, updated) \
         SELECT ?1, ?2, ?3, ?3 WHERE EXISTS (SELECT 1 FROM secret_stores WHERE id = ?2) \
         ON CONFLICT (project_id) DO UPDATE SET store_id = excluded.store_id, updated = excluded.updated",
    )
    .bind(project_id)
    .bind(uuid_to_db(store_id))
    .bind(now)
    .execute(conn)
    .await
    .map_err(db_err("setting a preferred secret store"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_preferred(
    conn: &mut SqliteConnection,
    project_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM project_secret_stores WHERE project_id = ?")
        .bind(project_id)
        .execute(conn)
        .await
        .map_err(db_err("clearing a preferred secret store"))?;
    Ok(done.rows_affected() > 0)
}
