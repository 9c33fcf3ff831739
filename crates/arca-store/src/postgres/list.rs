//! The secrets list: one project's unexpired secrets (or, with `acl_user`, those of any project whose read ACL
//! names the user), filtered, sorted and paged, with the total match count — the same rows in the same order as
//! the SQLite store: NULLs sort first ascending and last descending, and text sorts by code point
//! (`COLLATE "C"`, whatever the database's locale). The SQL text is assembled only from fixed column names chosen
//! by matching on the query's enums; every value is a bind parameter.

use arca_core::{Cmp, SecretPage, SecretQuery, SortDir, SortKey, StoreError, TimeField};
use sqlx::{AssertSqlSafe, PgPool};

use super::error::{col, err, to_count, ts_bound};
use super::secrets::{SECRET_COLUMNS, secret_from_row};

/// A bind value of the list's statements.
#[derive(Clone)]
enum Value {
    Text(String),
    Int(i64),
}

/// `WHERE …` for the query, with its values in placeholder order (`$1`, `$2`, …).
fn where_clause(q: &SecretQuery) -> (String, Vec<Value>) {
    fn next(v: Value, values: &mut Vec<Value>) -> String {
        values.push(v);
        format!("${}", values.len())
    }
    let mut values = Vec::new();
    let owner = match &q.acl_user {
        Some(user) => format!(
            "id IN (SELECT secret_id FROM secret_acl_users WHERE user_id = {})",
            next(Value::Text(user.clone()), &mut values)
        ),
        None => format!(
            "project_id = {}",
            next(Value::Text(q.project_id.clone()), &mut values)
        ),
    };
    let now = next(Value::Int(ts_bound(q.now)), &mut values);
    let mut sql = format!(" WHERE {owner} AND (expiration IS NULL OR expiration > {now})");
    let exact_text = [
        ("name", &q.name),
        ("algorithm", &q.algorithm),
        ("mode", &q.mode),
    ];
    for (column, wanted) in exact_text {
        if let Some(wanted) = wanted {
            let p = next(Value::Text(wanted.clone()), &mut values);
            sql.push_str(&format!(" AND {column} = {p}"));
        }
    }
    if let Some(bits) = q.bit_length {
        let p = next(Value::Int(bits), &mut values);
        sql.push_str(&format!(" AND bit_length = {p}"));
    }
    if let Some(kind) = q.secret_type {
        let p = next(Value::Text(kind.as_str().to_owned()), &mut values);
        sql.push_str(&format!(" AND secret_type = {p}"));
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
        let p = next(Value::Int(ts_bound(filter.at)), &mut values);
        sql.push_str(&format!(" AND {column} {op} {p}"));
    }
    (sql, values)
}

/// `ORDER BY …`: the query's keys in order (newest first when none), then `id` in the last key's direction so
/// pages are stable.
fn order_clause(q: &SecretQuery) -> String {
    let mut keys: Vec<String> = Vec::new();
    let mut last = "DESC";
    for (key, dir) in &q.sort {
        let column = match key {
            SortKey::Name => "name COLLATE \"C\"",
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::Expiration => "expiration",
            SortKey::Algorithm => "algorithm COLLATE \"C\"",
            SortKey::BitLength => "bit_length",
            SortKey::Mode => "mode COLLATE \"C\"",
            SortKey::SecretType => "secret_type COLLATE \"C\"",
            // Every secret is ACTIVE: sorting by status orders nothing.
            SortKey::Status => continue,
        };
        // SQLite's NULL order: smallest of all.
        let (order, direction) = match dir {
            SortDir::Asc => ("ASC NULLS FIRST", "ASC"),
            SortDir::Desc => ("DESC NULLS LAST", "DESC"),
        };
        keys.push(format!("{column} {order}"));
        last = direction;
    }
    if keys.is_empty() {
        keys.push("created DESC".to_owned());
    }
    // Ties fall to the id in the last key's direction, as SQLite's rowid tie-break does (ids are v7, so in
    // creation order).
    keys.push(format!("id COLLATE \"C\" {last}"));
    format!(" ORDER BY {}", keys.join(", "))
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    values: &'q [Value],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text.as_str()),
            Value::Int(int) => query.bind(*int),
        };
    }
    query
}

/// One page and the total: two statements without a common transaction (as in Barbican and the SQLite store).
pub(super) async fn list(pool: &PgPool, q: &SecretQuery) -> Result<SecretPage, StoreError> {
    let (filter, values) = where_clause(q);
    let n = values.len();
    let page_sql = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets{filter}{} LIMIT ${} OFFSET ${}",
        order_clause(q),
        n + 1,
        n + 2
    );
    let count_sql = format!("SELECT COUNT(*) AS total FROM secrets{filter}");
    let rows = bind_all(sqlx::query(AssertSqlSafe(page_sql)), &values)
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(pool)
        .await
        .map_err(err("listing secrets"))?;
    let secrets = rows
        .iter()
        .map(secret_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let row = bind_all(sqlx::query(AssertSqlSafe(count_sql)), &values)
        .fetch_one(pool)
        .await
        .map_err(err("counting secrets"))?;
    let total = to_count(col(&row, "total")?)?;
    Ok(SecretPage { secrets, total })
}
