//! Project quotas (`project_quotas`) and their enforcement: [`admit`] reads the project's configured limit
//! (or takes the default) and counts the project's rows of the resource, on the writer's connection inside
//! the savepoint of the insert it guards, so the count and the insert are one atomic step and concurrent
//! creations cannot exceed a quota. `InsertSecret`, `InsertContainer` and the consumer upserts are the
//! quota-checked inserts of `POST /v1/secrets`, `POST /v1/containers` and consumer registration (re-registering
//! an existing consumer writes nothing and is always admitted). Reads of the configured quotas run on a pooled
//! read connection.

use arca_core::{
    ContainerConsumer, ContainerRecord, ProjectQuotas, ProjectQuotasPage, ProjectQuotasRecord,
    QuotaCheck, QuotaResource, SecretConsumer, SecretRecord, StoreError, StoredPayload,
};
use rusqlite::{Connection, Row, params};
use uuid::Uuid;

use super::codec::{count, execute, query_all, query_opt, sql_err, ts_from_db, ts_to_db};
use super::{consumers, containers, secrets};

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
    /// Inserts a container if the project's containers quota admits it; `false` if not, or if a referenced
    /// secret is gone.
    InsertContainer {
        container: ContainerRecord,
        check: QuotaCheck,
    },
    /// Registers a container consumer; a new one only if the consumer's project's consumers quota admits it.
    /// `false` at the quota or if the container is gone.
    UpsertContainerConsumer {
        id: Uuid,
        consumer: ContainerConsumer,
        check: QuotaCheck,
    },
    /// Registers a secret consumer; a new one only if the consumer's project's consumers quota admits it
    /// (counting its secret consumers, as Barbican's secret consumer repository does). `false` at the quota or
    /// if the secret is gone.
    UpsertSecretConsumer {
        id: Uuid,
        consumer: SecretConsumer,
        check: QuotaCheck,
    },
}

impl QuotaWrite {
    pub(super) fn apply(&self, conn: &Connection) -> Result<bool, StoreError> {
        match self {
            QuotaWrite::Set(record) => set(conn, record).map(|()| true),
            QuotaWrite::Delete(project) => delete(conn, project),
            QuotaWrite::InsertSecret {
                secret,
                payload,
                check,
            } => {
                if !admit(conn, &secret.project_id, *check)? {
                    return Ok(false);
                }
                secrets::insert(conn, secret, payload.as_ref()).map(|()| true)
            }
            QuotaWrite::InsertContainer { container, check } => {
                if !admit(conn, &container.project_id, *check)? {
                    return Ok(false);
                }
                containers::insert(conn, container)
            }
            QuotaWrite::UpsertContainerConsumer {
                id,
                consumer,
                check,
            } => {
                if !containers::has_consumer(conn, *id, consumer)?
                    && !admit(conn, &consumer.project_id, *check)?
                {
                    return Ok(false);
                }
                containers::upsert_consumer(conn, *id, consumer)
            }
            QuotaWrite::UpsertSecretConsumer {
                id,
                consumer,
                check,
            } => {
                if !consumers::exists(conn, *id, consumer)?
                    && !admit_counting(conn, &consumer.project_id, *check, SECRET_CONSUMERS)?
                {
                    return Ok(false);
                }
                consumers::upsert(conn, *id, consumer)
            }
        }
    }
}

/// The statement reading a resource's configured limit and the one counting the project's rows of it (fixed
/// text, never input). Secrets are counted by `project_secret_counts` (kept by the insert and by triggers) (all of the project's
/// secrets, expired ones included, as `COUNT(*)` would); orders and containers through their
/// `(project_id, created)` index, so the count reads one project's index entries; container consumers have no
/// `project_id` index, so that count scans the table — it runs only for a project with a `consumers` limit
/// (configured or default), and an index would need a new migration.
fn statements(resource: QuotaResource) -> (&'static str, Option<&'static str>) {
    match resource {
        QuotaResource::Secrets => (
            "SELECT secrets FROM project_quotas WHERE project_id = ?",
            Some(
                "SELECT COALESCE((SELECT total FROM project_secret_counts WHERE project_id = ?), 0)",
            ),
        ),
        QuotaResource::Orders => (
            "SELECT orders FROM project_quotas WHERE project_id = ?",
            Some("SELECT COUNT(*) FROM orders WHERE project_id = ?"),
        ),
        QuotaResource::Containers => (
            "SELECT containers FROM project_quotas WHERE project_id = ?",
            Some("SELECT COUNT(*) FROM containers WHERE project_id = ?"),
        ),
        QuotaResource::Consumers => (
            "SELECT consumers FROM project_quotas WHERE project_id = ?",
            Some("SELECT COUNT(*) FROM container_consumers WHERE project_id = ?"),
        ),
        QuotaResource::Cas => ("SELECT cas FROM project_quotas WHERE project_id = ?", None),
    }
}

/// Counts a project's secret consumers, which share the `consumers` quota with container consumers but are
/// counted on their own (Barbican's two consumer repositories each count their own rows). No `project_id`
/// index either: the scan runs only for a project with a `consumers` limit.
const SECRET_CONSUMERS: &str = "SELECT COUNT(*) FROM secret_consumers WHERE project_id = ?";

/// Whether the project may create one more of `check.resource`. Runs on the writer's connection, inside the
/// transaction of the insert that follows it.
pub(super) fn admit(
    conn: &Connection,
    project_id: &str,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let (configured_sql, count_sql) = statements(check.resource);
    admit_with(conn, project_id, check, configured_sql, count_sql)
}

/// [`admit`] with `count_sql` counting the project's rows instead of the resource's usual table.
fn admit_counting(
    conn: &Connection,
    project_id: &str,
    check: QuotaCheck,
    count_sql: &str,
) -> Result<bool, StoreError> {
    let (configured_sql, _) = statements(check.resource);
    admit_with(conn, project_id, check, configured_sql, Some(count_sql))
}

fn admit_with(
    conn: &Connection,
    project_id: &str,
    check: QuotaCheck,
    configured_sql: &str,
    count_sql: Option<&str>,
) -> Result<bool, StoreError> {
    let configured: Option<Option<i64>> = query_opt(
        conn,
        configured_sql,
        [project_id],
        "reading a project quota",
        |row| row.get(0).map_err(sql_err("reading a project quota")),
    )?;
    let limit = configured.flatten().unwrap_or(check.default);
    if limit < 0 {
        return Ok(true);
    }
    let count = match count_sql {
        Some(sql) => count(conn, sql, [project_id], "counting a project's objects")?,
        None => 0,
    };
    Ok(QuotaCheck::admits(limit, count))
}

const QUOTAS_BY_PROJECT: &str = "SELECT project_id, secrets, orders, containers, consumers, cas, created, \
     updated FROM project_quotas WHERE project_id = ?";
const QUOTAS_PAGE: &str = "SELECT project_id, secrets, orders, containers, consumers, cas, created, updated \
     FROM project_quotas ORDER BY created ASC, project_id ASC LIMIT ? OFFSET ?";

fn from_row(row: &Row<'_>) -> Result<ProjectQuotasRecord, StoreError> {
    let get = sql_err("reading a project quotas row");
    Ok(ProjectQuotasRecord {
        project_id: row.get("project_id").map_err(&get)?,
        quotas: ProjectQuotas {
            secrets: row.get("secrets").map_err(&get)?,
            orders: row.get("orders").map_err(&get)?,
            containers: row.get("containers").map_err(&get)?,
            consumers: row.get("consumers").map_err(&get)?,
            cas: row.get("cas").map_err(&get)?,
        },
        created: ts_from_db(row.get("created").map_err(&get)?)?,
        updated: ts_from_db(row.get("updated").map_err(&get)?)?,
    })
}

pub(super) fn get(
    conn: &Connection,
    project_id: &str,
) -> Result<Option<ProjectQuotasRecord>, StoreError> {
    query_opt(
        conn,
        QUOTAS_BY_PROJECT,
        [project_id],
        "reading project quotas",
        from_row,
    )
}

/// One page of the configured quotas and their total (every project with quotas set: a table small by nature,
/// counted whole); run in a read transaction (`Reads::snapshot`).
pub(super) fn list(
    conn: &Connection,
    limit: u32,
    offset: u32,
) -> Result<ProjectQuotasPage, StoreError> {
    let records = query_all(
        conn,
        QUOTAS_PAGE,
        params![i64::from(limit), i64::from(offset)],
        "listing project quotas",
        from_row,
    )?;
    let total = count(
        conn,
        "SELECT COUNT(*) FROM project_quotas",
        [],
        "counting project quotas",
    )?;
    Ok(ProjectQuotasPage { records, total })
}

fn set(conn: &Connection, r: &ProjectQuotasRecord) -> Result<(), StoreError> {
    execute(
        conn,
        "INSERT INTO project_quotas (project_id, secrets, orders, containers, consumers, cas, created, updated) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET secrets = excluded.secrets, \
         orders = excluded.orders, containers = excluded.containers, consumers = excluded.consumers, \
         cas = excluded.cas, updated = excluded.updated",
        params![
            r.project_id,
            r.quotas.secrets,
            r.quotas.orders,
            r.quotas.containers,
            r.quotas.consumers,
            r.quotas.cas,
            ts_to_db(r.created)?,
            ts_to_db(r.updated)?
        ],
        "writing project quotas",
    )?;
    Ok(())
}

fn delete(conn: &Connection, project_id: &str) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM project_quotas WHERE project_id = ?",
        [project_id],
        "deleting project quotas",
    )?;
    Ok(done > 0)
}
