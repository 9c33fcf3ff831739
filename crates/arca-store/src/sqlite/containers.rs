//! Containers (`containers`), their secret references (`container_secrets`) and their consumers
//! (`container_consumers`): reads on a pooled read connection (a container and its children in one read
//! transaction, so they come from one snapshot), writes as functions the writer thread runs inside an
//! operation's savepoint.

use arca_core::{
    ContainerConsumer, ContainerConsumerPage, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, ContainerType, StoreError,
};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{
    count, execute, exists, query_all, query_opt, sql_err, ts_from_db, ts_to_db, uuid_from_db,
    uuid_to_db,
};
use super::secrets;

fn container_from_row(row: &Row<'_>) -> Result<ContainerRecord, StoreError> {
    let get = sql_err("reading a container row");
    let id: String = row.get("id").map_err(&get)?;
    let kind: String = row.get("container_type").map_err(&get)?;
    Ok(ContainerRecord {
        id: uuid_from_db(&id)?,
        project_id: row.get("project_id").map_err(&get)?,
        creator_id: row.get("creator_id").map_err(&get)?,
        name: row.get("name").map_err(&get)?,
        container_type: ContainerType::parse(&kind).ok_or_else(|| {
            StoreError(format!(
                "SQLite store: unknown container type {kind:?} in container {id}"
            ))
        })?,
        created: ts_from_db(row.get("created").map_err(&get)?)?,
        updated: ts_from_db(row.get("updated").map_err(&get)?)?,
        secret_refs: Vec::new(),
        consumers: Vec::new(),
    })
}

fn consumer_from_row(row: &Row<'_>) -> Result<ContainerConsumer, StoreError> {
    let get = sql_err("reading a container consumer row");
    Ok(ContainerConsumer {
        name: row.get("name").map_err(&get)?,
        url: row.get("url").map_err(&get)?,
        project_id: row.get("project_id").map_err(&get)?,
        created: ts_from_db(row.get("created").map_err(&get)?)?,
        updated: ts_from_db(row.get("updated").map_err(&get)?)?,
    })
}

const CONTAINER_COLUMNS: &str =
    "id, project_id, creator_id, name, container_type, created, updated";

/// Fills in the secret references and consumers of `container` on `conn`.
fn load_children(conn: &Connection, container: &mut ContainerRecord) -> Result<(), StoreError> {
    let id = uuid_to_db(container.id);
    container.secret_refs = query_all(
        conn,
        "SELECT secret_id, name FROM container_secrets WHERE container_id = ? ORDER BY seq",
        [&id],
        "reading container secrets",
        |row| {
            let get = sql_err("reading a container secret row");
            let secret_id: String = row.get("secret_id").map_err(&get)?;
            Ok(ContainerSecretRef {
                name: row.get("name").map_err(&get)?,
                secret_id: uuid_from_db(&secret_id)?,
            })
        },
    )?;
    container.consumers = query_all(
        conn,
        "SELECT name, url, project_id, created, updated FROM container_consumers \
         WHERE container_id = ? ORDER BY created, name, url",
        [&id],
        "reading container consumers",
        consumer_from_row,
    )?;
    Ok(())
}

/// A container with its children; run in a read transaction (`Reads::snapshot`).
pub(super) fn get(conn: &Connection, id: Uuid) -> Result<Option<ContainerRecord>, StoreError> {
    let sql = format!("SELECT {CONTAINER_COLUMNS} FROM containers WHERE id = ?");
    let container = query_opt(
        conn,
        &sql,
        [uuid_to_db(id)],
        "reading a container",
        container_from_row,
    )?;
    let Some(mut container) = container else {
        return Ok(None);
    };
    load_children(conn, &mut container)?;
    Ok(Some(container))
}

/// One page of a project's containers and the total; run in a read transaction (`Reads::snapshot`). The total
/// counts the project's matching containers through the `(project_id, created)` index.
pub(super) fn list(conn: &Connection, q: &ContainerQuery) -> Result<ContainerPage, StoreError> {
    let mut filter = String::from(" WHERE project_id = ?");
    let mut values = vec![Value::Text(q.project_id.clone())];
    if let Some(name) = &q.name {
        filter.push_str(" AND name LIKE ?");
        values.push(Value::Text(name.clone()));
    }
    if let Some(kind) = q.container_type {
        filter.push_str(" AND container_type = ?");
        values.push(Value::Text(kind.as_str().to_owned()));
    }
    let page_sql = format!(
        "SELECT {CONTAINER_COLUMNS} FROM containers{filter} ORDER BY created, id LIMIT ? OFFSET ?"
    );
    let count_sql = format!("SELECT COUNT(*) FROM containers{filter}");
    let total = count(
        conn,
        &count_sql,
        params_from_iter(values.iter()),
        "counting containers",
    )?;
    values.push(Value::Integer(i64::from(q.limit)));
    values.push(Value::Integer(i64::from(q.offset)));
    let mut containers = query_all(
        conn,
        &page_sql,
        params_from_iter(values.iter()),
        "listing containers",
        container_from_row,
    )?;
    for container in &mut containers {
        load_children(conn, container)?;
    }
    Ok(ContainerPage { containers, total })
}

fn container_exists(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    exists(
        conn,
        "SELECT 1 FROM containers WHERE id = ?",
        [id],
        "looking up a container",
    )
}

/// Appends a reference after the container's last one; `false` if that (secret, name) is already there.
fn insert_ref(
    conn: &Connection,
    container_id: &str,
    reference: &ContainerSecretRef,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "INSERT INTO container_secrets (container_id, seq, secret_id, name) \
         SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3 FROM container_secrets WHERE container_id = ?1 \
         ON CONFLICT DO NOTHING",
        params![
            container_id,
            uuid_to_db(reference.secret_id),
            reference.name
        ],
        "inserting a container secret",
    )?;
    Ok(done == 1)
}

/// Inserts the container and its references; `false`, with nothing written, when a referenced secret is gone
/// (checked before anything is inserted).
pub(super) fn insert(conn: &Connection, c: &ContainerRecord) -> Result<bool, StoreError> {
    for reference in &c.secret_refs {
        if !secrets::exists_by_id(conn, &uuid_to_db(reference.secret_id))? {
            return Ok(false);
        }
    }
    let id = uuid_to_db(c.id);
    execute(
        conn,
        "INSERT INTO containers (id, project_id, creator_id, name, container_type, created, updated) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
        params![
            id,
            c.project_id,
            c.creator_id,
            c.name,
            c.container_type.as_str(),
            ts_to_db(c.created)?,
            ts_to_db(c.updated)?
        ],
        "inserting a container",
    )?;
    for reference in &c.secret_refs {
        if !insert_ref(conn, &id, reference)? {
            return Err(StoreError(format!(
                "SQLite store: duplicate secret reference in new container {id}"
            )));
        }
    }
    Ok(true)
}

/// Deletes a container; its references and consumers go by cascade.
pub(super) fn delete(conn: &Connection, id: Uuid) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM containers WHERE id = ?",
        [uuid_to_db(id)],
        "deleting a container",
    )?;
    Ok(done > 0)
}

fn stamp(conn: &Connection, id: &str, updated: OffsetDateTime) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "UPDATE containers SET updated = ? WHERE id = ?",
        params![ts_to_db(updated)?, id],
        "stamping a container",
    )?;
    Ok(done == 1)
}

pub(super) fn add_secret(
    conn: &Connection,
    id: Uuid,
    reference: &ContainerSecretRef,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    if !container_exists(conn, &id)?
        || !secrets::exists_by_id(conn, &uuid_to_db(reference.secret_id))?
    {
        return Ok(false);
    }
    if !insert_ref(conn, &id, reference)? {
        return Ok(false);
    }
    stamp(conn, &id, updated)
}

pub(super) fn remove_secret(
    conn: &Connection,
    id: Uuid,
    reference: &ContainerSecretRef,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let done = execute(
        conn,
        "DELETE FROM container_secrets WHERE container_id = ? AND secret_id = ? AND name IS ?",
        params![id, uuid_to_db(reference.secret_id), reference.name],
        "removing a container secret",
    )?;
    if done == 0 {
        return Ok(false);
    }
    stamp(conn, &id, updated)
}

/// Whether the container already has the consumer (name, URL).
pub(super) fn has_consumer(
    conn: &Connection,
    id: Uuid,
    c: &ContainerConsumer,
) -> Result<bool, StoreError> {
    exists(
        conn,
        "SELECT 1 FROM container_consumers WHERE container_id = ? AND name = ? AND url = ?",
        params![uuid_to_db(id), c.name, c.url],
        "looking up a container consumer",
    )
}

pub(super) fn upsert_consumer(
    conn: &Connection,
    id: Uuid,
    c: &ContainerConsumer,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    if !container_exists(conn, &id)? {
        return Ok(false);
    }
    let done = execute(
        conn,
        "INSERT INTO container_consumers (container_id, name, url, project_id, created, updated) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        params![
            id,
            c.name,
            c.url,
            c.project_id,
            ts_to_db(c.created)?,
            ts_to_db(c.updated)?
        ],
        "registering a container consumer",
    )?;
    if done == 1 {
        stamp(conn, &id, c.updated)?;
    }
    Ok(true)
}

/// One page of a container's consumers and their total (a key-prefix range); run in a read transaction.
pub(super) fn list_consumers(
    conn: &Connection,
    id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<ContainerConsumerPage, StoreError> {
    let id = uuid_to_db(id);
    let consumers = query_all(
        conn,
        "SELECT name, url, project_id, created, updated FROM container_consumers \
         WHERE container_id = ? ORDER BY name, url LIMIT ? OFFSET ?",
        params![id, i64::from(limit), i64::from(offset)],
        "listing container consumers",
        consumer_from_row,
    )?;
    let total = count(
        conn,
        "SELECT COUNT(*) FROM container_consumers WHERE container_id = ?",
        [&id],
        "counting container consumers",
    )?;
    Ok(ContainerConsumerPage { consumers, total })
}

pub(super) fn delete_consumer(
    conn: &Connection,
    id: Uuid,
    name: &str,
    url: &str,
) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        "DELETE FROM container_consumers WHERE container_id = ? AND name = ? AND url = ?",
        params![uuid_to_db(id), name, url],
        "removing a container consumer",
    )?;
    Ok(done > 0)
}
