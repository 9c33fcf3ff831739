//! Secret stores (`secret_stores`, seeded by the migrations with the stores this build has) and each
//! project's preferred store (`project_secret_stores`): reads on a pooled read connection, writes on the
//! writer thread.

use arca_core::{SecretStoreRecord, StoreError};
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{
    execute, query_all, query_opt, sql_err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};

pub(super) fn list(conn: &Connection) -> Result<Vec<SecretStoreRecord>, StoreError> {
    query_all(
        conn,
        "SELECT id, name, store_plugin, crypto_plugin, global_default, created, updated \
         FROM secret_stores ORDER BY created, id",
        [],
        "listing secret stores",
        |row| {
            let get = sql_err("reading a secret store row");
            let id: String = row.get("id").map_err(&get)?;
            let global_default: i64 = row.get("global_default").map_err(&get)?;
            Ok(SecretStoreRecord {
                id: uuid_from_db(&id)?,
                name: row.get("name").map_err(&get)?,
                store_plugin: row.get("store_plugin").map_err(&get)?,
                crypto_plugin: row.get("crypto_plugin").map_err(&get)?,
                global_default: global_default != 0,
                created: ts_from_db(row.get("created").map_err(&get)?)?,
                updated: ts_from_db(row.get("updated").map_err(&get)?)?,
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
