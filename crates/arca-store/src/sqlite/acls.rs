//! ACL rows of secrets (`secret_acls`, `secret_acl_users`) and containers (`container_acls`,
//! `container_acl_users`): the `read` ACL of an object with its users in the order they were given. Reads on the
//! read pool; writes as operations the writer task runs inside a savepoint. Deleting the object removes its ACL
//! (foreign keys cascade).

use arca_core::{Acl, StoreError};
use sqlx::{AssertSqlSafe, Row, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::codec::{db_err, ts_from_db, ts_to_db, uuid_to_db};

/// What kind of object an ACL belongs to; names its tables (fixed names, never input).
#[derive(Debug, Clone, Copy)]
pub(super) enum AclOwner {
    Secret,
    Container,
}

impl AclOwner {
    /// (object table, ACL table, users table, key column).
    fn tables(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            AclOwner::Secret => ("secrets", "secret_acls", "secret_acl_users", "secret_id"),
            AclOwner::Container => (
                "containers",
                "container_acls",
                "container_acl_users",
                "container_id",
            ),
        }
    }
}

/// An ACL write.
pub(super) enum AclWrite {
    /// Sets (creates or replaces) an object's ACL; `false` if the object does not exist.
    Put { owner: AclOwner, id: Uuid, acl: Acl },
    /// Removes an object's ACL; `false` if it had none.
    Delete { owner: AclOwner, id: Uuid },
}

impl AclWrite {
    pub(super) async fn apply(&self, conn: &mut SqliteConnection) -> Result<bool, StoreError> {
        match self {
            AclWrite::Put { owner, id, acl } => put(conn, *owner, *id, acl).await,
            AclWrite::Delete { owner, id } => delete(conn, *owner, *id).await,
        }
    }
}

pub(super) async fn get(
    pool: &SqlitePool,
    owner: AclOwner,
    id: Uuid,
) -> Result<Option<Acl>, StoreError> {
    let (_, acls, users, key) = owner.tables();
    let id = uuid_to_db(id);
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT project_access, created, updated FROM {acls} WHERE {key} = ?"
    )))
    .bind(&id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db_err("reading an ACL"))?;
    let Some(row) = row else { return Ok(None) };
    let listed: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT user_id FROM {users} WHERE {key} = ? ORDER BY position"
    )))
    .bind(&id)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err("reading ACL users"))?;
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;
    let get = |e| db_err("reading an ACL row")(e);
    Ok(Some(Acl {
        project_access: row.try_get("project_access").map_err(get)?,
        users: listed,
        created: ts_from_db(row.try_get("created").map_err(get)?)?,
        updated: ts_from_db(row.try_get("updated").map_err(get)?)?,
    }))
}

async fn put(
    conn: &mut SqliteConnection,
    owner: AclOwner,
    id: Uuid,
    acl: &Acl,
) -> Result<bool, StoreError> {
    let (objects, acls, users, key) = owner.tables();
    let id = uuid_to_db(id);
    let exists: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT 1 FROM {objects} WHERE id = ?"
    )))
    .bind(&id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err("looking up an ACL's object"))?;
    if exists.is_none() {
        return Ok(false);
    }
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO {acls} ({key}, project_access, created, updated) VALUES (?, ?, ?, ?) \
         ON CONFLICT ({key}) DO UPDATE SET project_access = excluded.project_access, updated = excluded.updated"
    )))
    .bind(&id)
    .bind(acl.project_access)
    .bind(ts_to_db(acl.created)?)
    .bind(ts_to_db(acl.updated)?)
    .execute(&mut *conn)
    .await
    .map_err(db_err("writing an ACL"))?;
    sqlx::query(AssertSqlSafe(format!(
        "DELETE FROM {users} WHERE {key} = ?"
    )))
    .bind(&id)
    .execute(&mut *conn)
    .await
    .map_err(db_err("clearing ACL users"))?;
    for (position, user) in acl.users.iter().enumerate() {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {users} ({key}, user_id, position) VALUES (?, ?, ?) \
             ON CONFLICT ({key}, user_id) DO NOTHING"
        )))
        .bind(&id)
        .bind(user)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .execute(&mut *conn)
        .await
        .map_err(db_err("writing an ACL user"))?;
    }
    Ok(true)
}

async fn delete(
    conn: &mut SqliteConnection,
    owner: AclOwner,
    id: Uuid,
) -> Result<bool, StoreError> {
    let (_, acls, _, key) = owner.tables();
    let done = sqlx::query(AssertSqlSafe(format!("DELETE FROM {acls} WHERE {key} = ?")))
        .bind(uuid_to_db(id))
        .execute(conn)
        .await
        .map_err(db_err("deleting an ACL"))?;
    Ok(done.rows_affected() > 0)
}
