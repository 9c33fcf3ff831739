//! Wrapped key rows: system keys (`system_keys`) and project KEKs (`project_keks`), read on a pooled read
//! connection and written by the writer thread. Only wrapped bytes and MACs are stored here, and they are never
//! logged.

use arca_core::{KekRow, RewrappedKey, StoreError, WrappedKeyRow};
use rusqlite::{Connection, Row, params};
use time::OffsetDateTime;

use super::codec::{count, execute, narrow, query_all, query_opt, sql_err, ts_bound, ts_to_db};

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
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac, created) \
         VALUES (?, ?, ?, ?, ?, ?, unixepoch() * 1000000000) ON CONFLICT (project_id, pkek_version) DO NOTHING",
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

// --- root key rotation ---

pub(super) fn keks_below_rk(
    conn: &Connection,
    rk_version: u32,
    limit: u32,
) -> Result<Vec<KekRow>, StoreError> {
    query_all(
        conn,
        "SELECT project_id, pkek_version, rk_version, wrap_alg, wrapped, mac FROM project_keks \
         WHERE rk_version < ? ORDER BY rk_version, project_id, pkek_version LIMIT ?",
        params![i64::from(rk_version), i64::from(limit)],
        "reading KEKs to rewrap",
        kek_from_row,
    )
}

pub(super) fn system_keys_below_rk(
    conn: &Connection,
    rk_version: u32,
) -> Result<Vec<(String, WrappedKeyRow)>, StoreError> {
    query_all(
        conn,
        "SELECT name, rk_version, wrap_alg, wrapped, mac FROM system_keys WHERE rk_version < ? ORDER BY name",
        [i64::from(rk_version)],
        "reading system keys to rewrap",
        |row| {
            let name = row.get("name").map_err(sql_err("reading a system key"))?;
            Ok((name, wrapped_from_row(row)?))
        },
    )
}

pub(super) fn count_keys_below_rk(conn: &Connection, rk_version: u32) -> Result<u64, StoreError> {
    count(
        conn,
        "SELECT (SELECT COUNT(*) FROM project_keks WHERE rk_version < ?1) \
              + (SELECT COUNT(*) FROM system_keys WHERE rk_version < ?1)",
        [i64::from(rk_version)],
        "counting keys to rewrap",
    )
}

pub(super) fn count_keys_under_rk(conn: &Connection, rk_version: u32) -> Result<u64, StoreError> {
    count(
        conn,
        "SELECT (SELECT COUNT(*) FROM project_keks WHERE rk_version = ?1) \
              + (SELECT COUNT(*) FROM system_keys WHERE rk_version = ?1)",
        [i64::from(rk_version)],
        "counting keys under a root key version",
    )
}

/// Writes each rewrapped row if it still has its old root key version; how many were written.
pub(super) fn rewrap(conn: &Connection, rows: &[RewrappedKey]) -> Result<u64, StoreError> {
    let mut written = 0u64;
    for row in rows {
        let done = match row {
            RewrappedKey::Kek {
                project_id,
                pkek_version,
                old_rk_version,
                key,
            } => execute(
                conn,
                "UPDATE project_keks SET rk_version = ?, wrap_alg = ?, wrapped = ?, mac = ? \
                 WHERE project_id = ? AND pkek_version = ? AND rk_version = ?",
                params![
                    i64::from(key.rk_version),
                    i64::from(key.wrap_alg),
                    key.wrapped,
                    key.mac,
                    project_id,
                    i64::from(*pkek_version),
                    i64::from(*old_rk_version)
                ],
                "rewrapping a KEK",
            )?,
            RewrappedKey::System {
                name,
                old_rk_version,
                key,
            } => execute(
                conn,
                "UPDATE system_keys SET rk_version = ?, wrap_alg = ?, wrapped = ?, mac = ? \
                 WHERE name = ? AND rk_version = ?",
                params![
                    i64::from(key.rk_version),
                    i64::from(key.wrap_alg),
                    key.wrapped,
                    key.mac,
                    name,
                    i64::from(*old_rk_version)
                ],
                "rewrapping a system key",
            )?,
        };
        written += done as u64;
    }
    Ok(written)
}

// --- project KEK rotation ---

/// Adds the next KEK version and records the pending rewrap; `false` if the version exists.
pub(super) fn rotate_kek(
    conn: &Connection,
    row: &KekRow,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    if !insert_kek(conn, row)? {
        return Ok(false);
    }
    execute(
        conn,
        "INSERT INTO pkek_rewraps (project_id, pkek_version, since) VALUES (?, ?, ?) \
         ON CONFLICT (project_id) DO UPDATE SET pkek_version = excluded.pkek_version, since = excluded.since",
        params![row.project_id, i64::from(row.pkek_version), ts_to_db(now)?],
        "recording a pending rewrap",
    )?;
    Ok(true)
}

pub(super) fn finish_rewrap(
    conn: &Connection,
    project_id: &str,
    pkek_version: u32,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM pkek_rewraps WHERE project_id = ? AND pkek_version = ?",
        params![project_id, i64::from(pkek_version)],
        "finishing a rewrap",
    )?;
    Ok(done == 1)
}

pub(super) fn keks_created_before(
    conn: &Connection,
    cutoff: OffsetDateTime,
    limit: u32,
) -> Result<Vec<String>, StoreError> {
    query_all(
        conn,
        "SELECT project_id FROM project_keks GROUP BY project_id \
         HAVING MAX(created) < ? ORDER BY MAX(created) LIMIT ?",
        params![ts_bound(cutoff), i64::from(limit)],
        "reading KEKs due for rotation",
        |row| row.get(0).map_err(sql_err("reading KEKs due for rotation")),
    )
}
