//! Secret stores (`secret_stores`, brought in line with the configuration at start-up) and each project's
//! preferred store (`project_secret_stores`); which store holds each payload (`secrets.payload_store_id`), moves
//! between stores and the objects they leave behind (`secret_store_orphans`): reads on a pooled read
//! connection, writes on the writer thread. The payloads of one store are found by walking the secrets in id
//! order (no index on the store: it would be one more B-tree in every stored secret's write, for an admin command).

use arca_core::{PlacedPayload, SecretStoreRecord, StoreError, StoreOrphan, StoredPayload};
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{
    execute, query_all, query_opt, sql_err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};

pub(super) fn list(conn: &Connection) -> Result<Vec<SecretStoreRecord>, StoreError> {
    query_all(
        conn,
        "SELECT id, name, store_plugin, crypto_plugin, global_default, created, updated, config_name, \
         configured FROM secret_stores ORDER BY created, id",
        [],
        "listing secret stores",
        |row| {
            let get = sql_err("reading a secret store row");
            let id: String = row.get("id").map_err(&get)?;
            let global_default: i64 = row.get("global_default").map_err(&get)?;
            let configured: i64 = row.get("configured").map_err(&get)?;
            Ok(SecretStoreRecord {
                id: uuid_from_db(&id)?,
                name: row.get("name").map_err(&get)?,
                store_plugin: row.get("store_plugin").map_err(&get)?,
                crypto_plugin: row.get("crypto_plugin").map_err(&get)?,
                global_default: global_default != 0,
                created: ts_from_db(row.get("created").map_err(&get)?)?,
                updated: ts_from_db(row.get("updated").map_err(&get)?)?,
                config_name: row.get("config_name").map_err(&get)?,
                configured: configured != 0,
            })
        },
    )
}

pub(super) fn get_preferred(
    conn: &Connection,
    project_id: &str,
) -> Result<Option<Uuid>, StoreError> {
    query_opt(
        conn,
        "SELECT store_id FROM project_secret_stores WHERE project_id = ?",
        [project_id],
        "reading a preferred secret store",
        |row| {
            let id: String = row
                .get(0)
                .map_err(sql_err("reading a preferred secret store"))?;
            uuid_from_db(&id)
        },
    )
}

pub(super) fn set_preferred(
    conn: &Connection,
    project_id: &str,
    store_id: Uuid,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let now = ts_to_db(now)?;
    let done = execute(
        conn,
        "INSERT INTO project_secret_stores (project_id, store_id, created, updated) \
         SELECT ?1, ?2, ?3, ?3 WHERE EXISTS (SELECT 1 FROM secret_stores WHERE id = ?2) \
         ON CONFLICT (project_id) DO UPDATE SET store_id = excluded.store_id, updated = excluded.updated",
        params![project_id, uuid_to_db(store_id), now],
        "setting a preferred secret store",
    )?;
    Ok(done > 0)
}

pub(super) fn delete_preferred(conn: &Connection, project_id: &str) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM project_secret_stores WHERE project_id = ?",
        [project_id],
        "clearing a preferred secret store",
    )?;
    Ok(done > 0)
}

/// Inserts or updates every configured store (by id) and marks every other row unconfigured and not the
/// default; `true` if anything changed.
pub(super) fn sync(
    conn: &Connection,
    configured: &[SecretStoreRecord],
) -> Result<bool, StoreError> {
    let mut changed = 0;
    let ids: Vec<String> = configured.iter().map(|s| uuid_to_db(s.id)).collect();
    for store in configured {
        let now = ts_to_db(store.updated)?;
        changed += execute(
            conn,
            "INSERT INTO secret_stores (id, name, store_plugin, crypto_plugin, global_default, created, \
             updated, config_name, configured) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, 1) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, store_plugin = excluded.store_plugin, \
             crypto_plugin = excluded.crypto_plugin, global_default = excluded.global_default, \
             config_name = excluded.config_name, configured = 1, updated = excluded.updated \
             WHERE name IS NOT excluded.name OR store_plugin IS NOT excluded.store_plugin \
             OR crypto_plugin IS NOT excluded.crypto_plugin OR global_default IS NOT excluded.global_default \
             OR config_name IS NOT excluded.config_name OR configured IS NOT 1",
            params![
                uuid_to_db(store.id),
                store.name,
                store.store_plugin,
                store.crypto_plugin,
                i64::from(store.global_default),
                now,
                store.config_name,
            ],
            "configuring a secret store",
        )?;
    }
    let rows = query_all(
        conn,
        "SELECT id FROM secret_stores WHERE configured = 1 OR global_default = 1",
        [],
        "listing secret stores",
        |row| {
            row.get::<_, String>(0)
                .map_err(sql_err("reading a secret store id"))
        },
    )?;
    for id in rows.iter().filter(|id| !ids.contains(id)) {
        changed += execute(
            conn,
            "UPDATE secret_stores SET configured = 0, global_default = 0 WHERE id = ?",
            [id],
            "retiring a secret store",
        )?;
    }
    Ok(changed > 0)
}

pub(super) fn payloads_in_store(
    conn: &Connection,
    store_id: Uuid,
    project_id: Option<&str>,
    after: Option<Uuid>,
    limit: u32,
) -> Result<Vec<PlacedPayload>, StoreError> {
    query_all(
        conn,
        "SELECT payload, payload_content_type, payload_store_id, id, project_id FROM secrets \
         WHERE payload_store_id = ?1 AND id > ?2 AND (?3 IS NULL OR project_id = ?3) \
         ORDER BY id LIMIT ?4",
        params![
            uuid_to_db(store_id),
            after.map(uuid_to_db).unwrap_or_default(),
            project_id,
            i64::from(limit)
        ],
        "listing the payloads of a secret store",
        |row| {
            let get = sql_err("reading a payload row");
            let secret_id: String = row.get(3).map_err(&get)?;
            Ok(PlacedPayload {
                payload: super::secrets::payload_from_row(row)?,
                secret_id: uuid_from_db(&secret_id)?,
                project_id: row.get(4).map_err(&get)?,
            })
        },
    )
}

pub(super) fn count_payloads_in_store(
    conn: &Connection,
    store_id: Uuid,
    project_id: Option<&str>,
) -> Result<u64, StoreError> {
    let n = query_opt(
        conn,
        "SELECT count(*) FROM secrets WHERE payload_store_id = ?1 AND (?2 IS NULL OR project_id = ?2)",
        params![uuid_to_db(store_id), project_id],
        "counting the payloads of a secret store",
        |row| {
            row.get::<_, i64>(0)
                .map_err(sql_err("counting the payloads of a secret store"))
        },
    )?;
    Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
}

/// Compare-and-swap of a payload row, with the orphan it leaves recorded in the same transaction.
pub(super) fn move_payload(
    conn: &Connection,
    secret_id: Uuid,
    old: &StoredPayload,
    new: &StoredPayload,
    orphan: Option<&StoreOrphan>,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE secrets SET payload = ?1, payload_store_id = ?2 \
         WHERE id = ?3 AND payload_store_id = ?4 AND payload = ?5",
        params![
            new.ciphertext,
            uuid_to_db(new.store_id),
            uuid_to_db(secret_id),
            uuid_to_db(old.store_id),
            old.ciphertext
        ],
        "moving a payload",
    )?;
    if done != 1 {
        return Ok(false);
    }
    if let Some(orphan) = orphan {
        execute(
            conn,
            "INSERT INTO secret_store_orphans (store_id, secret_id, project_id, sealed_locator, created) \
             VALUES (?, ?, ?, ?, ?)",
            params![
                uuid_to_db(orphan.store_id),
                uuid_to_db(orphan.secret_id),
                orphan.project_id,
                orphan.sealed_locator,
                ts_to_db(now)?
            ],
            "recording an object left on a secret store",
        )?;
    }
    Ok(true)
}

pub(super) fn orphans(conn: &Connection, store_id: Uuid) -> Result<Vec<StoreOrphan>, StoreError> {
    query_all(
        conn,
        "SELECT id, store_id, secret_id, project_id, sealed_locator FROM secret_store_orphans \
         WHERE store_id = ? ORDER BY id",
        [uuid_to_db(store_id)],
        "listing objects left on a secret store",
        |row| {
            let get = sql_err("reading an orphan row");
            let store: String = row.get(1).map_err(&get)?;
            let secret: String = row.get(2).map_err(&get)?;
            Ok(StoreOrphan {
                id: row.get(0).map_err(&get)?,
                store_id: uuid_from_db(&store)?,
                secret_id: uuid_from_db(&secret)?,
                project_id: row.get(3).map_err(&get)?,
                sealed_locator: row.get(4).map_err(&get)?,
            })
        },
    )
}

pub(super) fn delete_orphan(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(execute(
        conn,
        "DELETE FROM secret_store_orphans WHERE id = ?",
        [id],
        "forgetting an object left on a secret store",
    )? > 0)
}
