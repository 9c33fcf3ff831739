//! Wrapped key rows: system keys (`system_keys`) and project KEKs (`project_keks`). Only wrapped bytes and MACs
//! are stored here, and they are never logged.

use arca_core::{KekRow, StoreError, WrappedKeyRow};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::codec::{db_err, narrow};

const KEK_COLUMNS: &str = "project_id, pkek_version, rk_version, wrap_alg, wrapped, mac";

fn wrapped_from_row(row: &SqliteRow) -> Result<WrappedKeyRow, StoreError> {
    let get = |e| db_err("reading a wrapped key row")(e);
    Ok(WrappedKeyRow {
        rk_version: narrow(row.try_get("rk_version").map_err(get)?, "rk_version")?,
        wrap_alg: narrow(row.try_get("wrap_alg").map_err(get)?, "wrap_alg")?,
        wrapped: row.try_get("wrapped").map_err(get)?,
        mac: row.try_get("mac").map_err(get)?,
    })
}

fn kek_from_row(row: &SqliteRow) -> Result<KekRow, StoreError> {
    let get = |e| db_err("reading a KEK row")(e);
    Ok(KekRow {
        project_id: row.try_get("project_id").map_err(get)?,
        pkek_version: narrow(row.try_get("pkek_version").map_err(get)?, "pkek_version")?,
        key: wrapped_from_row(row)?,
    })
}

pub(super) async fn get_system_key(
    pool: &SqlitePool,
    name: &str,
) -> Result<Option<WrappedKeyRow>, StoreError> {
    let row =
        sqlx::query("SELECT rk_version, wrap_alg, wrapped, mac FROM system_keys WHERE name = ?")
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(db_err("reading a system key"))?;
    row.as_ref().map(wrapped_from_row).transpose()
}

pub(super) async fn insert_system_key(
    conn: &mut SqliteConnection,
    name: &str,
    row: &WrappedKeyRow,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO system_keys (name, rk_version, wrap_alg, wrapped, mac) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(i64::from(row.rk_version))
    .bind(i64::from(row.wrap_alg))
    .bind(&row.wrapped)
    .bind(&row.mac)
    .execute(conn)
    .await
    .map_err(db_err("inserting a system key"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn get_active_kek(
    pool: &SqlitePool,
    project_id: &str,
) -> Result<Option<KekRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {KEK_COLUMNS} FROM project_keks WHERE project_id = ? ORDER BY pkek_version DESC LIMIT 1"
    ));
    let row = sqlx::query(sql)
        .bind(project_id)
        .fetch_optional(pool)
        .await
        .map_err(db_err("reading the active KEK"))?;
    row.as_ref().map(kek_from_row).transpose()
}

pub(super) async fn get_kek(
    pool: &SqlitePool,
    project_id: &str,
    version: u32,
) -> Result<Option<KekRow>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {KEK_COLUMNS} FROM project_keks WHERE project_id = ? AND pkek_version = ?"
    ));
    let row = sqlx::query(sql)
        .bind(project_id)
        .bind(i64::from(version))
        .fetch_optional(pool)
        .await
        .map_err(db_err("reading a KEK"))?;
    row.as_ref().map(kek_from_row).transpose()
}

pub(super) async fn insert_kek(
    conn: &mut SqliteConnection,
    row: &KekRow,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, pkek_version) DO NOTHING",
    )
    .bind(&row.project_id)
    .bind(i64::from(row.pkek_version))
    .bind(i64::from(row.key.rk_version))
    .bind(i64::from(row.key.wrap_alg))
    .bind(&row.key.wrapped)
    .bind(&row.key.mac)
    .execute(conn)
    .await
    .map_err(db_err("inserting a KEK"))?;
    Ok(done.rows_affected() == 1)
}
