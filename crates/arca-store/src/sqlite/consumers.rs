//! Secret consumers (`secret_consumers`): reads on a pooled read connection, writes as functions the writer
//! thread runs inside an operation's savepoint.

use std::collections::BTreeMap;

use arca_core::{SecretConsumer, SecretConsumerPage, StoreError};
use rusqlite::{Connection, Row, params, params_from_iter};
use uuid::Uuid;

use super::codec::{
    self, count, execute, query_all, sql_err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};
use super::secrets;

const COLUMNS: &str =
    "secret_id, service, resource_type, resource_id, project_id, created, updated";

fn consumer_from_row(row: &Row<'_>) -> Result<SecretConsumer, StoreError> {
    let get = sql_err("reading a secret consumer row");
    Ok(SecretConsumer {
        service: row.get("service").map_err(&get)?,
        resource_type: row.get("resource_type").map_err(&get)?,
        resource_id: row.get("resource_id").map_err(&get)?,
        project_id: row.get("project_id").map_err(&get)?,
        created: ts_from_db(row.get("created").map_err(&get)?)?,
        updated: ts_from_db(row.get("updated").map_err(&get)?)?,
    })
}

/// Whether the secret already has the consumer (service, resource type, resource id).
pub(super) fn exists(conn: &Connection, id: Uuid, c: &SecretConsumer) -> Result<bool, StoreError> {
    codec::exists(
        conn,
        "SELECT 1 FROM secret_consumers WHERE secret_id = ? AND service = ? AND resource_type = ? \
         AND resource_id = ?",
        params![uuid_to_db(id), c.service, c.resource_type, c.resource_id],
        "looking up a secret consumer",
    )
}

/// Registers a consumer; a new one stamps the secret's `updated`. `false` if the secret is gone.
pub(super) fn upsert(conn: &Connection, id: Uuid, c: &SecretConsumer) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    if !secrets::exists_by_id(conn, &id)? {
        return Ok(false);
    }
    let done = execute(
        conn,
        "INSERT INTO secret_consumers (secret_id, service, resource_type, resource_id, project_id, created, \
         updated) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        params![
            id,
            c.service,
            c.resource_type,
            c.resource_id,
            c.project_id,
            ts_to_db(c.created)?,
            ts_to_db(c.updated)?
        ],
        "registering a secret consumer",
    )?;
    if done == 1 {
        execute(
            conn,
            "UPDATE secrets SET updated = ? WHERE id = ?",
            params![ts_to_db(c.updated)?, id],
            "stamping a secret",
        )?;
    }
    Ok(true)
}

/// One page of a secret's consumers and their total (a key-prefix range); run in a read transaction.
pub(super) fn list(
    conn: &Connection,
    id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<SecretConsumerPage, StoreError> {
    let id = uuid_to_db(id);
    let sql = format!(
        "SELECT {COLUMNS} FROM secret_consumers WHERE secret_id = ? \
         ORDER BY created, service, resource_type, resource_id LIMIT ? OFFSET ?"
    );
    let consumers = query_all(
        conn,
        &sql,
        params![id, i64::from(limit), i64::from(offset)],
        "listing secret consumers",
        consumer_from_row,
    )?;
    let total = count(
        conn,
        "SELECT COUNT(*) FROM secret_consumers WHERE secret_id = ?",
        [&id],
        "counting secret consumers",
    )?;
    Ok(SecretConsumerPage { consumers, total })
}

/// Every consumer of each secret in `ids` (at most a page of them), oldest first.
pub(super) fn of(
    conn: &Connection,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, StoreError> {
    let mut out: BTreeMap<Uuid, Vec<SecretConsumer>> = BTreeMap::new();
    for chunk in ids.chunks(100) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT {COLUMNS} FROM secret_consumers WHERE secret_id IN ({marks}) \
             ORDER BY created, service, resource_type, resource_id"
        );
        let rows = query_all(
            conn,
            &sql,
            params_from_iter(chunk.iter().map(|id| uuid_to_db(*id))),
            "reading secret consumers",
            |row| {
                let secret_id: String = row
                    .get("secret_id")
                    .map_err(sql_err("reading a secret consumer row"))?;
                Ok((uuid_from_db(&secret_id)?, consumer_from_row(row)?))
            },
        )?;
        for (secret_id, consumer) in rows {
            out.entry(secret_id).or_default().push(consumer);
        }
    }
    Ok(out)
}

pub(super) fn delete(
    conn: &Connection,
    id: Uuid,
    service: &str,
    resource_type: &str,
    resource_id: &str,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM secret_consumers WHERE secret_id = ? AND service = ? AND resource_type = ? \
         AND resource_id = ?",
        params![uuid_to_db(id), service, resource_type, resource_id],
        "removing a secret consumer",
    )?;
    Ok(done > 0)
}
