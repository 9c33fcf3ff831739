//! ACL rows of secrets (`secret_acls`, `secret_acl_users`) and containers (`container_acls`,
//! `container_acl_users`): the `read` ACL of an object with its users in the order they were given. Reads on a
//! pooled read connection (the ACL and its users in one read transaction); writes as operations the writer
//! thread runs inside a savepoint; a change (`PUT`/`PATCH`) reads the ACL and writes its new form in that one
//! savepoint, so concurrent changes never undo each other. Deleting the object removes its ACL (foreign keys
//! cascade).

use arca_core::{Acl, AclChange, AclTarget, StoreError};
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use uuid::Uuid;

use super::codec::{
    execute, exists, query_all, query_opt, sql_err, ts_from_db, ts_to_db, uuid_to_db,
};

/// The statements of one owner's ACL tables, spelled out so each is a constant for the statement cache.
struct AclSql {
    object_exists: &'static str,
    get: &'static str,
    users: &'static str,
    upsert: &'static str,
    clear_users: &'static str,
    insert_user: &'static str,
    delete: &'static str,
}

const SECRET_SQL: AclSql = AclSql {
    object_exists: "SELECT 1 FROM secrets WHERE id = ?",
    get: "SELECT project_access, created, updated FROM secret_acls WHERE secret_id = ?",
    users: "SELECT user_id FROM secret_acl_users WHERE secret_id = ? ORDER BY position",
    upsert: "INSERT INTO secret_acls (secret_id, project_access, created, updated) VALUES (?, ?, ?, ?) \
         ON CONFLICT (secret_id) DO UPDATE SET project_access = excluded.project_access, updated = excluded.updated",
    clear_users: "DELETE FROM secret_acl_users WHERE secret_id = ?",
    insert_user: "INSERT INTO secret_acl_users (secret_id, user_id, position) VALUES (?, ?, ?) \
         ON CONFLICT (secret_id, user_id) DO NOTHING",
    delete: "DELETE FROM secret_acls WHERE secret_id = ?",
};

const CONTAINER_SQL: AclSql = AclSql {
    object_exists: "SELECT 1 FROM containers WHERE id = ?",
    get: "SELECT project_access, created, updated FROM container_acls WHERE container_id = ?",
    users: "SELECT user_id FROM container_acl_users WHERE container_id = ? ORDER BY position",
    upsert: "INSERT INTO container_acls (container_id, project_access, created, updated) VALUES (?, ?, ?, ?) \
         ON CONFLICT (container_id) DO UPDATE SET project_access = excluded.project_access, \
         updated = excluded.updated",
    clear_users: "DELETE FROM container_acl_users WHERE container_id = ?",
    insert_user: "INSERT INTO container_acl_users (container_id, user_id, position) VALUES (?, ?, ?) \
         ON CONFLICT (container_id, user_id) DO NOTHING",
    delete: "DELETE FROM container_acls WHERE container_id = ?",
};

/// The statements of an owner's ACL tables (fixed names, never input).
fn statements(owner: AclTarget) -> &'static AclSql {
    match owner {
        AclTarget::Secret => &SECRET_SQL,
        AclTarget::Container => &CONTAINER_SQL,
    }
}

/// An ACL write.
pub(super) enum AclWrite {
    /// Sets (creates or replaces) an object's ACL; `false` if the object does not exist.
    Put {
        owner: AclTarget,
        id: Uuid,
        acl: Acl,
    },
    /// Removes an object's ACL; `false` if it had none.
    Delete { owner: AclTarget, id: Uuid },
    /// Applies a change to the object's ACL as it is now; `false` if the object does not exist.
    Change {
        owner: AclTarget,
        id: Uuid,
        change: AclChange,
        now: OffsetDateTime,
    },
}

impl AclWrite {
    pub(super) fn apply(&self, conn: &Connection) -> Result<bool, StoreError> {
        match self {
            AclWrite::Put { owner, id, acl } => put(conn, *owner, *id, acl),
            AclWrite::Delete { owner, id } => delete(conn, *owner, *id),
            AclWrite::Change {
                owner,
                id,
                change,
                now,
            } => {
                let existing = get(conn, *owner, *id)?;
                match change.apply(existing.as_ref(), *now) {
                    Some(acl) => put(conn, *owner, *id, &acl),
                    None => {
                        let object = uuid_to_db(*id);
                        let sql = statements(*owner).object_exists;
                        if !exists(conn, sql, [&object], "looking up an ACL's object")? {
                            return Ok(false);
                        }
                        delete(conn, *owner, *id).map(|_| true)
                    }
                }
            }
        }
    }
}

/// An object's ACL with its users; run in a read transaction (`Reads::snapshot`) or inside a write.
pub(super) fn get(
    conn: &Connection,
    owner: AclTarget,
    id: Uuid,
) -> Result<Option<Acl>, StoreError> {
    let sql = statements(owner);
    let id = uuid_to_db(id);
    let row = query_opt(conn, sql.get, [&id], "reading an ACL", |row| {
        let get = sql_err("reading an ACL row");
        Ok((
            row.get::<_, bool>("project_access").map_err(&get)?,
            row.get::<_, i64>("created").map_err(&get)?,
            row.get::<_, i64>("updated").map_err(&get)?,
        ))
    })?;
    let Some((project_access, created, updated)) = row else {
        return Ok(None);
    };
    let users = query_all(conn, sql.users, [&id], "reading ACL users", |row| {
        row.get(0).map_err(sql_err("reading ACL users"))
    })?;
    Ok(Some(Acl {
        project_access,
        users,
        created: ts_from_db(created)?,
        updated: ts_from_db(updated)?,
    }))
}

fn put(conn: &Connection, owner: AclTarget, id: Uuid, acl: &Acl) -> Result<bool, StoreError> {
    let sql = statements(owner);
    let id = uuid_to_db(id);
    if !exists(conn, sql.object_exists, [&id], "looking up an ACL's object")? {
        return Ok(false);
    }
    execute(
        conn,
        sql.upsert,
        params![
            id,
            acl.project_access,
            ts_to_db(acl.created)?,
            ts_to_db(acl.updated)?
        ],
        "writing an ACL",
    )?;
    execute(conn, sql.clear_users, [&id], "clearing ACL users")?;
    for (position, user) in acl.users.iter().enumerate() {
        execute(
            conn,
            sql.insert_user,
            params![id, user, i64::try_from(position).unwrap_or(i64::MAX)],
            "writing an ACL user",
        )?;
    }
    Ok(true)
}

fn delete(conn: &Connection, owner: AclTarget, id: Uuid) -> Result<bool, StoreError> {
    let done = execute(
        conn,
        statements(owner).delete,
        [uuid_to_db(id)],
        "deleting an ACL",
    )?;
    Ok(done > 0)
}
