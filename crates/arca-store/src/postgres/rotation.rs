//! Key rotation on PostgreSQL. Root rotation: the KEK and system key rows still wrapped under an older root key
//! version, their counts, and the rewrap — one transaction, each row a compare-and-swap on `rk_version`, so reruns
//! and several nodes rewrapping at once are safe. Project KEK rotation: the new KEK version with its pending rewrap
//! (`pkek_rewraps`) in one transaction, the objects (secret payloads, KMS key material) still sealed under an older
//! version (found by the seal header's big-endian version field, compared bytewise), the re-seal — one transaction,
//! each object a compare-and-swap on its stored envelope — and the end of a rewrap. The integer columns of the core
//! tables are read through `::BIGINT`, so these queries do not depend on their exact integer widths.

use arca_core::{
    KekRow, PendingRewrap, Resealed, RewrappedKey, StaleSealed, StoreError, WrappedKeyRow,
};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use time::OffsetDateTime;

use super::error::{
    db_error, err, narrow, to_count, ts_bound, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};

/// The seal format byte every stale object must have (others are left alone).
const SEAL_FORMAT: u8 = 0x01;

fn wrapped_from_row(row: &PgRow) -> Result<WrappedKeyRow, StoreError> {
    let get = |e| db_error("reading a wrapped key row", e);
    Ok(WrappedKeyRow {
        rk_version: narrow(row.try_get("rk_version").map_err(get)?, "rk_version")?,
        wrap_alg: narrow(row.try_get("wrap_alg").map_err(get)?, "wrap_alg")?,
        wrapped: row.try_get("wrapped").map_err(get)?,
        mac: row.try_get("mac").map_err(get)?,
    })
}

fn kek_from_row(row: &PgRow) -> Result<KekRow, StoreError> {
    let get = |e| db_error("reading a KEK row", e);
    Ok(KekRow {
        project_id: row.try_get("project_id").map_err(get)?,
        pkek_version: narrow(row.try_get("pkek_version").map_err(get)?, "pkek_version")?,
        key: wrapped_from_row(row)?,
    })
}

// --- root key rotation ---

/// Up to `limit` KEK rows wrapped under a root key version below `rk_version`, by project and version.
pub(super) async fn keks_below_rk(
    pool: &PgPool,
    rk_version: u32,
    limit: u32,
) -> Result<Vec<KekRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT project_id, pkek_version::BIGINT AS pkek_version, rk_version::BIGINT AS rk_version, \
         wrap_alg::BIGINT AS wrap_alg, wrapped, mac FROM project_keks WHERE rk_version < $1 \
         ORDER BY rk_version, project_id COLLATE \"C\", pkek_version LIMIT $2",
    )
    .bind(i64::from(rk_version))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(err("reading KEKs to rewrap"))?;
    rows.iter().map(kek_from_row).collect()
}

/// Every system key row wrapped under a root key version below `rk_version`, by name.
pub(super) async fn system_keys_below_rk(
    pool: &PgPool,
    rk_version: u32,
) -> Result<Vec<(String, WrappedKeyRow)>, StoreError> {
    let rows = sqlx::query(
        "SELECT name, rk_version::BIGINT AS rk_version, wrap_alg::BIGINT AS wrap_alg, wrapped, mac \
         FROM system_keys WHERE rk_version < $1 ORDER BY name COLLATE \"C\"",
    )
    .bind(i64::from(rk_version))
    .fetch_all(pool)
    .await
    .map_err(err("reading system keys to rewrap"))?;
    rows.iter()
        .map(|row| {
            let name = row
                .try_get("name")
                .map_err(|e| db_error("reading a system key", e))?;
            Ok((name, wrapped_from_row(row)?))
        })
        .collect()
}

/// How many KEK and system key rows are wrapped under a root key version below `rk_version`.
pub(super) async fn count_keys_below_rk(pool: &PgPool, rk_version: u32) -> Result<u64, StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM project_keks WHERE rk_version < $1) \
              + (SELECT COUNT(*) FROM system_keys WHERE rk_version < $1)",
    )
    .bind(i64::from(rk_version))
    .fetch_one(pool)
    .await
    .map_err(err("counting keys to rewrap"))?;
    to_count(total)
}

/// How many KEK and system key rows are wrapped under exactly `rk_version`.
pub(super) async fn count_keys_under_rk(pool: &PgPool, rk_version: u32) -> Result<u64, StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM project_keks WHERE rk_version = $1) \
              + (SELECT COUNT(*) FROM system_keys WHERE rk_version = $1)",
    )
    .bind(i64::from(rk_version))
    .fetch_one(pool)
    .await
    .map_err(err("counting keys under a root key version"))?;
    to_count(total)
}

/// Writes the rewrapped rows in one transaction, each only if it still has its old root key version; how many
/// were written.
pub(super) async fn rewrap_keys(pool: &PgPool, rows: &[RewrappedKey]) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a rewrap"))?;
    let mut written = 0u64;
    for row in rows {
        let done = match row {
            RewrappedKey::Kek {
                project_id,
                pkek_version,
                old_rk_version,
                key,
            } => sqlx::query(
                "UPDATE project_keks SET rk_version = $1, wrap_alg = $2, wrapped = $3, mac = $4 \
                 WHERE project_id = $5 AND pkek_version = $6 AND rk_version = $7",
            )
            .bind(i64::from(key.rk_version))
            .bind(i64::from(key.wrap_alg))
            .bind(&key.wrapped)
            .bind(&key.mac)
            .bind(project_id)
            .bind(i64::from(*pkek_version))
            .bind(i64::from(*old_rk_version))
            .execute(&mut *tx)
            .await
            .map_err(err("rewrapping a KEK"))?,
            RewrappedKey::System {
                name,
                old_rk_version,
                key,
            } => sqlx::query(
                "UPDATE system_keys SET rk_version = $1, wrap_alg = $2, wrapped = $3, mac = $4 \
                 WHERE name = $5 AND rk_version = $6",
            )
            .bind(i64::from(key.rk_version))
            .bind(i64::from(key.wrap_alg))
            .bind(&key.wrapped)
            .bind(&key.mac)
            .bind(name)
            .bind(i64::from(*old_rk_version))
            .execute(&mut *tx)
            .await
            .map_err(err("rewrapping a system key"))?,
        };
        written += done.rows_affected();
    }
    tx.commit().await.map_err(err("committing a rewrap"))?;
    Ok(written)
}

// --- project KEK rotation ---

/// Adds KEK version `row.pkek_version` and records the pending rewrap in one transaction; `false` (nothing
/// written) if that version exists — also when another node adds it at the same moment (the insert waits for the
/// other transaction, then does nothing).
pub(super) async fn rotate_kek(
    pool: &PgPool,
    row: &KekRow,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let since = ts_to_db(now)?;
    let mut tx = pool.begin().await.map_err(err("starting a KEK rotation"))?;
    // `created` on the database's clock, as SQLite's `unixepoch() * 1000000000`: every node agrees on it.
    let inserted = sqlx::query(
        "INSERT INTO project_keks (project_id, pkek_version, rk_version, wrap_alg, wrapped, mac, created) \
         VALUES ($1, $2, $3, $4, $5, $6, (floor(extract(epoch FROM now()) * 1000000000))::BIGINT) \
         ON CONFLICT (project_id, pkek_version) DO NOTHING",
    )
    .bind(&row.project_id)
    .bind(i64::from(row.pkek_version))
    .bind(i64::from(row.key.rk_version))
    .bind(i64::from(row.key.wrap_alg))
    .bind(&row.key.wrapped)
    .bind(&row.key.mac)
    .execute(&mut *tx)
    .await
    .map_err(err("inserting a rotated KEK"))?;
    if inserted.rows_affected() == 0 {
        tx.rollback()
            .await
            .map_err(err("rolling back a KEK rotation"))?;
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO pkek_rewraps (project_id, pkek_version, since) VALUES ($1, $2, $3) \
         ON CONFLICT (project_id) DO UPDATE SET pkek_version = excluded.pkek_version, since = excluded.since",
    )
    .bind(&row.project_id)
    .bind(i64::from(row.pkek_version))
    .bind(since)
    .execute(&mut *tx)
    .await
    .map_err(err("recording a pending rewrap"))?;
    tx.commit()
        .await
        .map_err(err("committing a KEK rotation"))?;
    Ok(true)
}

/// Up to `limit` projects whose objects still have to move to a newer KEK version, oldest first.
pub(super) async fn pending_rewraps(
    pool: &PgPool,
    limit: u32,
) -> Result<Vec<PendingRewrap>, StoreError> {
    let rows = sqlx::query(
        "SELECT project_id, pkek_version, since FROM pkek_rewraps ORDER BY since, project_id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(err("reading pending rewraps"))?;
    rows.iter()
        .map(|row| {
            let get = |e| db_error("reading a pending rewrap", e);
            Ok(PendingRewrap {
                project_id: row.try_get("project_id").map_err(get)?,
                pkek_version: narrow(row.try_get("pkek_version").map_err(get)?, "pkek_version")?,
                since: ts_from_db(row.try_get("since").map_err(get)?)?,
            })
        })
        .collect()
}

/// The seal header prefix (`format ‖ u32 version`) below which an envelope is stale: bytea compares bytewise and
/// the version is big-endian, so `substring(x FROM 1 FOR 5) < prefix` means an older version.
fn header(pkek_version: u32) -> Vec<u8> {
    let mut h = vec![SEAL_FORMAT];
    h.extend_from_slice(&pkek_version.to_be_bytes());
    h
}

/// Up to `limit` of a project's objects sealed under a KEK version below `pkek_version`: secret payloads first,
/// then KMS key material.
pub(super) async fn stale_sealed(
    pool: &PgPool,
    project_id: &str,
    pkek_version: u32,
    limit: u32,
) -> Result<Vec<StaleSealed>, StoreError> {
    let h = header(pkek_version);
    let format = vec![SEAL_FORMAT];
    let rows = sqlx::query(
        "SELECT p.secret_id, p.ciphertext, coalesce(ss.store_plugin, 'store_crypto') AS store_plugin \
         FROM secrets s JOIN secret_payloads p ON p.secret_id = s.id \
         LEFT JOIN secret_stores ss ON ss.id = p.store_id \
         WHERE s.project_id = $1 AND substring(p.ciphertext FROM 1 FOR 1) = $2 \
         AND substring(p.ciphertext FROM 1 FOR 5) < $3 LIMIT $4",
    )
    .bind(project_id)
    .bind(&format)
    .bind(&h)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(err("reading stale secret payloads"))?;
    let mut out = rows
        .iter()
        .map(|row| {
            let get = |e| db_error("reading a stale secret payload", e);
            let id: String = row.try_get("secret_id").map_err(get)?;
            let secret_id = uuid_from_db(&id)?;
            let sealed = row.try_get("ciphertext").map_err(get)?;
            let plugin: String = row.try_get("store_plugin").map_err(get)?;
            // Payloads of external stores are locators, sealed as their own kind.
            Ok(if plugin == arca_core::STORE_CRYPTO_PLUGIN {
                StaleSealed::SecretPayload { secret_id, sealed }
            } else {
                StaleSealed::SecretLocator { secret_id, sealed }
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let left = limit.saturating_sub(u32::try_from(out.len()).unwrap_or(u32::MAX));
    if left > 0 {
        let rows = sqlx::query(
            "SELECT v.key_id, v.version, k.key_spec, k.key_usage, v.material FROM kms_keys k \
             JOIN kms_key_versions v ON v.key_id = k.id \
             WHERE k.project_id = $1 AND substring(v.material FROM 1 FOR 1) = $2 \
             AND substring(v.material FROM 1 FOR 5) < $3 LIMIT $4",
        )
        .bind(project_id)
        .bind(&format)
        .bind(&h)
        .bind(i64::from(left))
        .fetch_all(pool)
        .await
        .map_err(err("reading stale KMS key material"))?;
        for row in &rows {
            let get = |e| db_error("reading stale KMS key material", e);
            let id: String = row.try_get("key_id").map_err(get)?;
            out.push(StaleSealed::KmsMaterial {
                key_id: uuid_from_db(&id)?,
                version: narrow(row.try_get("version").map_err(get)?, "version")?,
                key_spec: row.try_get("key_spec").map_err(get)?,
                key_usage: row.try_get("key_usage").map_err(get)?,
                sealed: row.try_get("material").map_err(get)?,
            });
        }
    }
    Ok(out)
}

/// Writes the re-sealed objects in one transaction, each only if its stored envelope is still the one read; how
/// many were written.
pub(super) async fn reseal(pool: &PgPool, objects: &[Resealed]) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a re-seal"))?;
    let mut written = 0u64;
    for object in objects {
        let done = match &object.old {
            StaleSealed::SecretPayload { secret_id, sealed }
            | StaleSealed::SecretLocator { secret_id, sealed } => sqlx::query(
                "UPDATE secret_payloads SET ciphertext = $1 WHERE secret_id = $2 AND ciphertext = $3",
            )
            .bind(&object.sealed)
            .bind(uuid_to_db(*secret_id))
            .bind(sealed)
            .execute(&mut *tx)
            .await
            .map_err(err("re-sealing a secret payload"))?,
            StaleSealed::KmsMaterial {
                key_id,
                version,
                sealed,
                ..
            } => sqlx::query(
                "UPDATE kms_key_versions SET material = $1 \
                 WHERE key_id = $2 AND version = $3 AND material = $4",
            )
            .bind(&object.sealed)
            .bind(uuid_to_db(*key_id))
            .bind(i64::from(*version))
            .bind(sealed)
            .execute(&mut *tx)
            .await
            .map_err(err("re-sealing KMS key material"))?,
        };
        written += done.rows_affected();
    }
    tx.commit().await.map_err(err("committing a re-seal"))?;
    Ok(written)
}

/// Marks a project's rewrap to `pkek_version` done; `false` if it was not pending (or a newer one is).
pub(super) async fn finish_rewrap(
    pool: &PgPool,
    project_id: &str,
    pkek_version: u32,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM pkek_rewraps WHERE project_id = $1 AND pkek_version = $2")
        .bind(project_id)
        .bind(i64::from(pkek_version))
        .execute(pool)
        .await
        .map_err(err("finishing a rewrap"))?;
    Ok(done.rows_affected() == 1)
}

/// Up to `limit` projects whose newest KEK was created before `cutoff`, longest ago first.
pub(super) async fn keks_created_before(
    pool: &PgPool,
    cutoff: OffsetDateTime,
    limit: u32,
) -> Result<Vec<String>, StoreError> {
    sqlx::query_scalar(
        "SELECT project_id FROM project_keks GROUP BY project_id \
         HAVING MAX(created) < $1 ORDER BY MAX(created), project_id COLLATE \"C\" LIMIT $2",
    )
    .bind(ts_bound(cutoff))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(err("reading KEKs due for rotation"))
}
