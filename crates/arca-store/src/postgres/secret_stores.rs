//! Secret stores (`secret_stores`, brought in line with the configuration at start-up) and each project's
//! preferred store (`project_secret_stores`); which store holds each payload (`secret_payloads.store_id`), moves
//! between stores and the objects they leave behind (`secret_store_orphans`).

use arca_core::{PlacedPayload, SecretStoreRecord, StoreError, StoreOrphan, StoredPayload};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{col, err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db};

pub(super) async fn list(pool: &PgPool) -> Result<Vec<SecretStoreRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, store_plugin, crypto_plugin, global_default, created, updated, config_name, \
         configured FROM secret_stores ORDER BY created, id COLLATE \"C\"",
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
                config_name: col(row, "config_name")?,
                configured: col(row, "configured")?,
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

/// Inserts or updates every configured store (by id) and marks every other row unconfigured and not the
/// default, in one transaction (nodes starting together with one configuration converge on the same rows).
pub(super) async fn sync(
    pool: &PgPool,
    configured: &[SecretStoreRecord],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    // One writer at a time: two nodes syncing at once would otherwise race on the retirement update.
    sqlx::query("LOCK TABLE secret_stores IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .map_err(err("locking the secret stores"))?;
    let mut ids = Vec::with_capacity(configured.len());
    for store in configured {
        let id = uuid_to_db(store.id);
        sqlx::query(
            "INSERT INTO secret_stores (id, name, store_plugin, crypto_plugin, global_default, created, \
             updated, config_name, configured) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, TRUE) \
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, store_plugin = EXCLUDED.store_plugin, \
             crypto_plugin = EXCLUDED.crypto_plugin, global_default = EXCLUDED.global_default, \
             config_name = EXCLUDED.config_name, configured = TRUE, updated = EXCLUDED.updated \
             WHERE secret_stores.name IS DISTINCT FROM EXCLUDED.name \
             OR secret_stores.store_plugin IS DISTINCT FROM EXCLUDED.store_plugin \
             OR secret_stores.crypto_plugin IS DISTINCT FROM EXCLUDED.crypto_plugin \
             OR secret_stores.global_default IS DISTINCT FROM EXCLUDED.global_default \
             OR secret_stores.config_name IS DISTINCT FROM EXCLUDED.config_name \
             OR NOT secret_stores.configured",
        )
        .bind(&id)
        .bind(&store.name)
        .bind(&store.store_plugin)
        .bind(&store.crypto_plugin)
        .bind(store.global_default)
        .bind(ts_to_db(store.updated)?)
        .bind(&store.config_name)
        .execute(&mut *tx)
        .await
        .map_err(err("configuring a secret store"))?;
        ids.push(id);
    }
    sqlx::query(
        "UPDATE secret_stores SET configured = FALSE, global_default = FALSE \
         WHERE (configured OR global_default) AND NOT (id = ANY($1))",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await
    .map_err(err("retiring secret stores"))?;
    tx.commit()
        .await
        .map_err(err("committing the secret stores"))
}

pub(super) async fn payloads_in_store(
    pool: &PgPool,
    store_id: Uuid,
    project_id: Option<&str>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<PlacedPayload>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.ciphertext, p.content_type, p.store_id, p.secret_id, s.project_id \
         FROM secret_payloads p JOIN secrets s ON s.id = p.secret_id \
         WHERE p.store_id = $1 AND p.secret_id COLLATE \"C\" > $2 AND ($3::TEXT IS NULL OR s.project_id = $3) \
         ORDER BY p.secret_id COLLATE \"C\" LIMIT $4",
    )
    .bind(uuid_to_db(store_id))
    .bind(after.map(uuid_to_db).unwrap_or_default())
    .bind(project_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(err("listing the payloads of a secret store"))?;
    rows.iter()
        .map(|row| {
            let secret_id: String = col(row, "secret_id")?;
            Ok(PlacedPayload {
                payload: super::secrets::payload_from_row(row)?,
                secret_id: uuid_from_db(&secret_id)?,
                project_id: col(row, "project_id")?,
            })
        })
        .collect()
}

pub(super) async fn count_payloads_in_store(
    pool: &PgPool,
    store_id: Uuid,
    project_id: Option<&str>,
) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM secret_payloads p JOIN secrets s ON s.id = p.secret_id \
         WHERE p.store_id = $1 AND ($2::TEXT IS NULL OR s.project_id = $2)",
    )
    .bind(uuid_to_db(store_id))
    .bind(project_id)
    .fetch_one(pool)
    .await
    .map_err(err("counting the payloads of a secret store"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Compare-and-swap of a payload row, with the orphan it leaves recorded in the same transaction.
pub(super) async fn move_payload(
    pool: &PgPool,
    secret_id: Uuid,
    old: &StoredPayload,
    new: &StoredPayload,
    orphan: Option<&StoreOrphan>,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    let done = sqlx::query(
        "UPDATE secret_payloads SET ciphertext = $1, store_id = $2 \
         WHERE secret_id = $3 AND store_id = $4 AND ciphertext = $5",
    )
    .bind(&new.ciphertext)
    .bind(uuid_to_db(new.store_id))
    .bind(uuid_to_db(secret_id))
    .bind(uuid_to_db(old.store_id))
    .bind(&old.ciphertext)
    .execute(&mut *tx)
    .await
    .map_err(err("moving a payload"))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(orphan) = orphan {
        sqlx::query(
            "INSERT INTO secret_store_orphans (store_id, secret_id, project_id, sealed_locator, created) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(uuid_to_db(orphan.store_id))
        .bind(uuid_to_db(orphan.secret_id))
        .bind(&orphan.project_id)
        .bind(&orphan.sealed_locator)
        .bind(ts_to_db(OffsetDateTime::now_utc())?)
        .execute(&mut *tx)
        .await
        .map_err(err("recording an object left on a secret store"))?;
    }
    tx.commit()
        .await
        .map_err(err("committing a payload move"))?;
    Ok(true)
}

pub(super) async fn orphans(pool: &PgPool, store_id: Uuid) -> Result<Vec<StoreOrphan>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, store_id, secret_id, project_id, sealed_locator FROM secret_store_orphans \
         WHERE store_id = $1 ORDER BY id",
    )
    .bind(uuid_to_db(store_id))
    .fetch_all(pool)
    .await
    .map_err(err("listing objects left on a secret store"))?;
    rows.iter()
        .map(|row| {
            let store: String = col(row, "store_id")?;
            let secret: String = col(row, "secret_id")?;
            Ok(StoreOrphan {
                id: col(row, "id")?,
                store_id: uuid_from_db(&store)?,
                secret_id: uuid_from_db(&secret)?,
                project_id: col(row, "project_id")?,
                sealed_locator: col(row, "sealed_locator")?,
            })
        })
        .collect()
}

pub(super) async fn delete_orphan(pool: &PgPool, id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM secret_store_orphans WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map_err(err("forgetting an object left on a secret store"))?;
    Ok(())
}
