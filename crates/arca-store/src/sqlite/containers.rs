//! Containers (`containers`), their secret references (`container_secrets`) and their consumers
//! (`container_consumers`): reads on the read pool (a container and its children in one read transaction,
//! so they come from one snapshot), writes as functions the writer task runs inside a savepoint.

use arca_core::{
    ContainerConsumer, ContainerConsumerPage, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, ContainerType, StoreError,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{db_err, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db};

fn container_from_row(row: &SqliteRow) -> Result<ContainerRecord, StoreError> {
    let get = |e| db_err("reading a container row")(e);
    let id: String = row.try_get("id").map_err(get)?;
    let kind: String = row.try_get("container_type").map_err(get)?;
    Ok(ContainerRecord {
        id: uuid_from_db(&id)?,
        project_id: row.try_get("project_id").map_err(get)?,
        creator_id: row.try_get("creator_id").map_err(get)?,
        name: row.try_get("name").map_err(get)?,
        container_type: ContainerType::parse(&kind).ok_or_else(|| {
            StoreError(format!(
                "SQLite store: unknown container type {kind:?} in container {id}"
            ))
        })?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
        secret_refs: Vec::new(),
        consumers: Vec::new(),
    })
}

fn consumer_from_row(row: &SqliteRow) -> Result<ContainerConsumer, StoreError> {
    let get = |e| db_err("reading a container consumer row")(e);
    Ok(ContainerConsumer {
        name: row.try_get("name").map_err(get)?,
        url: row.try_get("url").map_err(get)?,
        project_id: row.try_get("project_id").map_err(get)?,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
    })
}

const CONTAINER_COLUMNS: &str =
    "id, project_id, creator_id, name, container_type, created, updated";

/// Fills in the secret references and consumers of `container` on `conn`.
async fn load_children(
    conn: &mut SqliteConnection,
    container: &mut ContainerRecord,
) -> Result<(), StoreError> {
    let id = uuid_to_db(container.id);
    let rows = sqlx::query(
        "SELECT secret_id, name FROM container_secrets WHERE container_id = ? ORDER BY seq",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err("reading container secrets"))?;
    for row in rows {
        let get = |e| db_err("reading a container secret row")(e);
        let secret_id: String = row.try_get("secret_id").map_err(get)?;
        container.secret_refs.push(ContainerSecretRef {
            name: row.try_get("name").map_err(get)?,
            secret_id: uuid_from_db(&secret_id)?,
        });
    }
    let rows = sqlx::query(
        "SELECT name, url, project_id, created, updated FROM container_consumers \
         WHERE container_id = ? ORDER BY created, name, url",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err("reading container consumers"))?;
    container.consumers = rows
        .iter()
        .map(consumer_from_row)
        .collect::<Result<_, _>>()?;
    Ok(())
}

pub(super) async fn get(
    pool: &SqlitePool,
    id: Uuid,
) -> Result<Option<ContainerRecord>, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {CONTAINER_COLUMNS} FROM containers WHERE id = ?"
    ));
    let row = sqlx::query(sql)
        .bind(uuid_to_db(id))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err("reading a container"))?;
    let Some(row) = row else { return Ok(None) };
    let mut container = container_from_row(&row)?;
    load_children(&mut tx, &mut container).await?;
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;
    Ok(Some(container))
}

pub(super) async fn list(
    pool: &SqlitePool,
    q: &ContainerQuery,
) -> Result<ContainerPage, StoreError> {
    let mut filter = String::from(" WHERE project_id = ?");
    if q.name.is_some() {
        filter.push_str(" AND name LIKE ?");
    }
    if q.container_type.is_some() {
        filter.push_str(" AND container_type = ?");
    }
    let page_sql = format!(
        "SELECT {CONTAINER_COLUMNS} FROM containers{filter} ORDER BY created, id LIMIT ? OFFSET ?"
    );
    let count_sql = format!("SELECT COUNT(*) FROM containers{filter}");
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let mut page = sqlx::query(sqlx::AssertSqlSafe(page_sql)).bind(&q.project_id);
    let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql)).bind(&q.project_id);
    if let Some(name) = &q.name {
        page = page.bind(name);
        count = count.bind(name);
    }
    if let Some(kind) = q.container_type {
        page = page.bind(kind.as_str());
        count = count.bind(kind.as_str());
    }
    let rows = page
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err("listing containers"))?;
    let total: i64 = count
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(db_err("counting containers"))?;
    let mut containers = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut container = container_from_row(row)?;
        load_children(&mut tx, &mut container).await?;
        containers.push(container);
    }
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;
    let total = u64::try_from(total)
        .map_err(|_| StoreError(format!("SQLite store: negative count {total}")))?;
    Ok(ContainerPage { containers, total })
}

async fn secret_exists(conn: &mut SqliteConnection, id: Uuid) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM secrets WHERE id = ?")
        .bind(uuid_to_db(id))
        .fetch_optional(conn)
        .await
        .map_err(db_err("looking up a secret"))?;
    Ok(found.is_some())
}

async fn container_exists(conn: &mut SqliteConnection, id: &str) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM containers WHERE id = ?")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(db_err("looking up a container"))?;
    Ok(found.is_some())
}

/// Appends a reference after the container's last one; `false` if that (secret, name) is already there.
async fn insert_ref(
    conn: &mut SqliteConnection,
    container_id: &str,
    reference: &ContainerSecretRef,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO container_secrets (container_id, seq, secret_id, name) \
         SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3 FROM container_secrets WHERE container_id = ?1 \
         ON CONFLICT DO NOTHING",
    )
    .bind(container_id)
    .bind(uuid_to_db(reference.secret_id))
    .bind(&reference.name)
    .execute(conn)
    .await
    .map_err(db_err("inserting a container secret"))?;
    Ok(done.rows_affected() == 1)
}

/// Inserts the container and its references; `false`, with nothing written, when a referenced secret is gone
/// (checked before anything is inserted).
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    c: &ContainerRecord,
) -> Result<bool, StoreError> {
    for reference in &c.secret_refs {
        if !secret_exists(conn, reference.secret_id).await? {
            return Ok(false);
        }
    }
    let id = uuid_to_db(c.id);
    sqlx::query(
        "INSERT INTO containers (id, project_id, creator_id, name, container_type, created, updated) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(&c.project_id)
    .bind(&c.creator_id)
    .bind(&c.name)
    .bind(c.container_type.as_str())
    .bind(ts_to_db(c.created)?)
    .bind(ts_to_db(c.updated)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err("inserting a container"))?;
    for reference in &c.secret_refs {
        if !insert_ref(conn, &id, reference).await? {
            return Err(StoreError(format!(
                "SQLite store: duplicate secret reference in new container {id}"
            )));
        }
    }
    Ok(true)
}

/// Deletes a container; its references and consumers go by cascade.
pub(super) async fn delete(conn: &mut SqliteConnection, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM containers WHERE id = ?")
        .bind(uuid_to_db(id))
        .execute(conn)
        .await
        .map_err(db_err("deleting a container"))?;
    Ok(done.rows_affected() > 0)
}

async fn stamp(
    conn: &mut SqliteConnection,
    id: &str,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE containers SET updated = ? WHERE id = ?")
        .bind(ts_to_db(updated)?)
        .bind(id)
        .execute(conn)
        .await
        .map_err(db_err("stamping a container"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn add_secret(
    conn: &mut SqliteConnection,
    id: Uuid,
    reference: &ContainerSecretRef,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    if !container_exists(conn, &id).await? || !secret_exists(conn, reference.secret_id).await? {
        return Ok(false);
    }
    if !insert_ref(conn, &id, reference).await? {
        return Ok(false);
    }
    stamp(conn, &id, updated).await
}

pub(super) async fn remove_secret(
    conn: &mut SqliteConnection,
    id: Uuid,
    reference: &ContainerSecretRef,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let done = sqlx::query(
        "DELETE FROM container_secrets WHERE container_id = ? AND secret_id = ? AND name IS ?",
    )
    .bind(&id)
    .bind(uuid_to_db(reference.secret_id))
    .bind(&reference.name)
    .execute(&mut *conn)
    .await
    .map_err(db_err("removing a container secret"))?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    stamp(conn, &id, updated).await
}

pub(super) async fn upsert_consumer(
    conn: &mut SqliteConnection,
    id: Uuid,
    c: &ContainerConsumer,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    if !container_exists(conn, &id).await? {
        return Ok(false);
    }
    let done = sqlx::query(
        "INSERT INTO container_consumers (container_id, name, url, project_id, created, updated) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(&c.name)
    .bind(&c.url)
    .bind(&c.project_id)
    .bind(ts_to_db(c.created)?)
    .bind(ts_to_db(c.updated)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err("registering a container consumer"))?;
    if done.rows_affected() == 1 {
        stamp(conn, &id, c.updated).await?;
    }
    Ok(true)
}

pub(super) async fn list_consumers(
    pool: &SqlitePool,
    id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<ContainerConsumerPage, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let rows = sqlx::query(
        "SELECT name, url, project_id, created, updated FROM container_consumers \
         WHERE container_id = ? ORDER BY name, url LIMIT ? OFFSET ?",
    )
    .bind(&id)
    .bind(i64::from(limit))
    .bind(i64::from(offset))
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err("listing container consumers"))?;
    let total: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM container_consumers WHERE container_id = ?")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err("counting container consumers"))?;
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;
    let consumers = rows
        .iter()
        .map(consumer_from_row)
        .collect::<Result<_, _>>()?;
    let total = u64::try_from(total)
        .map_err(|_| StoreError(format!("SQLite store: negative count {total}")))?;
    Ok(ContainerConsumerPage { consumers, total })
}

pub(super) async fn delete_consumer(
    conn: &mut SqliteConnection,
    id: Uuid,
    name: &str,
    url: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM container_consumers WHERE container_id = ? AND name = ? AND url = ?",
    )
    .bind(uuid_to_db(id))
    .bind(name)
    .bind(url)
    .execute(conn)
    .await
    .map_err(db_err("removing a container consumer"))?;
    Ok(done.rows_affected() > 0)
}
