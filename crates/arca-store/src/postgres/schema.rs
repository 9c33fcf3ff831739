//! The PostgreSQL schema migrations: the SQL files in `migrations-postgres/`, embedded at compile time and applied
//! in order at connect, in ONE transaction holding a transaction-level advisory lock, with the applied versions
//! recorded in `schema_version`. Several nodes starting together serialise on the lock: the first migrates, the
//! others then find every version applied. A database from a newer Arca is refused.

use arca_core::StoreError;
use sqlx::PgPool;

use super::error::err;

/// The advisory lock key of the migration runner ("arca" "mig" as bytes; any fixed value unique to Arca).
const MIGRATION_LOCK: i64 = 0x6172_6361_006d_6967;

/// Every migration, in order: (version, SQL). Versions are never renumbered or edited once released.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations-postgres/0001_core.sql")),
    (
        2,
        include_str!("../../migrations-postgres/0002_audit_kms.sql"),
    ),
    (
        3,
        include_str!("../../migrations-postgres/0003_secret_store_placement.sql"),
    ),
];

/// Brings the database up to the newest schema version; refuses a database from a newer Arca.
pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(err("starting the migration transaction"))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(err("taking the migration lock"))?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY NOT NULL, applied BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await
    .map_err(err("creating schema_version"))?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_version")
        .fetch_all(&mut *tx)
        .await
        .map_err(err("reading the schema version"))?;
    let current = applied.iter().copied().max().unwrap_or(0);
    let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > newest {
        return Err(StoreError(format!(
            "the database has schema version {current}, newer than this build knows ({newest}); upgrade Arca"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
        sqlx::raw_sql(*sql).execute(&mut *tx).await.map_err(|e| {
            StoreError(format!(
                "PostgreSQL store: applying migration {version}: {e}"
            ))
        })?;
        sqlx::query(
            "INSERT INTO schema_version (version, applied) VALUES ($1, EXTRACT(EPOCH FROM now())::BIGINT)",
        )
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(err("recording the schema version"))?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    tx.commit().await.map_err(err("committing migrations"))
}
