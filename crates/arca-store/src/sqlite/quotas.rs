//! Project quotas (`project_quotas`) and their enforcement: [`admit`] reads the project's configured limit
//! (or takes the default) and counts the project's rows of the resource, on the writer's connection inside
//! the savepoint of the insert it guards, so the count and the insert are one atomic step and concurrent
//! creations cannot exceed a quota. `InsertSecret` is the quota-checked `POST /v1/secrets` insert.

use arca_core::{
    ProjectQuotas, ProjectQuotasPage, ProjectQuotasRecord, QuotaCheck, QuotaResource, SecretRecord,
    StoreError, StoredPayload,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, SqliteConnection, SqlitePool};

use super::codec::{db_err, ts_from_db, ts_to_db};
use super::secrets;

/// A quota write.
pub(super) enum QuotaWrite {
    /// Creates or replaces a project's configured quotas.
    Set(ProjectQuotasRecord),
    /// Removes a project's configured quotas; `false` if it had none.
    Delete(String),
    /// Inserts a secret (and its payload) if the project's secrets quota admits it; `false` if not.
    InsertSecret {
        secret: SecretRecord,
        payload: Option<StoredPayload>,
        check: QuotaCheck,
    },
}

impl QuotaWrite {
    pub(super) async fn apply(&self, conn: &mut SqliteConnection) -> Result<bool, StoreError> {
        match self {
            QuotaWrite::Set(record) => set(conn, record).await.map(|()| true),
            QuotaWrite::Delete(project) => delete(conn, project).await,
            QuotaWrite::InsertSecret {
                secret,
                payload,
                check,
            } => {
                if !admit(conn, &secret.project_id, *check).await? {
                    return Ok(false);
                }
                secrets::insert(conn, secret, payload.as_ref())
                    .await
                    .map(|()| true)
            }
        }
    }
}

/// The column of `project_quotas` and the table counted for a resource (fixed names, never input).
fn names(resource: QuotaResource) -> (&'static str, Option<&'static str>) {
    match resource {
        QuotaResource::Secrets => ("secrets", Some("secrets")),
        QuotaResource::Orders => ("orders", Some("orders")),
        QuotaResource::Containers => ("containers", Some("containers")),
        QuotaResource::Consumers => ("consumers", Some("container_consumers")),
        QuotaResource::Cas => ("cas", None),
    }
}

/// Whether the project may create one more of `check.resource`. Runs on the writer's connection, inside the
/// transaction of the insert that follows it.
pub(super) async fn admit(
    conn: &mut SqliteConnection,
    project_id: &str,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let (column, table) = names(check.resource);
    let configured: Option<Option<i64>> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT {column} FROM project_quotas WHERE project_id = ?"
    )))
    .bind(project_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err("reading a project quota"))?;
    let limit = configured.flatten().unwrap_or(check.default);
    if limit < 0 {
        return Ok(true);
    }
    let count: i64 = match table {
        Some(table) => sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {table} WHERE project_id = ?"
        )))
        .bind(project_id)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err("counting a project's objects"))?,
        None => 0,
    };
    Ok(QuotaCheck::admits(limit, u64::try_from(count).unwrap_or(0)))
}

const COLUMNS: &str = "project_id, secrets, orders, containers, consumers, cas, created, updated";

fn from_row(row: &SqliteRow) -> Result<ProjectQuotasRecord, StoreError> {
    let get = |e| db_err("reading a project quotas row")(e);
    Ok(ProjectQuotasRecord {
        project_id: row.try_get("project_id").map_err(get)?,
        quotas: ProjectQuotas {
            secrets: row.try_get("secrets").map_err(get)?,
            orders: row.try_get("orders").map_err(get)?,
            containers: row.try_get("containers").map_err(get)?,
            consumers: row.try_get("consumers").map_err(get)?,
            cas: row.try_get("cas").map_err(get)?,
        },
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
    })
}

pub(super) async fn get(
    pool: &SqlitePool,
    project_id: &str,
) -> Result<Option<ProjectQuotasRecord>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM project_quotas WHERE project_id = ?"
    )))
    .bind(project_id)
    .fetch_optional(pool)
    .await
    .map_err(db_err("reading project quotas"))?;
    row.as_ref().map(from_row).transpose()
}

pub(super) async fn list(
    pool: &SqlitePool,
    limit: u32,
    offset: u32,
) -> Result<ProjectQuotasPage, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM project_quotas ORDER BY created ASC, project_id ASC LIMIT ? OFFSET ?"
    )))
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err("listing project quotas"))?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM project_quotas")
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err("counting project quotas"))?;
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;
    Ok(ProjectQuotasPage {
        records: rows.iter().map(from_row).collect::<Result<_, _>>()?,
        total: u64::try_from(total).unwrap_or(0),
    })
}

async fn set(conn: &mut SqliteConnection, r: &ProjectQuotasRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO project_quotas (project_id, secrets, orders, containers, consumers, cas, created, updated) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET secrets = excluded.secrets, \
         orders = excluded.orders, containers = excluded.containers, consumers = excluded.consumers, \
         cas = excluded.cas, updated = excluded.updated",
    )
    .bind(&r.project_id)
    .bind(r.quotas.secrets)
    .bind(r.quotas.orders)
    .bind(r.quotas.containers)
    .bind(r.quotas.consumers)
    .bind(r.quotas.cas)
    .bind(ts_to_db(r.created)?)
    .bind(ts_to_db(r.updated)?)
    .execute(conn)
    .await
    .map_err(db_err("writing project quotas"))?;
    Ok(())
}

async fn delete(conn: &mut SqliteConnection, project_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM project_quotas WHERE project_id = ?")
        .bind(project_id)
        .execute(conn)
        .await
        .map_err(db_err("deleting project quotas"))?;
    Ok(done.rows_affected() > 0)
}
