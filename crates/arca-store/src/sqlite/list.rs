//! The secrets list: one project's unexpired secrets, filtered, sorted and paged, with the total match count.
//! The SQL text is assembled only from fixed column names chosen by matching on the query's enums; every value
//! is a bind parameter.

use arca_core::{Cmp, SecretPage, SecretQuery, SortDir, SortKey, StoreError, TimeField};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{AssertSqlSafe, Row, Sqlite, SqlitePool};

use super::codec::{db_err, ts_bound};
use super::secrets::{SECRET_COLUMNS, secret_from_row};

/// A bind value of the list query.
enum Value {
    Text(String),
    Int(i64),
}

type Query = sqlx::query::Query<'static, Sqlite, SqliteArguments>;

/// `WHERE …` for the query, with its values in placeholder order.
fn where_clause(q: &SecretQuery) -> (String, Vec<Value>) {
    let mut sql = String::from(" WHERE project_id = ? AND (expiration IS NULL OR expiration > ?)");
    let mut values = vec![
        Value::Text(q.project_id.clone()),
        Value::Int(ts_bound(q.now)),
    ];
    let exact_text = [
        ("name", &q.name),
        ("algorithm", &q.algorithm),
        ("mode", &q.mode),
    ];
    for (column, wanted) in exact_text {
        if let Some(wanted) = wanted {
            sql.push_str(&format!(" AND {column} = ?"));
            values.push(Value::Text(wanted.clone()));
        }
    }
    if let Some(bits) = q.bit_length {
        sql.push_str(" AND bit_length = ?");
        values.push(Value::Int(bits));
    }
    if let Some(kind) = q.secret_type {
        sql.push_str(" AND secret_type = ?");
        values.push(Value::Text(kind.as_str().to_owned()));
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
        values.push(Value::Int(ts_bound(filter.at)));
    }
    (sql, values)
}

/// `ORDER BY …`: the query's keys in order (newest first when none), then `id` so pages are stable.
fn order_clause(q: &SecretQuery) -> String {
    let mut keys: Vec<String> = Vec::new();
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
    }
    if q.sort.is_empty() {
        keys.push("created DESC".to_owned());
    }
    keys.push("id ASC".to_owned());
    format!(" ORDER BY {}", keys.join(", "))
}

fn bind_all(mut query: Query, values: Vec<Value>) -> Query {
    for value in values {
        query = match value {
            Value::Text(text) => query.bind(text),
            Value::Int(int) => query.bind(int),
        };
    }
    query
}

pub(super) async fn list(pool: &SqlitePool, q: &SecretQuery) -> Result<SecretPage, StoreError> {
    let (filter, values) = where_clause(q);
    let (_, count_values) = where_clause(q);
    let page_sql = format!(
        "SELECT {SECRET_COLUMNS} FROM secrets{filter}{} LIMIT ? OFFSET ?",
        order_clause(q)
    );
    let count_sql = format!("SELECT COUNT(*) FROM secrets{filter}");

    // One read transaction so the page and the total come from the same snapshot.
    let mut tx = pool
        .begin()
        .await
        .map_err(db_err("starting a read transaction"))?;
    let rows: Vec<SqliteRow> = bind_all(sqlx::query(AssertSqlSafe(page_sql)), values)
        .bind(i64::from(q.limit))
        .bind(i64::from(q.offset))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err("listing secrets"))?;
    let total: i64 = bind_all(sqlx::query(AssertSqlSafe(count_sql)), count_values)
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(db_err("counting secrets"))?;
    tx.commit()
        .await
        .map_err(db_err("ending a read transaction"))?;

    let secrets = rows
        .iter()
        .map(secret_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let total = u64::try_from(total)
        .map_err(|_| StoreError(format!("SQLite store: negative count {total}")))?;
    Ok(SecretPage { secrets, total })
}
