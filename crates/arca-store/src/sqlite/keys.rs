//! Wrapped key rows: system keys (`system_keys`) and project KEKs (`project_keks`), read on a pooled read
//! connection and written by the writer thread. Only wrapped bytes and MACs are stored here, and they are never
//! logged.

use arca_core::{KekRow, StoreError, WrappedKeyRow};
use rusqlite::{Connection, Row, params};

use super::codec::{execute, narrow, query_opt, sql_err};

const SYSTEM_KEY_BY_NAME: &str =
    "SELECT rk_version, wrap_alg, wrapped, mac FROM system_keys WHERE name = ?";
const ACTIVE_KEK: &str = "SELECT project_id, pkek_version, rk_version, wrap_alg, wrapped, mac \
     FROM project_keks WHERE project_id = ? ORDER BY pkek_version DESC LIMIT 1";
const KEK_BY_VERSION: &str = "SELECT project_id, pkek_version, rk_version, wrap_alg, wrapped, mac \
     FROM project_keks WHERE project_id = ? AND pkek_version = ?";

fn wrapped_from_row(row: &Row<'_>) -> Result<WrappedKeyRow, StoreError> {
    let get = sql_err("reading a wrapped key row");
    Ok(WrappedKeyRow {
        rk_version: narrow(row.get("rk_version").map_err(&get)?, "rk_version")?,
        wrap_alg: narrow(row.get("wrap_alg").map_err(&get)?, "wrap_alg")?,
        wrapped: row.get("wrapped").map_err(&get)?,
        mac: row.get("mac").map_err(&get)?,
    })
}

fn kek_from_row(row: &Row<'_>) -> Result<KekRow, StoreError> {
    let get = sql_err("reading a KEK row");
    Ok(KekRow {
        project_id: row.get("project_id").map_err(&get)?,
        pkek_version: narrow(row.get("pkek_version").map_err(&get)?, "pkek_version")?,
        key: wrapped_from_row(row)?,
    })
}

pub(super) fn get_system_key(
    conn: &Connection,
    name: &str,
) -> Result<Option<WrappedKeyRow>, StoreError> {
    query_opt(
        conn,
        SYSTEM_KEY_BY_NAME,
        [name],
        "reading a system key",
        wrapped_from_row,
    )
}

pub(super) fn insert_system_key(
    conn: &Connection,
    name: &str,
    row: &WrappedKeyRow,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "INSERT INTO system_keys (name, rk_version, wrap_alg, wrapped, mac) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO NOTHING",
        params![
            name,
            i64::from(row.rk_version),
            i64::from(row.wrap_alg),
            row.wrapped,
            row.mac
        ],
        "inserting a system key",
    )?;
    Ok(done == 1)
}

pub(super) fn get_active_kek(
    conn: &Connection,
    project_id: &str,
) -> Result<Option<KekRow>, StoreError> {
    query_opt(
        conn,
        ACTIVE_KEK,
        [project_id],
        "reading the active KEK",
        kek_from_row,
    )
}

pub(super) fn get_kek(
    conn: &Connection,
    project_id: &str,
    version: u32,
) -> Result<Option<KekRow>, StoreError> {
    query_opt(
        conn,
        KEK_BY_VERSION,
        params![project_id, i64::from(version)],
        "reading a KEK",
        kek_from_row,
    )
}

pub(super) fn insert_kek(conn: &Connection, row: &KekRow) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, pkek_version) DO NOTHING",
        params![
            row.project_id,
            i64::from(row.pkek_version),
            i64::from(row.key.rk_version),
            i64::from(row.key.wrap_alg),
            row.key.wrapped,
            row.key.mac
        ],
        "inserting a KEK",
    )?;
    Ok(done == 1)
}
