//! Secret consumers (`secret_consumers`): registration (quota-checked against the consumer's project, counting
//! its secret consumers), pages, the consumers embedded in secret documents, and removal.

use std::collections::BTreeMap;

use arca_core::{QuotaCheck, SecretConsumer, SecretConsumerPage, StoreError};
use sqlx::PgPool;
use sqlx::postgres::PgRow;
use uuid::Uuid;

use super::error::{
    col, db_error, err, is_foreign_key_violation, ts_from_db, ts_to_db, uuid_from_db, uuid_to_db,
};
use super::{quotas, secrets};

fn consumer_from_row(row: &PgRow) -> Result<SecretConsumer, StoreError> {
    Ok(SecretConsumer {
        service: col(row, "service")?,
        resource_type: col(row, "resource_type")?,
        resource_id: col(row, "resource_id")?,
        project_id: col(row, "project_id")?,
        created: ts_from_db(col(row, "created")?)?,
        updated: ts_from_db(col(row, "updated")?)?,
    })
}

/// Registers a consumer (idempotent); a new one must be admitted by its project's consumers quota and stamps
/// the secret's `updated`. `false` at the quota or if the secret is gone.
pub(super) async fn upsert(
    pool: &PgPool,
    id: Uuid,
    c: &SecretConsumer,
    check: QuotaCheck,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    let existing = sqlx::query(
        "SELECT 1 FROM secret_consumers WHERE secret_id = $1 AND service = $2 AND resource_type = $3 \
         AND resource_id = $4",
    )
    .bind(&id)
    .bind(&c.service)
    .bind(&c.resource_type)
    .bind(&c.resource_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(err("looking up a secret consumer"))?;
    if existing.is_none()
        && !quotas::admit_counting(&mut tx, &c.project_id, check, quotas::SECRET_CONSUMERS).await?
    {
        return Ok(false);
    }
    if !secrets::exists_by_id(&mut tx, &id, false).await? {
        return Ok(false);
    }
    let done = sqlx::query(
        "INSERT INTO secret_consumers (secret_id, service, resource_type, resource_id, project_id, created, \
         updated) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(&id)
    .bind(&c.service)
    .bind(&c.resource_type)
    .bind(&c.resource_id)
    .bind(&c.project_id)
    .bind(ts_to_db(c.created)?)
    .bind(ts_to_db(c.updated)?)
    .execute(&mut *tx)
    .await;
    let inserted = match done {
        Ok(done) => done.rows_affected() == 1,
        Err(e) if is_foreign_key_violation(&e) => return Ok(false),
        Err(e) => return Err(db_error("registering a secret consumer", e)),
    };
    if inserted {
        sqlx::query("UPDATE secrets SET updated = $1 WHERE id = $2")
            .bind(ts_to_db(c.updated)?)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(err("stamping a secret"))?;
    }
    tx.commit()
        .await
        .map_err(err("committing a secret consumer"))?;
    Ok(true)
}

/// One page of a secret's consumers and their total, from one snapshot.
pub(super) async fn list(
    pool: &PgPool,
    id: Uuid,
    limit: u32,
    offset: u32,
) -> Result<SecretConsumerPage, StoreError> {
    let (rows, total) = super::page_with_total(
        pool,
        "SELECT service, resource_type, resource_id, project_id, created, updated FROM secret_consumers \
         WHERE secret_id = $1 ORDER BY created, service COLLATE \"C\", resource_type COLLATE \"C\", \
         resource_id COLLATE \"C\" LIMIT $2 OFFSET $3",
        "SELECT COUNT(*) FROM secret_consumers WHERE secret_id = $1",
        &uuid_to_db(id),
        (limit, offset),
        "listing secret consumers",
    )
    .await?;
    Ok(SecretConsumerPage {
        consumers: rows
            .iter()
            .map(consumer_from_row)
            .collect::<Result<_, _>>()?,
        total,
    })
}

/// Every consumer of each secret in `ids`, oldest first (one statement).
pub(super) async fn of(
    pool: &PgPool,
    ids: &[Uuid],
) -> Result<BTreeMap<Uuid, Vec<SecretConsumer>>, StoreError> {
    let mut out: BTreeMap<Uuid, Vec<SecretConsumer>> = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let ids: Vec<String> = ids.iter().map(|id| uuid_to_db(*id)).collect();
    let rows = sqlx::query(
        "SELECT secret_id, service, resource_type, resource_id, project_id, created, updated \
         FROM secret_consumers WHERE secret_id = ANY($1) ORDER BY created, service COLLATE \"C\", \
         resource_type COLLATE \"C\", resource_id COLLATE \"C\"",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await
    .map_err(err("reading secret consumers"))?;
    for row in &rows {
        let secret_id: String = col(row, "secret_id")?;
        out.entry(uuid_from_db(&secret_id)?)
            .or_default()
            .push(consumer_from_row(row)?);
    }
    Ok(out)
}

pub(super) async fn delete(
    pool: &PgPool,
    id: Uuid,
    service: &str,
    resource_type: &str,
    resource_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "DELETE FROM secret_consumers WHERE secret_id = $1 AND service = $2 AND resource_type = $3 \
         AND resource_id = $4",
    )
    .bind(uuid_to_db(id))
    .bind(service)
    .bind(resource_type)
    .bind(resource_id)
    .execute(pool)
    .await
    .map_err(err("removing a secret consumer"))?;
    Ok(done.rows_affected() > 0)
}
