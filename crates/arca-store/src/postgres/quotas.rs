//! Project quotas (`project_quotas`) and their enforcement across nodes: a quota-checked insert first upserts
//! and locks the project's row in `project_locks` (`FOR UPDATE`, held until its transaction ends), then reads
//! the configured limit (or takes the default) and counts the project's rows — so concurrent inserts of one
//! project, on any connection of any node, count one after the other and a quota is never exceeded. (Under
//! READ COMMITTED each statement after the lock sees every insert committed before the lock was granted.)

use arca_core::{
    ProjectQuotas, ProjectQuotasPage, ProjectQuotasRecord, QuotaCheck, QuotaResource, SecretRecord,
    StoreError, StoredPayload,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};

use super::error::{col, err, to_count, ts_from_db, ts_to_db};
use super::secrets;

/// Locks the project's row of `project_locks` (creating it the first time) until the transaction ends.
pub(super) async fn lock_project(
    conn: &mut PgConnection,
    project_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO project_locks (project_id) VALUES ($1) ON CONFLICT (project_id) DO NOTHING",
    )
    .bind(project_id)
    .execute(&mut *conn)
    .await
    .map_err(err("creating a project's lock row"))?;
    sqlx::query("SELECT 1 FROM project_locks WHERE project_id = $1 FOR UPDATE")
        .bind(project_id)
        .execute(&mut *conn)
        .await
        .map_err(err("locking a project"))?;
    Ok(())
}

/// The statement reading a resource's configured limit and the one counting the project's rows of it.
fn statements(resource: QuotaResource) -> (&'static str, Option<&'static str>) {
    match resource {
        QuotaResource::Secrets => (
            "SELECT secrets AS q FROM project_quotas WHERE project_id = $1",
            Some("SELECT COUNT(*) FROM secrets WHERE project_id = $1"),
        ),
        QuotaResource::Orders => (
            "SELECT orders AS q FROM project_quotas WHERE project_id = $1",
            Some("SELECT COUNT(*) FROM orders WHERE project_id = $1"),
        ),
        QuotaResource::Containers => (
            "SELECT containers AS q FROM project_quotas WHERE project_id = $1",
            Some("SELECT COUNT(*) FROM containers WHERE project_id = $1"),
        ),
        QuotaResource::Consumers => (
            "SELECT consumers AS q FROM project_quotas WHERE project_id = $1",
            Some("SELECT COUNT(*) FROM container_consumers WHERE project_id = $1"),
        ),
        QuotaResource::Cas => (
            "SELECT cas AS q FROM project_quotas WHERE project_id = $1",
            None,
        ),
    }
}

/// Counts a project's secret consumers, which share the `consumers` quota with container consumers but are
/// counted on their own (as on SQLite and in Barbican).
pub(super) const SECRET_CONSUMERS: &str =
    "SELECT COUNT(*) FROM secret_consumers WHERE project_id = $1";

/// Whether the project may create one more of `check.resource`: locks the project (see the module comment),
/// then counts. Runs inside the transaction of the insert that follows it.
pub(super) async fn admit(
    conn: &mut PgConnection,
    project_id: &str,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let (configured_sql, count_sql) = statements(check.resource);
    admit_with(conn, project_id, check, configured_sql, count_sql).await
}

/// [`admit`] counting with `count_sql` instead of the resource's usual table.
pub(super) async fn admit_counting(
    conn: &mut PgConnection,
    project_id: &str,
    check: QuotaCheck,
    count_sql: &'static str,
) -> Result<bool, StoreError> {
    let (configured_sql, _) = statements(check.resource);
    admit_with(conn, project_id, check, configured_sql, Some(count_sql)).await
}

async fn admit_with(
    conn: &mut PgConnection,
    project_id: &str,
    check: QuotaCheck,
    configured_sql: &'static str,
    count_sql: Option<&'static str>,
) -> Result<bool, StoreError> {
    let configured: Option<Option<i64>> = sqlx::query_scalar(configured_sql)
        .bind(project_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(err("reading a project quota"))?;
    let limit = configured.flatten().unwrap_or(check.default);
    if limit < 0 {
        return Ok(true);
    }
    // Only a limited resource needs the lock: unlimited inserts never wait on each other.
    lock_project(conn, project_id).await?;
    let count = match count_sql {
        Some(sql) => {
            let n: i64 = sqlx::query_scalar(sql)
                .bind(project_id)
                .fetch_one(&mut *conn)
                .await
                .map_err(err("counting a project's objects"))?;
            to_count(n)?
        }
        None => 0,
    };
    Ok(QuotaCheck::admits(limit, count))
}

/// Inserts a secret (and its payload) in the caller's transaction if the project's secrets quota admits it.
pub(super) async fn insert_secret_in(
    conn: &mut PgConnection,
    secret: &SecretRecord,
    payload: Option<&StoredPayload>,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    if !admit(conn, &secret.project_id, check).await? {
        return Ok(false);
    }
    secrets::insert(conn, secret, payload).await?;
    Ok(true)
}

pub(super) async fn insert_secret(
    pool: &PgPool,
    secret: &SecretRecord,
    payload: Option<&StoredPayload>,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !insert_secret_in(&mut tx, secret, payload, check).await? {
        return Ok(false);
    }
    tx.commit().await.map_err(err("committing a secret"))?;
    Ok(true)
}

fn from_row(row: &PgRow) -> Result<ProjectQuotasRecord, StoreError> {
    Ok(ProjectQuotasRecord {
        project_id: col(row, "project_id")?,
        quotas: ProjectQuotas {
            secrets: col(row, "secrets")?,
            orders: col(row, "orders")?,
            containers: col(row, "containers")?,
            consumers: col(row, "consumers")?,
            cas: col(row, "cas")?,
        },
        created: ts_from_db(col(row, "created")?)?,
        updated: ts_from_db(col(row, "updated")?)?,
    })
}

pub(super) async fn get(
    pool: &PgPool,
    project_id: &str,
) -> Result<Option<ProjectQuotasRecord>, StoreError> {
    let row = sqlx::query(
        "SELECT project_id, secrets, orders, containers, consumers, cas, created, updated \
         FROM project_quotas WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(pool)
    .await
    .map_err(err("reading project quotas"))?;
    row.as_ref().map(from_row).transpose()
}

/// One page of the configured quotas and their total, from one snapshot.
pub(super) async fn list(
    pool: &PgPool,
    limit: u32,
    offset: u32,
) -> Result<ProjectQuotasPage, StoreError> {
    let mut tx = super::snapshot(pool).await?;
    let rows = sqlx::query(
        "SELECT project_id, secrets, orders, containers, consumers, cas, created, updated \
         FROM project_quotas ORDER BY created ASC, project_id COLLATE \"C\" ASC LIMIT $1 OFFSET $2",
    )
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(&mut *tx)
    .await
    .map_err(err("listing project quotas"))?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM project_quotas")
        .fetch_one(&mut *tx)
        .await
        .map_err(err("counting project quotas"))?;
    tx.commit().await.map_err(err("ending a read"))?;
    Ok(ProjectQuotasPage {
        records: rows.iter().map(from_row).collect::<Result<_, _>>()?,
        total: to_count(total)?,
    })
}

pub(super) async fn set(pool: &PgPool, r: &ProjectQuotasRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO project_quotas (project_id, secrets, orders, containers, consumers, cas, created, updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (project_id) DO UPDATE SET \
         secrets = EXCLUDED.secrets, orders = EXCLUDED.orders, containers = EXCLUDED.containers, \
         consumers = EXCLUDED.consumers, cas = EXCLUDED.cas, updated = EXCLUDED.updated",
    )
    .bind(&r.project_id)
    .bind(r.quotas.secrets)
    .bind(r.quotas.orders)
    .bind(r.quotas.containers)
    .bind(r.quotas.consumers)
    .bind(r.quotas.cas)
    .bind(ts_to_db(r.created)?)
    .bind(ts_to_db(r.updated)?)
    .execute(pool)
    .await
    .map_err(err("writing project quotas"))?;
    Ok(())
}

pub(super) async fn delete(pool: &PgPool, project_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM project_quotas WHERE project_id = $1")
        .bind(project_id)
        .execute(pool)
        .await
        .map_err(err("deleting project quotas"))?;
    Ok(done.rows_affected() > 0)
}
