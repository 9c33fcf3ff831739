//! Order rows (`orders`): placing one (quota-checked in the same savepoint), reading and listing a project's
//! orders, and finishing one: a `key` order's secret (an `asymmetric` order's secrets and container) are inserted
//! in the same savepoint that marks the order `ACTIVE`, so an order never points at something that is not there;
//! a failure marks it `ERROR`.

use arca_core::{
    ContainerRecord, OrderPage, OrderRecord, OrderStatus, OrderType, QuotaCheck, SecretRecord,
    StoreError, StoredPayload,
};
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{
    count, execute, exists, narrow, query_all, query_opt, sql_err, ts_bound, ts_from_db, ts_to_db,
    uuid_from_db, uuid_to_db,
};
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
    /// Marks every order still `PENDING` as `ERROR` (start-up recovery); `false` if there was none.
    FailPending {
        code: u16,
        reason: String,
        created_before: OffsetDateTime,
        at: OffsetDateTime,
    },
    /// Deletes an order (never what it generated); `false` if unknown.
    Delete(Uuid),
}

impl OrderWrite {
    pub(super) fn apply(&self, conn: &Connection) -> Result<bool, StoreError> {
        match self {
            OrderWrite::Insert { order, check } => {
                if !quotas::admit(conn, &order.project_id, *check)? {
                    return Ok(false);
                }
                insert(conn, order).map(|()| true)
            }
            OrderWrite::CompleteKey {
                order_id,
                secret,
                payload,
                at,
            } => {
                if !exists_by_id(conn, *order_id)? {
                    return Ok(false);
                }
                secrets::insert(conn, secret, Some(payload))?;
                finish(conn, *order_id, Some(secret.id), None, *at)
            }
            OrderWrite::CompleteAsymmetric {
                order_id,
                secrets: generated,
                container,
                at,
            } => {
                if !exists_by_id(conn, *order_id)? {
                    return Ok(false);
                }
                for (secret, payload) in generated {
                    secrets::insert(conn, secret, Some(payload))?;
                }
                // An error (not `false`) so the savepoint, secrets included, is rolled back.
                if !containers::insert(conn, container)? {
                    return Err(StoreError(format!(
                        "SQLite store: the key pair of order {order_id} vanished before its container was stored"
                    )));
                }
                finish(conn, *order_id, None, Some(container.id), *at)
            }
            OrderWrite::Fail {
                order_id,
                code,
                reason,
                at,
            } => fail(conn, *order_id, *code, reason, *at),
            OrderWrite::FailPending {
                code,
                reason,
                created_before,
                at,
            } => {
                let done = execute(
                    conn,
                    "UPDATE orders SET status = ?, error_status_code = ?, error_reason = ?, updated = ? \
                     WHERE status = ? AND created < ?",
                    params![
                        OrderStatus::Error.as_str(),
                        i64::from(*code),
                        reason,
                        ts_to_db(*at)?,
                        OrderStatus::Pending.as_str(),
                        ts_bound(*created_before)
                    ],
                    "failing interrupted orders",
                )?;
                Ok(done > 0)
            }
            OrderWrite::Delete(id) => delete(conn, *id),
        }
    }
}

const ORDER_BY_ID: &str = "SELECT id, project_id, creator_id, order_type, status, meta, secret_id, \
     container_id, error_status_code, error_reason, sub_status, sub_status_message, created, updated \
     FROM orders WHERE id = ?";
const ORDERS_PAGE: &str = "SELECT id, project_id, creator_id, order_type, status, meta, secret_id, \
     container_id, error_status_code, error_reason, sub_status, sub_status_message, created, updated \
     FROM orders WHERE project_id = ? ORDER BY created ASC, id ASC LIMIT ? OFFSET ?";
const INSERT_ORDER: &str = "INSERT INTO orders (id, project_id, creator_id, order_type, status, meta, \
     secret_id, container_id, error_status_code, error_reason, sub_status, sub_status_message, created, \
     updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

fn from_row(row: &Row<'_>) -> Result<OrderRecord, StoreError> {
    let get = sql_err("reading an order row");
    let id: String = row.get("id").map_err(&get)?;
    let kind: String = row.get("order_type").map_err(&get)?;
    let status: String = row.get("status").map_err(&get)?;
    let secret_id: Option<String> = row.get("secret_id").map_err(&get)?;
    let container_id: Option<String> = row.get("container_id").map_err(&get)?;
    let code: Option<i64> = row.get("error_status_code").map_err(&get)?;
    Ok(OrderRecord {
        id: uuid_from_db(&id)?,
        project_id: row.get("project_id").map_err(&get)?,
        creator_id: row.get("creator_id").map_err(&get)?,
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
        meta: row.get("meta").map_err(&get)?,
        secret_id: secret_id.as_deref().map(uuid_from_db).transpose()?,
        container_id: container_id.as_deref().map(uuid_from_db).transpose()?,
        error_status_code: code.map(|c| narrow(c, "error_status_code")).transpose()?,
        error_reason: row.get("error_reason").map_err(&get)?,
        sub_status: row.get("sub_status").map_err(&get)?,
        sub_status_message: row.get("sub_status_message").map_err(&get)?,
        created: ts_from_db(row.get("created").map_err(&get)?)?,
        updated: ts_from_db(row.get("updated").map_err(&get)?)?,
    })
}

pub(super) fn get(conn: &Connection, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
    query_opt(
        conn,
        ORDER_BY_ID,
        [uuid_to_db(id)],
        "reading an order",
        from_row,
    )
}

/// One page of a project's orders and their total (counted through the `(project_id, created)` index); run in
/// a read transaction (`Reads::snapshot`).
pub(super) fn list(
    conn: &Connection,
    project_id: &str,
    limit: u32,
    offset: u32,
) -> Result<OrderPage, StoreError> {
    let orders = query_all(
        conn,
        ORDERS_PAGE,
        params![project_id, i64::from(limit), i64::from(offset)],
        "listing orders",
        from_row,
    )?;
    let total = count(
        conn,
        "SELECT COUNT(*) FROM orders WHERE project_id = ?",
        [project_id],
        "counting orders",
    )?;
    Ok(OrderPage { orders, total })
}

fn insert(conn: &Connection, o: &OrderRecord) -> Result<(), StoreError> {
    execute(
        conn,
        INSERT_ORDER,
        params![
            uuid_to_db(o.id),
            o.project_id,
            o.creator_id,
            o.order_type.as_str(),
            o.status.as_str(),
            o.meta,
            o.secret_id.map(uuid_to_db),
            o.container_id.map(uuid_to_db),
            o.error_status_code.map(i64::from),
            o.error_reason,
            o.sub_status,
            o.sub_status_message,
            ts_to_db(o.created)?,
            ts_to_db(o.updated)?
        ],
        "inserting an order",
    )?;
    Ok(())
}

fn exists_by_id(conn: &Connection, id: Uuid) -> Result<bool, StoreError> {
    exists(
        conn,
        "SELECT 1 FROM orders WHERE id = ?",
        [uuid_to_db(id)],
        "looking up an order",
    )
}

/// Marks an order `ACTIVE` with what it generated.
pub(super) fn finish(
    conn: &Connection,
    id: Uuid,
    secret_id: Option<Uuid>,
    container_id: Option<Uuid>,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE orders SET status = ?, secret_id = ?, container_id = ?, sub_status = ?, \
         sub_status_message = ?, updated = ? WHERE id = ?",
        params![
            OrderStatus::Active.as_str(),
            secret_id.map(uuid_to_db),
            container_id.map(uuid_to_db),
            SUB_STATUS_DONE,
            SUB_STATUS_DONE,
            ts_to_db(at)?,
            uuid_to_db(id)
        ],
        "completing an order",
    )?;
    Ok(done > 0)
}

fn fail(
    conn: &Connection,
    id: Uuid,
    code: u16,
    reason: &str,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE orders SET status = ?, error_status_code = ?, error_reason = ?, updated = ? WHERE id = ?",
        params![
            OrderStatus::Error.as_str(),
            i64::from(code),
            reason,
            ts_to_db(at)?,
            uuid_to_db(id)
        ],
        "failing an order",
    )?;
    Ok(done > 0)
}

fn delete(conn: &Connection, id: Uuid) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM orders WHERE id = ?",
        [uuid_to_db(id)],
        "deleting an order",
    )?;
    Ok(done > 0)
}
