//! Wrapped key rows: system keys (`system_keys`) and project KEKs (`project_keks`). Only wrapped bytes and MACs
//! are stored here, and they are never logged. Inserts are `ON CONFLICT DO NOTHING`: when two nodes create the
//! same key at once, the first wins and the other learns `false`.

use arca_core::{KekRow, StoreError, WrappedKeyRow};
use sqlx::PgPool;
use sqlx::postgres::PgRow;

use super::error::{col, err, narrow};

fn wrapped_from_row(row: &PgRow) -> Result<WrappedKeyRow, StoreError> {
    Ok(WrappedKeyRow {
        rk_version: narrow(col(row, "rk_version")?, "rk_version")?,
        wrap_alg: narrow(col(row, "wrap_alg")?, "wrap_alg")?,
        wrapped: col(row, "wrapped")?,
        mac: col(row, "mac")?,
    })
}

/// A KEK row from the columns `project_id, pkek_version, rk_version, wrap_alg, wrapped, mac`.
pub(super) fn kek_from_row(row: &PgRow) -> Result<KekRow, StoreError> {
    Ok(KekRow {
        project_id: col(row, "project_id")?,
        pkek_version: narrow(col(row, "pkek_version")?, "pkek_version")?,
        key: wrapped_from_row(row)?,
    })
}

pub(super) async fn get_system_key(
    pool: &PgPool,
    name: &str,
) -> Result<Option<WrappedKeyRow>, StoreError> {
    let row =
        sqlx::query("SELECT rk_version, wrap_alg, wrapped, mac FROM system_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(err("reading a system key"))?;
    row.as_ref().map(wrapped_from_row).transpose()
}

pub(super) async fn insert_system_key(
    pool: &PgPool,
    name: &str,
    row: &WrappedKeyRow,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO system_keys (name, rk_version, wrap_alg, wrapped, mac) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(i64::from(row.rk_version))
    .bind(i64::from(row.wrap_alg))
    .bind(&row.wrapped)
    .bind(&row.mac)
    .execute(pool)
    .await
    .map_err(err("inserting a system key"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn get_active_kek(
    pool: &PgPool,
    project_id: &str,
) -> Result<Option<KekRow>, StoreError> {
    let row = sqlx::query(
        "SELECT project_id, pkek_version, rk_version, wrap_alg, wrapped, mac FROM project_keks \
         WHERE project_id = $1 ORDER BY pkek_version DESC LIMIT 1",
    )
    .bind(project_id)
    .fetch_optional(pool)
    .await
    .map_err(err("reading the active KEK"))?;
    row.as_ref().map(kek_from_row).transpose()
}

pub(super) async fn get_kek(
    pool: &PgPool,
    project_id: &str,
    pkek_version: u32,
) -> Result<Option<KekRow>, StoreError> {
    let row = sqlx::query(
        "SELECT project_id, pkek_version, rk_version, wrap_alg, wrapped, mac FROM project_keks \
         WHERE project_id = $1 AND pkek_version = $2",
    )
    .bind(project_id)
    .bind(i64::from(pkek_version))
    .fetch_optional(pool)
    .await
    .map_err(err("reading a KEK"))?;
    row.as_ref().map(kek_from_row).transpose()
}

pub(super) async fn insert_kek(pool: &PgPool, row: &KekRow) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac, created) \
         VALUES ($1, $2, $3, $4, $5, $6, FLOOR(EXTRACT(EPOCH FROM now()) * 1000000000)::BIGINT) \
         ON CONFLICT (project_id, pkek_version) DO NOTHING",
    )
    .bind(&row.project_id)
    .bind(i64::from(row.pkek_version))
    .bind(i64::from(row.key.rk_version))
    .bind(i64::from(row.key.wrap_alg))
    .bind(&row.key.wrapped)
    .bind(&row.key.mac)
    .execute(pool)
    .await
    .map_err(err("inserting a KEK"))?;
    Ok(done.rows_affected() == 1)
}
