//! Containers (`containers`), their secret references (`container_secrets`) and their consumers
//! (`container_consumers`). A container and its children are read from one snapshot (a REPEATABLE READ
//! transaction); a list page loads the children of all its containers in two statements. Adding a reference
//! locks the container's row, so concurrent additions (from any node) number their references one after the
//! other. A secret or container deleted meanwhile by another node surfaces as a foreign key violation, which is
//! the trait's `false`, not an error.

use std::collections::HashMap;

use arca_core::{
    ContainerConsumer, ContainerConsumerPage, ContainerPage, ContainerQuery, ContainerRecord,
    ContainerSecretRef, ContainerType, QuotaCheck, StoreError,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{
    col, db_error, err, is_foreign_key_violation, to_count, ts_from_db, ts_to_db, uuid_from_db,
    uuid_to_db,
};
use super::{quotas, secrets};

const CONTAINER_COLUMNS: &str =
    "id, project_id, creator_id, name, container_type, created, updated";

fn container_from_row(row: &PgRow) -> Result<ContainerRecord, StoreError> {
    let id: String = col(row, "id")?;
    let kind: String = col(row, "container_type")?;
    Ok(ContainerRecord {
        id: uuid_from_db(&id)?,
        project_id: col(row, "project_id")?,
        creator_id: col(row, "creator_id")?,
        name: col(row, "name")?,
        container_type: ContainerType::parse(&kind).ok_or_else(|| {
            StoreError(format!(
                "PostgreSQL store: unknown container type {kind:?} in container {id}"
            ))
        })?,
        created: ts_from_db(col(row, "created")?)?,
        updated: ts_from_db(col(row, "updated")?)?,
        secret_refs: Vec::new(),
        consumers: Vec::new(),
    })
}

fn consumer_from_row(row: &PgRow) -> Result<ContainerConsumer, StoreError> {
    Ok(ContainerConsumer {
        name: col(row, "name")?,
        url: col(row, "url")?,
        project_id: col(row, "project_id")?,
        created: ts_from_db(col(row, "created")?)?,
        updated: ts_from_db(col(row, "updated")?)?,
    })
}

/// Fills in the secret references and consumers of `containers` (two statements for all of them).
async fn load_children(
    conn: &mut PgConnection,
    containers: &mut [ContainerRecord],
) -> Result<(), StoreError> {
    if containers.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = containers.iter().map(|c| uuid_to_db(c.id)).collect();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    for (i, c) in containers.iter().enumerate() {
        index.insert(c.id, i);
    }
    let refs = sqlx::query(
        "SELECT container_id, secret_id, name FROM container_secrets WHERE container_id = ANY($1) \
         ORDER BY container_id, seq",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(err("reading container secrets"))?;
    for row in &refs {
        let container_id: String = col(row, "container_id")?;
        let secret_id: String = col(row, "secret_id")?;
        if let Some(&i) = index.get(&uuid_from_db(&container_id)?) {
            containers[i].secret_refs.push(ContainerSecretRef {
                name: col(row, "name")?,
                secret_id: uuid_from_db(&secret_id)?,
            });
        }
    }
    let consumers = sqlx::query(
        "SELECT container_id, name, url, project_id, created, updated FROM container_consumers \
         WHERE container_id = ANY($1) ORDER BY created, name COLLATE \"C\", url COLLATE \"C\"",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(err("reading container consumers"))?;
    for row in &consumers {
        let container_id: String = col(row, "container_id")?;
        if let Some(&i) = index.get(&uuid_from_db(&container_id)?) {
            containers[i].consumers.push(consumer_from_row(row)?);
        }
    }
    Ok(())
}

/// A container with its children, from one snapshot.
pub(super) async fn get(pool: &PgPool, id: Uuid) -> Result<Option<ContainerRecord>, StoreError> {
    let mut tx = super::snapshot(pool).await?;
    let row = sqlx::query(
        "SELECT id, project_id, creator_id, name, container_type, created, updated FROM containers \
         WHERE id = $1",
    )
    .bind(uuid_to_db(id))
    .fetch_optional(&mut *tx)
    .await
    .map_err(err("reading a container"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut containers = [container_from_row(&row)?];
    load_children(&mut tx, &mut containers).await?;
    tx.commit().await.map_err(err("ending a read"))?;
    let [container] = containers;
    Ok(Some(container))
}

/// One page of a project's containers and the total, from one snapshot. The name filter is a `LIKE` pattern
/// matched as SQLite matches it: ASCII case-insensitively, with no escape character.
pub(super) async fn list(pool: &PgPool, q: &ContainerQuery) -> Result<ContainerPage, StoreError> {
    let mut filter = String::from(" WHERE project_id = $1");
    let mut n = 1;
    if q.name.is_some() {
        n += 1;
        filter.push_str(&format!(" AND name ILIKE ${n} ESCAPE ''"));
    }
    if q.container_type.is_some() {
        n += 1;
        filter.push_str(&format!(" AND container_type = ${n}"));
    }
    let page_sql = format!(
        "SELECT {CONTAINER_COLUMNS} FROM containers{filter} ORDER BY created, id COLLATE \"C\" \
         LIMIT ${} OFFSET ${}",
        n + 1,
        n + 2
    );
    let count_sql = format!("SELECT COUNT(*) FROM containers{filter}");
    let kind = q.container_type.map(|k| k.as_str());
    let mut tx = super::snapshot(pool).await?;
    let mut count = sqlx::query_scalar(AssertSqlSafe(count_sql)).bind(&q.project_id);
    let mut page = sqlx::query(AssertSqlSafe(page_sql)).bind(&q.project_id);
    if let Some(name) = &q.name {
        count = count.bind(name);
        page = page.bind(name);
    }
    if let Some(kind) = kind {
        count = count.bind(kind);
        page = page.bind(kind);
    }
    let total: i64 = count
        .fetch_one(&mut *tx)
        .await
        .map_err(err("counting containers"))?;
    let rows = page
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(err("listing containers"))?;
    let mut containers = rows
        .iter()
        .map(container_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    load_children(&mut tx, &mut containers).await?;
    tx.commit().await.map_err(err("ending a read"))?;
    Ok(ContainerPage {
        containers,
        total: to_count(total)?,
    })
}

/// Whether a container exists; locks its row until the transaction ends.
async fn lock_container(conn: &mut PgConnection, id: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT 1 FROM containers WHERE id = $1 FOR NO KEY UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(err("looking up a container"))?;
    Ok(row.is_some())
}

/// How inserting a reference went.
enum RefInsert {
    Inserted,
    /// That (secret, name) is already in the container.
    Duplicate,
    /// The secret is gone (the transaction is aborted: roll it back).
    SecretGone,
}

/// Appends a reference after the container's last one. The caller holds the container's row lock (or
/// created the container in its transaction).
async fn insert_ref(
    conn: &mut PgConnection,
    container_id: &str,
    reference: &ContainerSecretRef,
) -> Result<RefInsert, StoreError> {
    let done = sqlx::query(
        "INSERT INTO container_secrets (container_id, seq, secret_id, name) \
         SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3 FROM container_secrets WHERE container_id = $1 \
         ON CONFLICT DO NOTHING",
    )
    .bind(container_id)
    .bind(uuid_to_db(reference.secret_id))
    .bind(&reference.name)
    .execute(conn)
    .await;
    match done {
        Ok(done) if done.rows_affected() == 1 => Ok(RefInsert::Inserted),
        Ok(_) => Ok(RefInsert::Duplicate),
        Err(e) if is_foreign_key_violation(&e) => Ok(RefInsert::SecretGone),
        Err(e) => Err(db_error("inserting a container secret", e)),
    }
}

/// Inserts the container and its references in the caller's transaction; `false` when a referenced secret is
/// gone (the caller must then roll back).
pub(super) async fn insert_in(
    conn: &mut PgConnection,
    c: &ContainerRecord,
) -> Result<bool, StoreError> {
    for reference in &c.secret_refs {
        if !secrets::exists_by_id(conn, &uuid_to_db(reference.secret_id), false).await? {
            return Ok(false);
        }
    }
    let id = uuid_to_db(c.id);
    sqlx::query(
        "INSERT INTO containers (id, project_id, creator_id, name, container_type, created, updated) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
    .map_err(err("inserting a container"))?;
    for reference in &c.secret_refs {
        match insert_ref(conn, &id, reference).await? {
            RefInsert::Inserted => {}
            RefInsert::SecretGone => return Ok(false),
            RefInsert::Duplicate => {
                return Err(StoreError(format!(
                    "PostgreSQL store: duplicate secret reference in new container {id}"
                )));
            }
        }
    }
    Ok(true)
}

/// Inserts a container with its references if the project's containers quota admits it.
pub(super) async fn insert(
    pool: &PgPool,
    c: &ContainerRecord,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !quotas::admit(&mut tx, &c.project_id, check).await? {
        return Ok(false);
    }
    if !insert_in(&mut tx, c).await? {
        return Ok(false);
    }
    tx.commit().await.map_err(err("committing a container"))?;
    Ok(true)
}

/// Deletes a container; its references, consumers and ACL go by cascade.
pub(super) async fn delete(pool: &PgPool, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM containers WHERE id = $1")
        .bind(uuid_to_db(id))
        .execute(pool)
        .await
        .map_err(err("deleting a container"))?;
    Ok(done.rows_affected() > 0)
}

async fn stamp(
    conn: &mut PgConnection,
    id: &str,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE containers SET updated = $1 WHERE id = $2")
        .bind(ts_to_db(updated)?)
        .bind(id)
        .execute(conn)
        .await
        .map_err(err("stamping a container"))?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn add_secret(
    pool: &PgPool,
    id: Uuid,
    reference: &ContainerSecretRef,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !lock_container(&mut tx, &id).await?
        || !secrets::exists_by_id(&mut tx, &uuid_to_db(reference.secret_id), false).await?
    {
        return Ok(false);
    }
    match insert_ref(&mut tx, &id, reference).await? {
        RefInsert::Inserted => {}
        RefInsert::Duplicate | RefInsert::SecretGone => return Ok(false),
    }
    if !stamp(&mut tx, &id, updated).await? {
        return Ok(false);
    }
    tx.commit()
        .await
        .map_err(err("committing a container secret"))?;
    Ok(true)
}

pub(super) async fn remove_secret(
    pool: &PgPool,
    id: Uuid,
    reference: &ContainerSecretRef,
    updated: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    let done = sqlx::query(
        "DELETE FROM container_secrets WHERE container_id = $1 AND secret_id = $2 \
         AND name IS NOT DISTINCT FROM $3",
    )
    .bind(&id)
    .bind(uuid_to_db(reference.secret_id))
    .bind(&reference.name)
    .execute(&mut *tx)
    .await
    .map_err(err("removing a container secret"))?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let stamped = stamp(&mut tx, &id, updated).await?;
    tx.commit()
        .await
        .map_err(err("committing a container secret removal"))?;
    Ok(stamped)
}

/// Whether the container already has the consumer (name, URL).
async fn has_consumer(
    conn: &mut PgConnection,
    id: &str,
    c: &ContainerConsumer,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT 1 FROM container_consumers WHERE container_id = $1 AND name = $2 AND url = $3",
    )
    .bind(id)
    .bind(&c.name)
    .bind(&c.url)
    .fetch_optional(conn)
    .await
    .map_err(err("looking up a container consumer"))?;
    Ok(row.is_some())
}

/// Registers a consumer (idempotent); a new one must be admitted by its project's consumers quota and stamps
/// the container. `false` at the quota or if the container is gone.
pub(super) async fn upsert_consumer(
    pool: &PgPool,
    id: Uuid,
    c: &ContainerConsumer,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !has_consumer(&mut tx, &id, c).await?
        && !quotas::admit(&mut tx, &c.project_id, check).await?
    {
        return Ok(false);
    }
    let exists = sqlx::query("SELECT 1 FROM containers WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err("looking up a container"))?;
    if exists.is_none() {
        return Ok(false);
    }
    let done = sqlx::query(
        "INSERT INTO container_consumers (container_id, name, url, project_id, created, updated) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(&c.name)
    .bind(&c.url)
    .bind(&c.project_id)
    .bind(ts_to_db(c.created)?)
    .bind(ts_to_db(c.updated)?)
    .execute(&mut *tx)
    .await;
    let inserted = match done {
        Ok(done) => done.rows_affected() == 1,
        Err(e) if is_foreign_key_violation(&e) => return Ok(false),
        Err(e) => return Err(db_error("registering a container consumer", e)),
    };
    if inserted {
        stamp(&mut tx, &id, c.updated).await?;
    }
    tx.commit()
        .await
        .map_err(err("committing a container consumer"))?;
    Ok(true)
}

/// One page of a container's consumers and their total, from one snapshot.
pub(super) async fn list_consumers(
    pool: &PgPool,
    id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<ContainerConsumerPage, StoreError> {
    let (rows, total) = super::page_with_total(
        pool,
        "SELECT name, url, project_id, created, updated FROM container_consumers WHERE container_id = $1 \
         ORDER BY name COLLATE \"C\", url COLLATE \"C\" LIMIT $2 OFFSET $3",
        "SELECT COUNT(*) FROM container_consumers WHERE container_id = $1",
        &uuid_to_db(id),
        (limit, offset),
        "listing container consumers",
    )
    .await?;
    Ok(ContainerConsumerPage {
        consumers: rows
            .iter()
            .map(consumer_from_row)
            .collect::<Result<_, _>>()?,
        total,
    })
}

pub(super) async fn delete_consumer(
    pool: &PgPool,
    id: Uuid,
    name: &str,
    url: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM container_consumers WHERE container_id = $1 AND name = $2 AND url = $3",
    )
    .bind(uuid_to_db(id))
    .bind(name)
    .bind(url)
    .execute(pool)
    .await
    .map_err(err("removing a container consumer"))?;
    Ok(done.rows_affected() > 0)
}
