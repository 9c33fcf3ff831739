//! Secret consumers (`secret_consumers`): reads on the read pool, writes as functions the writer task runs
//! inside a savepoint.

use std::collections::BTreeMap;

use arca_core::{SecretConsumer, SecretConsumerPage, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::codec::{db_err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db};

const COLUMNS: &str =
    "secret_id, service, resource_type, resource_id, project_id, created, updated";

fn consumer_from_row(row: &SqliteRow) -> Result<SecretConsumer, StoreError> {
    let get = |e| db_err("reading a secret consumer row")(e);
    Ok(SecretConsumer {
        service: row.try_get("service").map_err(get)?,
        resource_type: row.try_get("resource_type").map_err(get)?,
        resource_id: row.try_get("resource_id").map_err(get)?,
        project_id: row.try_get("project_id").map_err(get)?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
    })
}

/// Registers a consumer; a new one stamps the secret's `updated`. `false` if the secret is gone.
pub(super) async fn upsert(
    conn: &mut SqliteConnection,
    id: Uuid,
    c: &SecretConsumer,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM secrets WHERE id = ?")
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err("looking up a secret"))?;
    if found.is_none() {
        return Ok(false);
    }
    let done = sqlx::query(
        "INSERT INTO secret_consumers (secret_id, service, resource_type, resource_id, project_id, created, \
         updated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(&c.service)
    .bind(&c.resource_type)
    .bind(&c.resource_id)
    .bind(&c.project_id)
    .bind(ts_to_db(c.created)?)
    .bind(ts_to_db(c.updated)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err("registering a secret consumer"))?;
    if done.rows_affected() == 1 {
        sqlx::query("UPDATE secrets SET updated = ? WHERE id = ?")
            .bind(ts_to_db(c.updated)?)
            .bind(&id)
            .execute(&mut *conn)
            .await
            .map_err(db_err("stamping a secret"))?;
    }
    Ok(true)
}

pub(super) async fn list(
    pool: &SqlitePool,
    id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<SecretConsumerPage, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM secret_consumers WHERE secret_id = ? \
         ORDER BY created, service, resource_type, resource_id LIMIT ? OFFSET ?"
    ));
    let rows = sqlx::query(sql)
        .bind(&id)
        .bind(i64::from(limit))
        .bind(i64::from(offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err("listing secret consumers"))?;
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM secret_consumers WHERE secret_id = ?")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err("counting secret consumers"))?;
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;
    let consumers = rows
        .iter()
        .map(consumer_from_row)
        .collect::<Result<_, _>>()?;
    let total = u64::try_from(total)
        .map_err(|_| StoreError(format!("SQLite store: negative count {total}")))?;
    Ok(SecretConsumerPage { consumers, total })
}

/// Every consumer of each secret in `ids` (at most a page of them), oldest first.
pub(super) async fn of(
    pool: &SqlitePool,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, StoreError> {
    let mut out: BTreeMap<Uuid, Vec<SecretConsumer>> = BTreeMap::new();
    for chunk in ids.chunks(100) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM secret_consumers WHERE secret_id IN ({marks}) \
             ORDER BY created, service, resource_type, resource_id"
        ));
        let mut query = sqlx::query(sql);
        for id in chunk {
            query = query.bind(uuid_to_db(*id));
        }
        let rows = query
            .fetch_all(pool)
            .await
            .map_err(db_err("reading secret consumers"))?;
        for row in &rows {
            let secret_id: String = row
                .try_get("secret_id")
                .map_err(db_err("reading a secret consumer row"))?;
            out.entry(uuid_from_db(&secret_id)?)
                .or_default()
                .push(consumer_from_row(row)?);
        }
    }
    Ok(out)
}

pub(super) async fn delete(
    conn: &mut SqliteConnection,
    id: Uuid,
    service: &str,
    resource_type: &str,
    resource_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM secret_consumers WHERE secret_id = ? AND service = ? AND resource_type = ? \
         AND resource_id = ?",
    )
    .bind(uuid_to_db(id))
    .bind(service)
    .bind(resource_type)
    .bind(resource_id)
    .execute(conn)
    .await
    .map_err(db_err("removing a secret consumer"))?;
    Ok(done.rows_affected() > 0)
}
