//! Key rotation in SQLite: the writes of root and project KEK rotation (`RotationWrite`, one writer operation
//! per batch, so a batch is one transaction, each row a compare-and-swap) and the reads of the background rewrap
//! (projects with a pending rewrap, objects sealed under an older KEK version, found by the seal header's
//! version field). The KEK-row queries themselves live in `keys`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arca_core::{KekRow, PendingRewrap, Resealed, RewrappedKey, StaleSealed, StoreError};
use rusqlite::{Connection, params};
use time::OffsetDateTime;

use super::codec::{execute, narrow, query_all, sql_err, ts_from_db, uuid_from_db, uuid_to_db};
use super::keys;

/// The seal format byte every stale object must have (others are left alone).
const SEAL_FORMAT: u8 = 0x01;

/// A rotation write queued for the writer; how many rows it changed is left in `done`.
pub(super) struct RotationWrite {
    pub(super) op: RotationOp,
    pub(super) done: Arc<AtomicU64>,
}

pub(super) enum RotationOp {
    Rewrap(Vec<RewrappedKey>),
    RotateKek {
        row: KekRow,
        now: OffsetDateTime,
    },
    Reseal(Vec<Resealed>),
    FinishRewrap {
        project_id: String,
        pkek_version: u32,
    },
}

impl RotationWrite {
    pub(super) fn apply(&self, conn: &Connection) -> Result<bool, StoreError> {
        let n = match &self.op {
            RotationOp::Rewrap(rows) => keys::rewrap(conn, rows)?,
            RotationOp::RotateKek { row, now } => u64::from(keys::rotate_kek(conn, row, *now)?),
            RotationOp::Reseal(objects) => reseal(conn, objects)?,
            RotationOp::FinishRewrap {
                project_id,
                pkek_version,
            } => u64::from(keys::finish_rewrap(conn, project_id, *pkek_version)?),
        };
        self.done.store(n, Ordering::Relaxed);
        Ok(n > 0)
    }
}

pub(super) fn pending_rewraps(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<PendingRewrap>, StoreError> {
    query_all(
        conn,
        "SELECT project_id, pkek_version, since FROM pkek_rewraps ORDER BY since LIMIT ?",
        [i64::from(limit)],
        "reading pending rewraps",
        |row| {
            let get = sql_err("reading a pending rewrap");
            Ok(PendingRewrap {
                project_id: row.get(0).map_err(&get)?,
                pkek_version: narrow(row.get(1).map_err(&get)?, "pkek_version")?,
                since: ts_from_db(row.get(2).map_err(&get)?)?,
            })
        },
    )
}

/// The seal header prefix (`format ‖ u32 version`) below which an envelope is stale: SQLite compares blobs
/// bytewise, and the version is big-endian, so `substr(x, 1, 5) < prefix` means an older version.
fn header(pkek_version: u32) -> Vec<u8> {
    let mut h = vec![SEAL_FORMAT];
    h.extend_from_slice(&pkek_version.to_be_bytes());
    h
}

pub(super) fn stale_sealed(
    conn: &Connection,
    project_id: &str,
    pkek_version: u32,
    limit: u32,
) -> Result<Vec<StaleSealed>, StoreError> {
    let h = header(pkek_version);
    let mut out = query_all(
        conn,
        "SELECT s.id, s.payload, coalesce(ss.store_plugin, 'store_crypto') \
         FROM secrets s LEFT JOIN secret_stores ss ON ss.id = s.payload_store_id \
         WHERE s.project_id = ?1 AND s.payload IS NOT NULL AND substr(s.payload, 1, 1) = ?2 \
         AND substr(s.payload, 1, 5) < ?3 LIMIT ?4",
        params![project_id, vec![SEAL_FORMAT], h, i64::from(limit)],
        "reading stale secret payloads",
        |row| {
            let get = sql_err("reading a stale secret payload");
            let id: String = row.get(0).map_err(&get)?;
            let secret_id = uuid_from_db(&id)?;
            let sealed = row.get(1).map_err(&get)?;
            let plugin: String = row.get(2).map_err(&get)?;
            // Payloads of external stores are locators, sealed as their own kind.
            Ok(if plugin == arca_core::STORE_CRYPTO_PLUGIN {
                StaleSealed::SecretPayload { secret_id, sealed }
            } else {
                StaleSealed::SecretLocator { secret_id, sealed }
            })
        },
    )?;
    let left = limit.saturating_sub(u32::try_from(out.len()).unwrap_or(u32::MAX));
    if left > 0 {
        out.extend(query_all(
            conn,
            "SELECT v.key_id, v.version, k.key_spec, k.key_usage, v.material FROM kms_keys k \
             JOIN kms_key_versions v ON v.key_id = k.id \
             WHERE k.project_id = ?1 AND substr(v.material, 1, 1) = ?2 AND substr(v.material, 1, 5) < ?3 \
             LIMIT ?4",
            params![project_id, vec![SEAL_FORMAT], h, i64::from(left)],
            "reading stale KMS key material",
            |row| {
                let get = sql_err("reading stale KMS key material");
                let id: String = row.get(0).map_err(&get)?;
                Ok(StaleSealed::KmsMaterial {
                    key_id: uuid_from_db(&id)?,
                    version: narrow(row.get(1).map_err(&get)?, "version")?,
                    key_spec: row.get(2).map_err(&get)?,
                    key_usage: row.get(3).map_err(&get)?,
                    sealed: row.get(4).map_err(&get)?,
                })
            },
        )?);
    }
    Ok(out)
}

/// Writes each re-sealed object if its stored envelope is still the one read; how many were written.
fn reseal(conn: &Connection, objects: &[Resealed]) -> Result<u64, StoreError> {
    let mut written = 0u64;
    for object in objects {
        let done = match &object.old {
            StaleSealed::SecretPayload { secret_id, sealed }
            | StaleSealed::SecretLocator { secret_id, sealed } => execute(
                conn,
                "UPDATE secrets SET payload = ? WHERE id = ? AND payload = ?",
                params![object.sealed, uuid_to_db(*secret_id), sealed],
                "re-sealing a secret payload",
            )?,
            StaleSealed::KmsMaterial {
                key_id,
                version,
                sealed,
                ..
            } => execute(
                conn,
                "UPDATE kms_key_versions SET material = ? WHERE key_id = ? AND version = ? AND material = ?",
                params![
                    object.sealed,
                    uuid_to_db(*key_id),
                    i64::from(*version),
                    sealed
                ],
                "re-sealing KMS key material",
            )?,
        };
        written += done as u64;
    }
    Ok(written)
}
