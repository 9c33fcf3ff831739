//! Order rows (`orders`): placing one (quota-checked in its transaction), reading and listing a project's
//! orders, and finishing one: a `key` order's secret (an `asymmetric` order's secrets and container) are inserted
//! in the transaction that marks the order `ACTIVE` (the order's row locked first), so an order never points at
//! something that is not there; a failure marks it `ERROR`.

use arca_core::{
    ContainerRecord, OrderPage, OrderRecord, OrderStatus, OrderType, QuotaCheck, SecretRecord,
    StoreError, StoredPayload,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{
    col, err, narrow, to_count, ts_bound, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};
use super::{containers, quotas, secrets};

/// Barbican's `sub_status` and `sub_status_message` of a processed order (`FollowOnProcessingStatusDTO`).
const SUB_STATUS_DONE: &str = "Unknown";

fn from_row(row: &PgRow) -> Result<OrderRecord, StoreError> {
    let id: String = col(row, "id")?;
    let kind: String = col(row, "order_type")?;
    let status: String = col(row, "status")?;
    let secret_id: Option<String> = col(row, "secret_id")?;
    let container_id: Option<String> = col(row, "container_id")?;
    let code: Option<i64> = col(row, "error_status_code")?;
    Ok(OrderRecord {
        id: uuid_from_db(&id)?,
        project_id: col(row, "project_id")?,
        creator_id: col(row, "creator_id")?,
        order_type: OrderType::parse(&kind).ok_or_else(|| {
            StoreError(format!(
                "PostgreSQL store: unknown order type {kind:?} in order {id}"
            ))
        })?,
        status: OrderStatus::parse(&status).ok_or_else(|| {
            StoreError(format!(
                "PostgreSQL store: unknown order status {status:?} in order {id}"
            ))
        })?,
        meta: col(row, "meta")?,
        secret_id: secret_id.as_deref().map(uuid_from_db).transpose()?,
        container_id: container_id.as_deref().map(uuid_from_db).transpose()?,
        error_status_code: code.map(|c| narrow(c, "error_status_code")).transpose()?,
        error_reason: col(row, "error_reason")?,
        sub_status: col(row, "sub_status")?,
        sub_status_message: col(row, "sub_status_message")?,
        created: ts_from_db(col(row, "created")?)?,
        updated: ts_from_db(col(row, "updated")?)?,
    })
}

pub(super) async fn get(pool: &PgPool, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT id, project_id, creator_id, order_type, status, meta, secret_id, container_id, \
         error_status_code, error_reason, sub_status, sub_status_message, created, updated \
         FROM orders WHERE id = $1",
    )
    .bind(uuid_to_db(id))
    .fetch_optional(pool)
    .await
    .map_err(err("reading an order"))?;
    row.as_ref().map(from_row).transpose()
}

/// One page of a project's orders and their total, from one snapshot.
pub(super) async fn list(
    pool: &PgPool,
    project_id: &str,
    limit: u32,
    offset: u32,
) -> Result<OrderPage, StoreError> {
    let mut tx = super::snapshot(pool).await?;
    let rows = sqlx::query(
        "SELECT id, project_id, creator_id, order_type, status, meta, secret_id, container_id, \
         error_status_code, error_reason, sub_status, sub_status_message, created, updated \
         FROM orders WHERE project_id = $1 ORDER BY created ASC, id COLLATE \"C\" ASC LIMIT $2 OFFSET $3",
    )
    .bind(project_id)
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(&mut *tx)
    .await
    .map_err(err("listing orders"))?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE project_id = $1")
        .bind(project_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(err("counting orders"))?;
    tx.commit().await.map_err(err("ending a read"))?;
    Ok(OrderPage {
        orders: rows.iter().map(from_row).collect::<Result<_, _>>()?,
        total: to_count(total)?,
    })
}

/// Places an order if the project's orders quota admits it.
pub(super) async fn insert(
    pool: &PgPool,
    o: &OrderRecord,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !quotas::admit(&mut tx, &o.project_id, check).await? {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO orders (id, project_id, creator_id, order_type, status, meta, secret_id, container_id, \
         error_status_code, error_reason, sub_status, sub_status_message, created, updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
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
    .execute(&mut *tx)
    .await
    .map_err(err("inserting an order"))?;
    tx.commit().await.map_err(err("committing an order"))?;
    Ok(true)
}

/// Whether the order exists; locks its row until the transaction ends.
async fn lock_order(conn: &mut PgConnection, id: Uuid) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM orders WHERE id = $1 FOR NO KEY UPDATE")
        .bind(uuid_to_db(id))
        .fetch_optional(conn)
        .await
        .map_err(err("looking up an order"))?;
    Ok(row.is_some())
}

/// Marks an order `ACTIVE` with what it generated.
async fn finish(
    conn: &mut PgConnection,
    id: Uuid,
    secret_id: Option<Uuid>,
    container_id: Option<Uuid>,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, secret_id = $2, container_id = $3, sub_status = $4, \
         sub_status_message = $5, updated = $6 WHERE id = $7",
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
    .map_err(err("completing an order"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn complete_key(
    pool: &PgPool,
    order_id: Uuid,
    secret: &SecretRecord,
    payload: &StoredPayload,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !lock_order(&mut tx, order_id).await? {
        return Ok(false);
    }
    secrets::insert(&mut tx, secret, Some(payload)).await?;
    let done = finish(&mut tx, order_id, Some(secret.id), None, at).await?;
    tx.commit().await.map_err(err("committing an order"))?;
    Ok(done)
}

pub(super) async fn complete_asymmetric(
    pool: &PgPool,
    order_id: Uuid,
    generated: &[(SecretRecord, StoredPayload)],
    container: &ContainerRecord,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !lock_order(&mut tx, order_id).await? {
        return Ok(false);
    }
    for (secret, payload) in generated {
        secrets::insert(&mut tx, secret, Some(payload)).await?;
    }
    // An error (not `false`): the transaction, secrets included, is rolled back.
    if !containers::insert_in(&mut tx, container).await? {
        return Err(StoreError(format!(
            "PostgreSQL store: the key pair of order {order_id} vanished before its container was stored"
        )));
    }
    let done = finish(&mut tx, order_id, None, Some(container.id), at).await?;
    tx.commit().await.map_err(err("committing an order"))?;
    Ok(done)
}

pub(super) async fn fail(
    pool: &PgPool,
    id: Uuid,
    code: u16,
    reason: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, error_status_code = $2, error_reason = $3, updated = $4 WHERE id = $5",
    )
    .bind(OrderStatus::Error.as_str())
    .bind(i64::from(code))
    .bind(reason)
    .bind(ts_to_db(at)?)
    .bind(uuid_to_db(id))
    .execute(pool)
    .await
    .map_err(err("failing an order"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn fail_pending(
    pool: &PgPool,
    code: u16,
    reason: &str,
    created_before: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, error_status_code = $2, error_reason = $3, updated = $4 \
         WHERE status = $5 AND created < $6",
    )
    .bind(OrderStatus::Error.as_str())
    .bind(i64::from(code))
    .bind(reason)
    .bind(ts_to_db(at)?)
    .bind(OrderStatus::Pending.as_str())
    .bind(ts_bound(created_before))
    .execute(pool)
    .await
    .map_err(err("failing interrupted orders"))?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete(pool: &PgPool, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM orders WHERE id = $1")
        .bind(uuid_to_db(id))
        .execute(pool)
        .await
        .map_err(err("deleting an order"))?;
    Ok(done.rows_affected() > 0)
}
