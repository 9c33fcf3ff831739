//! The secrets list: one project's unexpired secrets, filtered, sorted and paged, with the total match count.
//! The SQL text is assembled only from fixed column names chosen by matching on the query's enums; every value
//! is a bind parameter. Runs on a pooled read connection (`reads`).

use arca_core::{Cmp, SecretPage, SecretQuery, SortDir, SortKey, StoreError, TimeField};
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use super::codec::{count, query_all, ts_bound};
use super::secrets::{SECRET_COLUMNS, secret_from_row};

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// `WHERE …` for the query, with its values in placeholder order.
fn where_clause(q: &SecretQuery) -> (String, Vec<Value>) {
    // `acl_only=true` lists the secrets whose read ACL names the user, whatever their project.
    let (owner, owner_value) = match &q.acl_user {
        Some(user) => (
            "id IN (SELECT secret_id FROM secret_acl_users WHERE user_id = ?)",
            text(user),
        ),
        None => ("project_id = ?", text(&q.project_id)),
    };
    let mut sql = format!(" WHERE {owner} AND (expiration IS NULL OR expiration > ?)");
    let mut values = vec![owner_value, Value::Integer(ts_bound(q.now))];
    let exact_text = [
        ("name", &q.name),
        ("algorithm", &q.algorithm),
        ("mode", &q.mode),
    ];
    for (column, wanted) in exact_text {
        if let Some(wanted) = wanted {
            sql.push_str(&format!(" AND {column} = ?"));
            values.push(text(wanted));
        }
    }
    if let Some(bits) = q.bit_length {
        sql.push_str(" AND bit_length = ?");
        values.push(Value::Integer(bits));
    }
    if let Some(kind) = q.secret_type {
        sql.push_str(" AND secret_type = ?");
        values.push(text(kind.as_str()));
    }
    for filter in &q.time_filters {
        let column = match filter.field {
            TimeField::Created => "created",
            TimeField::Updated => "updated",
            // NULL compares as unknown, so a secret that never expires matches no expiration filter.
            TimeField::Expiration => "expiration",
        };
        let op = match filter.cmp {
            Cmp::Eq => "=",
            Cmp::Gt => ">",
            Cmp::Gte => ">=",
            Cmp::Lt => "<",
            Cmp::Lte => "<=",
        };
        sql.push_str(&format!(" AND {column} {op} ?"));
        values.push(Value::Integer(ts_bound(filter.at)));
    }
    (sql, values)
}

/// `ORDER BY …`: the query's keys in order (newest first when none), then `rowid` in the last key's direction so
/// pages are stable. Every `project_id` index ends in the rowid, so a one-key sort is one index range scan read
/// forwards or backwards; a tie-break on `id` would need a temporary B-tree per page. (`created` is in
/// nanoseconds, so the tie-break almost never decides.)
fn order_clause(q: &SecretQuery) -> String {
    let mut keys: Vec<String> = Vec::new();
    let mut last = "DESC";
    for (key, dir) in &q.sort {
        let column = match key {
            SortKey::Name => "name",
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::Expiration => "expiration",
            SortKey::Algorithm => "algorithm",
            SortKey::BitLength => "bit_length",
            SortKey::Mode => "mode",
            SortKey::SecretType => "secret_type",
            // Every secret is ACTIVE: sorting by status orders nothing.
            SortKey::Status => continue,
        };
        let dir = match dir {
            SortDir::Asc => "ASC",
            SortDir::Desc => "DESC",
        };
        keys.push(format!("{column} {dir}"));
        last = dir;
    }
    if keys.is_empty() {
        keys.push("created DESC".to_owned());
    }
    keys.push(format!("rowid {last}"));
    format!(" ORDER BY {}", keys.join(", "))
}

/// Whether the query selects all of a project's live secrets (so the kept count answers `total`). Destructured
/// in full so that a new filter field cannot be forgotten here.
fn only_by_project(q: &SecretQuery) -> bool {
    let SecretQuery {
        project_id: _,
        now: _,
        name,
        algorithm,
        mode,
        bit_length,
        secret_type,
        time_filters,
        sort: _,
        limit: _,
        offset: _,
        acl_user,
    } = q;
    acl_user.is_none()
        && name.is_none()
        && algorithm.is_none()
        && mode.is_none()
        && bit_length.is_none()
        && secret_type.is_none()
        && time_filters.is_empty()
}

/// The page statement for `q` with its `WHERE` clause.
fn page_sql(q: &SecretQuery, filter: &str) -> String {
    format!(
        "SELECT {SECRET_COLUMNS} FROM secrets{filter}{} LIMIT ? OFFSET ?",
        order_clause(q)
    )
}

/// One page and the total. They are two statements without a common transaction (as in Barbican): a write
/// landing between them can make `total` count that write, which no client can tell from a write just after.
/// Unfiltered, `total` is the kept count plus an index range of the project's expiring secrets; filtered, it
/// counts the project's matching secrets through the `project_id` indexes.
pub(super) fn list(conn: &Connection, q: &SecretQuery) -> Result<SecretPage, StoreError> {
    let (filter, mut values) = where_clause(q);
    let page_sql = page_sql(q, &filter);
    let (count_sql, count_values) = if only_by_project(q) {
        // The kept count (`project_secret_counts`), plus those with an expiration that are still live (an index range scan).
        let sql = "SELECT COALESCE((SELECT total - expiring FROM project_secret_counts WHERE project_id = ?1), 0) \
                   + (SELECT COUNT(*) FROM secrets WHERE project_id = ?1 AND expiration > ?2)";
        (
            sql.to_owned(),
            vec![text(&q.project_id), Value::Integer(ts_bound(q.now))],
        )
    } else {
        (
            format!("SELECT COUNT(*) FROM secrets{filter}"),
            values.clone(),
        )
    };
    values.push(Value::Integer(i64::from(q.limit)));
    values.push(Value::Integer(i64::from(q.offset)));
    let secrets = query_all(
        conn,
        &page_sql,
        params_from_iter(values),
        "listing secrets",
        secret_from_row,
    )?;
    let total = count(
        conn,
        &count_sql,
        params_from_iter(count_values),
        "counting secrets",
    )?;
    Ok(SecretPage { secrets, total })
}

#[cfg(test)]
mod tests {
    use arca_core::{SecretQuery, SortDir, SortKey};
    use rusqlite::Connection;

    /// SQLite's plan for the page statement of `q`, one line per step.
    fn plan(conn: &Connection, q: &SecretQuery) -> String {
        let (filter, _) = super::where_clause(q);
        let sql = format!("EXPLAIN QUERY PLAN {}", super::page_sql(q, &filter));
        let mut stmt = conn.prepare(&sql).unwrap();
        let count = stmt.parameter_count();
        let steps: Vec<String> = stmt
            .query_map(
                rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, count)),
                |row| row.get(3),
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        steps.join("\n")
    }

    /// A page sorted by no key or by one indexed key, either way, is one index range scan: no temporary B-tree
    /// sorts the project's rows for each page.
    #[test]
    fn single_key_pages_need_no_sort() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let mut queries = vec![SecretQuery::for_project("p", now, 10, 0)];
        for key in [
            SortKey::Created,
            SortKey::Updated,
            SortKey::Name,
            SortKey::Expiration,
        ] {
            for dir in [SortDir::Asc, SortDir::Desc] {
                let mut q = SecretQuery::for_project("p", now, 10, 0);
                q.sort = vec![(key, dir)];
                queries.push(q);
            }
        }
        for q in &queries {
            let plan = plan(&conn, q);
            assert!(
                plan.contains("USING INDEX secrets_project_"),
                "{:?}: {plan}",
                q.sort
            );
            assert!(!plan.contains("TEMP B-TREE"), "{:?}: {plan}", q.sort);
        }
    }
}
