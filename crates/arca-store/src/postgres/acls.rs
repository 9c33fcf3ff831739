//! ACL rows of secrets (`secret_acls`, `secret_acl_users`) and containers (`container_acls`,
//! `container_acl_users`): the `read` ACL of an object with its users in the order they were given. Every write
//! locks the object's row first (`FOR NO KEY UPDATE`, which leaves inserts referencing it unblocked), so a change
//! (`PUT`/`PATCH`) reads the ACL and writes its new form with no other node's change in between, and an object
//! deleted meanwhile is seen as gone. Deleting the object removes its ACL (foreign keys cascade).

use arca_core::{Acl, AclChange, AclTarget, StoreError};
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{col, err, ts_from_db, ts_to_db, uuid_to_db};

/// The statements of one owner's ACL tables (fixed text, never input).
struct AclSql {
    lock_object: &'static str,
    get: &'static str,
    upsert: &'static str,
    clear_users: &'static str,
    insert_users: &'static str,
    delete: &'static str,
}

const SECRET_SQL: AclSql = AclSql {
    lock_object: "SELECT 1 FROM secrets WHERE id = $1 FOR NO KEY UPDATE",
    get: "SELECT a.project_access, a.created, a.updated, ARRAY(SELECT u.user_id FROM secret_acl_users u \
          WHERE u.secret_id = a.secret_id ORDER BY u.position) AS users FROM secret_acls a WHERE a.secret_id = $1",
    upsert: "INSERT INTO secret_acls (secret_id, project_access, created, updated) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (secret_id) DO UPDATE SET project_access = EXCLUDED.project_access, updated = EXCLUDED.updated",
    clear_users: "DELETE FROM secret_acl_users WHERE secret_id = $1",
    insert_users: "INSERT INTO secret_acl_users (secret_id, user_id, position) \
         SELECT $1, u, n - 1 FROM UNNEST($2::TEXT[]) WITH ORDINALITY AS t (u, n) \
         ON CONFLICT (secret_id, user_id) DO NOTHING",
    delete: "DELETE FROM secret_acls WHERE secret_id = $1",
};

const CONTAINER_SQL: AclSql = AclSql {
    lock_object: "SELECT 1 FROM containers WHERE id = $1 FOR NO KEY UPDATE",
    get: "SELECT a.project_access, a.created, a.updated, ARRAY(SELECT u.user_id FROM container_acl_users u \
          WHERE u.container_id = a.container_id ORDER BY u.position) AS users FROM container_acls a \
          WHERE a.container_id = $1",
    upsert: "INSERT INTO container_acls (container_id, project_access, created, updated) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (container_id) DO UPDATE SET project_access = EXCLUDED.project_access, \
         updated = EXCLUDED.updated",
    clear_users: "DELETE FROM container_acl_users WHERE container_id = $1",
    insert_users: "INSERT INTO container_acl_users (container_id, user_id, position) \
         SELECT $1, u, n - 1 FROM UNNEST($2::TEXT[]) WITH ORDINALITY AS t (u, n) \
         ON CONFLICT (container_id, user_id) DO NOTHING",
    delete: "DELETE FROM container_acls WHERE container_id = $1",
};

fn statements(owner: AclTarget) -> &'static AclSql {
    match owner {
        AclTarget::Secret => &SECRET_SQL,
        AclTarget::Container => &CONTAINER_SQL,
    }
}

async fn get_on(
    conn: &mut PgConnection,
    owner: AclTarget,
    id: &str,
) -> Result<Option<Acl>, StoreError> {
    let row = sqlx::query(statements(owner).get)
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(err("reading an ACL"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Acl {
        project_access: col(&row, "project_access")?,
        users: col(&row, "users")?,
        created: ts_from_db(col(&row, "created")?)?,
        updated: ts_from_db(col(&row, "updated")?)?,
    }))
}

/// An object's ACL with its users (one statement, so one snapshot).
pub(super) async fn get(
    pool: &PgPool,
    owner: AclTarget,
    id: Uuid,
) -> Result<Option<Acl>, StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(err("acquiring a connection"))?;
    get_on(&mut conn, owner, &uuid_to_db(id)).await
}

async fn lock_object(
    conn: &mut PgConnection,
    owner: AclTarget,
    id: &str,
) -> Result<bool, StoreError> {
    let row = sqlx::query(statements(owner).lock_object)
        .bind(id)
        .fetch_optional(conn)
        .await
        .map_err(err("looking up an ACL's object"))?;
    Ok(row.is_some())
}

/// Writes the ACL; the caller holds the object's row lock.
async fn write(
    conn: &mut PgConnection,
    owner: AclTarget,
    id: &str,
    acl: &Acl,
) -> Result<(), StoreError> {
    let sql = statements(owner);
    sqlx::query(sql.upsert)
        .bind(id)
        .bind(acl.project_access)
        .bind(ts_to_db(acl.created)?)
        .bind(ts_to_db(acl.updated)?)
        .execute(&mut *conn)
        .await
        .map_err(err("writing an ACL"))?;
    sqlx::query(sql.clear_users)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(err("clearing ACL users"))?;
    if !acl.users.is_empty() {
        sqlx::query(sql.insert_users)
            .bind(id)
            .bind(&acl.users)
            .execute(&mut *conn)
            .await
            .map_err(err("writing ACL users"))?;
    }
    Ok(())
}

pub(super) async fn put(
    pool: &PgPool,
    owner: AclTarget,
    id: Uuid,
    acl: &Acl,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !lock_object(&mut tx, owner, &id).await? {
        return Ok(false);
    }
    write(&mut tx, owner, &id, acl).await?;
    tx.commit().await.map_err(err("committing an ACL"))?;
    Ok(true)
}

pub(super) async fn delete(pool: &PgPool, owner: AclTarget, id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query(statements(owner).delete)
        .bind(uuid_to_db(id))
        .execute(pool)
        .await
        .map_err(err("deleting an ACL"))?;
    Ok(done.rows_affected() > 0)
}

/// Applies `change` to the ACL as it is under the object's row lock.
pub(super) async fn change(
    pool: &PgPool,
    owner: AclTarget,
    id: Uuid,
    change: &AclChange,
    now: OffsetDateTime,
) -> Result<bool, StoreError> {
    let id = uuid_to_db(id);
    let mut tx = pool.begin().await.map_err(err("starting a transaction"))?;
    if !lock_object(&mut tx, owner, &id).await? {
        return Ok(false);
    }
    let existing = get_on(&mut tx, owner, &id).await?;
    match change.apply(existing.as_ref(), now) {
        Some(acl) => write(&mut tx, owner, &id, &acl).await?,
        None => {
            sqlx::query(statements(owner).delete)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(err("deleting an ACL"))?;
        }
    }
    tx.commit().await.map_err(err("committing an ACL change"))?;
    Ok(true)
}
