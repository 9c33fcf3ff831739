//! The SQLite schema migrations: the SQL files in `migrations/`, embedded at compile time and applied in order at
//! start-up under `BEGIN IMMEDIATE`, with the applied versions recorded in `schema_version` (so two processes
//! opening the same file at once do not both migrate). Runs on rusqlite, on the writer's connection.

use arca_core::StoreError;
use rusqlite::{Connection, TransactionBehavior};

use super::codec::{query_all, sql_err};

/// Every migration, in order: (version, SQL). Versions are never renumbered or edited once released.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_initial.sql")),
    (2, include_str!("../../migrations/0002_containers.sql")),
    (
        3,
        include_str!("../../migrations/0003_acls_orders_quotas.sql"),
    ),
    (4, include_str!("../../migrations/0004_secret_counts.sql")),
    (5, include_str!("../../migrations/0005_audit.sql")),
    (6, include_str!("../../migrations/0006_kms.sql")),
    (7, include_str!("../../migrations/0007_rotation.sql")),
    (
        8,
        include_str!("../../migrations/0008_secret_store_placement.sql"),
    ),
    (
        9,
        include_str!("../../migrations/0009_payload_in_secret_row.sql"),
    ),
    (
        10,
        include_str!("../../migrations/0010_secret_counts_on_insert_in_code.sql"),
    ),
];

/// Brings the database up to the newest schema version; refuses a database from a newer Arca. Runs on the
/// writer's connection (on the writer thread) before it takes any operation.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err("starting the migration transaction"))?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY NOT NULL, applied INTEGER NOT NULL)",
    )
    .map_err(sql_err("creating schema_version"))?;
    let applied: Vec<i64> = query_all(
        &tx,
        "SELECT version FROM schema_version",
        [],
        "reading the schema version",
        |row| row.get(0).map_err(sql_err("reading the schema version")),
    )?;
    let current = applied.iter().copied().max().unwrap_or(0);
    let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > newest {
        return Err(StoreError(format!(
            "the database has schema version {current}, newer than this build knows ({newest}); upgrade Arca"
        )));
    }
    // Every migration not yet applied, in order (not only those above the highest applied: a database made
    // by a development build may have a later migration without an earlier one).
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
        tx.execute_batch(sql)
            .map_err(sql_err(&format!("applying migration {version}")))?;
        tx.execute(
            "INSERT INTO schema_version (version, applied) VALUES (?, unixepoch())",
            [version],
        )
        .map_err(sql_err("recording the schema version"))?;
        tracing::info!(version, "applied SQLite migration");
    }
    tx.commit().map_err(sql_err("committing migrations"))
}
