//! Order rows (`orders`): placing one (quota-checked in the same savepoint), reading and listing a project's
//! orders, and finishing one: a `key` order's secret (an `asymmetric` order's secrets and container) are inserted
//! in the same savepoint that marks the order `ACTIVE`, so an order never points at something that is not there;
//! a failure marks it `ERROR`.

use arca_core::{
    ContainerRecord, OrderPage, OrderRecord, OrderStatus, OrderType, QuotaCheck, SecretRecord,
    StoreError, StoredPayload,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{db_err, narrow, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db};
use super::{containers, quotas, secrets};

/// Barbican's `sub_status` and `sub_status_message` of a processed order (`FollowOnProcessingStatusDTO`).
const SUB_STATUS_DONE: &str = "Unknown";

/// An order write.
pub(super) enum OrderWrite {
    /// Places an order if the project's orders quota admits it; `false` if not.
    Insert {
        order: OrderRecord,
        check: QuotaCheck,
    },
    /// Stores a `key` order's secret and marks the order `ACTIVE`; `false` if the order is gone.
    CompleteKey {
        order_id: Uuid,
        secret: SecretRecord,
        payload: StoredPayload,
        at: OffsetDateTime,
    },
    /// Stores an `asymmetric` order's secrets and `rsa` container and marks the order `ACTIVE`; `false` if the
    /// order is gone.
    CompleteAsymmetric {
        order_id: Uuid,
        secrets: Vec<(SecretRecord, StoredPayload)>,
        container: ContainerRecord,
        at: OffsetDateTime,
    },
    /// Marks an order `ERROR`; `false` if the order is gone.
    Fail {
        order_id: Uuid,
        code: u16,
        reason: String,
        at: OffsetDateTime,
    },
    /// Deletes an order (never what it generated); `false` if unknown.
    Delete(Uuid),
}

impl OrderWrite {
    pub(super) async fn apply(&self, conn: &mut SqliteConnection) -> Result<bool, StoreError> {
        match self {
            OrderWrite::Insert { order, check } => {
                if !quotas::admit(conn, &order.project_id, *check).await? {
                    return Ok(false);
                }
                insert(conn, order).await.map(|()| true)
            }
            OrderWrite::CompleteKey {
                order_id,
                secret,
                payload,
                at,
            } => {
                if !exists(conn, *order_id).await? {
                    return Ok(false);
                }
                secrets::insert(conn, secret, Some(payload)).await?;
                finish(conn, *order_id, Some(secret.id), None, *at).await
            }
            OrderWrite::CompleteAsymmetric {
                order_id,
                secrets: generated,
                container,
                at,
            } => {
                if !exists(conn, *order_id).await? {
                    return Ok(false);
                }
                for (secret, payload) in generated {
                    secrets::insert(conn, secret, Some(payload)).await?;
                }
                // An error (not `false`) so the savepoint, secrets included, is rolled back.
                if !containers::insert(conn, container).await? {
                    return Err(StoreError(format!(
                        "SQLite store: the key pair of order {order_id} vanished before its container was stored"
                    )));
                }
                finish(conn, *order_id, None, Some(container.id), *at).await
            }
            OrderWrite::Fail {
                order_id,
                code,
                reason,
                at,
            } => fail(conn, *order_id, *code, reason, *at).await,
            OrderWrite::Delete(id) => delete(conn, *id).await,
        }
    }
}

const COLUMNS: &str = "id, project_id, creator_id, order_type, status, meta, secret_id, container_id, \
     error_status_code, error_reason, sub_status, sub_status_message, created, updated";

fn from_row(row: &SqliteRow) -> Result<OrderRecord, StoreError> {
    let get = |e| db_err("reading an order row")(e);
    let id: String = row.try_get("id").map_err(get)?;
    let kind: String = row.try_get("order_type").map_err(get)?;
    let status: String = row.try_get("status").map_err(get)?;
    let secret_id: Option<String> = row.try_get("secret_id").map_err(get)?;
    let container_id: Option<String> = row.try_get("container_id").map_err(get)?;
    let code: Option<i64> = row.try_get("error_status_code").map_err(get)?;
    Ok(OrderRecord {
        id: uuid_from_db(&id)?,
        project_id: row.try_get("project_id").map_err(get)?,
        creator_id: row.try_get("creator_id").map_err(get)?,
        order_type: OrderType::parse(&kind).ok_or_else(|| {
            StoreError(format!(
                "SQLite store: unknown order type {kind:?} in order {id}"
            ))
        })?,
        status: OrderStatus::parse(&status).ok_or_else(|| {
            StoreError(format!(
                "SQLite store: unknown order status {status:?} in order {id}"
            ))
        })?,
        meta: row.try_get("meta").map_err(get)?,
        secret_id: secret_id.as_deref().map(uuid_from_db).transpose()?,
        container_id: container_id.as_deref().map(uuid_from_db).transpose()?,
        error_status_code: code.map(|c| narrow(c, "error_status_code")).transpose()?,
        error_reason: row.try_get("error_reason").map_err(get)?,
        sub_status: row.try_get("sub_status").map_err(get)?,
        sub_status_message: row.try_get("sub_status_message").map_err(get)?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
    })
}

pub(super) async fn get(pool: &SqlitePool, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM orders WHERE id = ?"
    )))
    .bind(uuid_to_db(id))
    .fetch_optional(pool)
    .await
    .map_err(db_err("reading an order"))?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    pool: &SqlitePool,
    project_id: &str,
    limit: u32,
    offset: u32,
) -> Result<OrderPage, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM orders WHERE project_id = ? ORDER BY created ASC, id ASC LIMIT ? OFFSET ?"
    )))
    .bind(project_id)
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err("listing orders"))?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE project_id = ?")
        .bind(project_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err("counting orders"))?;
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;
    Ok(OrderPage {
        orders: rows.iter().map(from_row).collect::<Result<_, _>>()?,
        total: u64::try_from(total).unwrap_or(0),
    })
}

async fn insert(conn: &mut SqliteConnection, o: &OrderRecord) -> Result<(), StoreError> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO orders ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(uuid_to_db(o.id))
    .bind(&o.project_id)
    .bind(&o.creator_id)
    .bind(o.order_type.as_str())
    .bind(o.status.as_str())
    .bind(&o.meta)
    .bind(o.secret_id.map(uuid_to_db))
    .bind(o.container_id.map(uuid_to_db))
    .bind(o.error_status_code.map(i64::from))
    .bind(&o.error_reason)
    .bind(&o.sub_status)
    .bind(&o.sub_status_message)
    .bind(ts_to_db(o.created)?)
    .bind(ts_to_db(o.updated)?)
    .execute(conn)
    .await
    .map_err(db_err("inserting an order"))?;
    Ok(())
}

async fn exists(conn: &mut SqliteConnection, id: Uuid) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM orders WHERE id = ?")
        .bind(uuid_to_db(id))
        .fetch_optional(conn)
        .await
        .map_err(db_err("looking up an order"))?;
    Ok(found.is_some())
}

/// Marks an order `ACTIVE` with what it generated.
pub(super) async fn finish(
    conn: &mut SqliteConnection,
    id: Uuid,
    secret_id: Option<Uuid>,
    container_id: Option<Uuid>,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = ?, secret_id = ?, container_id = ?, sub_status = ?, \
         sub_status_message = ?, updated = ? WHERE id = ?",
    )
    .bind(OrderStatus::Active.as_str())
    .bind(secret_id.map(uuid_to_db))
    .bind(container_id.map(uuid_to_db))
    .bind(SUB_STATUS_DONE)
    .bind(SUB_STATUS_DONE)
    .bind(ts_to_db(at)?)
    .bind(uuid_to_db(id))
    .execute(conn)
    .await
    .map_err(db_err("completing an order"))?;
    Ok(done.rows_affected() > 0)
}

async fn fail(
    conn: &mut SqliteConnection,
    id: Uuid,
    code: u16,
    reason: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = ?, error_status_code = ?, error_reason = ?, updated = ? WHERE id = ?",
    )
    .bind(OrderStatus::Error.as_str())
    .bind(i64::from(code))
    .bind(reason)
    .bind(ts_to_db(at)?)
    .bind(uuid_to_db(id))
    .execute(conn)
    .await
    .map_err(db_err("failing an order"))?;
    Ok(done.rows_affected() > 0)
}

async fn delete(conn: &mut SqliteConnection, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM orders WHERE id = ?")
        .bind(uuid_to_db(id))
        .execute(conn)
        .await
        .map_err(db_err("deleting an order"))?;
    Ok(done.rows_affected() > 0)
}
