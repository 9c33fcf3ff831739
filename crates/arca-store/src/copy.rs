//! `arca db copy`: moves a deployment's SQLite database into an empty PostgreSQL one, offline, and verifies the
//! copy row by row. The PostgreSQL schema is the map: every table it has (but its own bookkeeping — the
//! migration versions, the audit chain's head row, the per-project lock rows) is read from SQLite with the same
//! columns, in primary-key order, converted by the PostgreSQL column's type and inserted in batches, parents
//! before children, all in one transaction (a failure leaves the target empty). The audit head and serial
//! sequences are then set from the copied rows. Verification reads both databases again page by page in the same
//! order and compares every value; the first difference names its table and key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arca_core::StoreError;
use rusqlite::{Connection, OpenFlags};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder, Row};

use crate::PostgresStore;

/// Rows per read and per insert.
const PAGE: usize = 500;

/// PostgreSQL tables that are not data: migration versions, the audit chain's head (recomputed), lock rows.
const NOT_COPIED: [&str; 3] = ["schema_version", "audit_head", "project_locks"];

/// Rows copied or compared, per table, in copy order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows)`.
    pub tables: Vec<(String, u64)>,
}

impl CopyReport {
    /// Rows over all tables.
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// A column's value, as both databases can hold it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Null,
    Int(i64),
    Bool(bool),
    Bytes(Vec<u8>),
    Text(String),
}

/// The kinds of PostgreSQL column Arca's schema uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    BigInt,
    Int,
    SmallInt,
    Bool,
    Bytes,
    Text,
}

impl Kind {
    fn of(data_type: &str) -> Result<Kind, StoreError> {
        Ok(match data_type {
            "bigint" => Kind::BigInt,
            "integer" => Kind::Int,
            "smallint" => Kind::SmallInt,
            "boolean" => Kind::Bool,
            "bytea" => Kind::Bytes,
            "text" | "character varying" => Kind::Text,
            other => {
                return Err(StoreError(format!(
                    "database copy: PostgreSQL column type {other:?} is not handled"
                )));
            }
        })
    }
}

/// One table of the PostgreSQL schema.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
    /// Indexes into `columns` of the primary key (every column when there is none).
    key: Vec<usize>,
}

impl Table {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `ORDER BY` over the key, text compared bytewise on both sides (SQLite's BINARY, PostgreSQL's "C").
    fn order_by(&self, postgres: bool) -> String {
        self.key
            .iter()
            .map(|&i| self.key_expr(i, postgres))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn key_expr(&self, i: usize, postgres: bool) -> String {
        let (name, kind) = &self.columns[i];
        if postgres && *kind == Kind::Text {
            format!("\"{name}\" COLLATE \"C\"")
        } else {
            format!("\"{name}\"")
        }
    }
}

fn store_err(what: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError(format!("database copy: {what}: {e}"))
}

fn sqlite_err(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError(format!("database copy: {what}: {e}"))
}

/// The tables to copy, parents before children.
async fn tables(conn: &mut PgConnection) -> Result<Vec<Table>, StoreError> {
    let columns = sqlx::query(
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_err("reading the PostgreSQL schema"))?;
    let mut by_table: BTreeMap<String, Vec<(String, Kind)>> = BTreeMap::new();
    for row in &columns {
        let table: String = row.get(0);
        if NOT_COPIED.contains(&table.as_str()) {
            continue;
        }
        by_table
            .entry(table)
            .or_default()
            .push((row.get(1), Kind::of(&row.get::<String, _>(2))?));
    }
    let keys = sqlx::query(
        "SELECT tc.table_name::text, kcu.column_name::text FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name \
         AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name \
         WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() \
         ORDER BY tc.table_name, kcu.ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_err("reading the primary keys"))?;
    let mut key_columns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &keys {
        key_columns.entry(row.get(0)).or_default().push(row.get(1));
    }
    let edges = sqlx::query(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND connamespace = current_schema()::regnamespace",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(store_err("reading the foreign keys"))?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &edges {
        let child: String = row.get(0);
        let parent: String = row.get(1);
        if child != parent {
            parents.entry(child).or_default().insert(parent);
        }
    }
    let mut ordered = Vec::new();
    let mut placed = BTreeSet::new();
    while placed.len() < by_table.len() {
        let ready: Vec<String> = by_table
            .keys()
            .filter(|t| !placed.contains(*t))
            .filter(|t| {
                parents.get(*t).is_none_or(|ps| {
                    ps.iter()
                        .all(|p| placed.contains(p) || !by_table.contains_key(p))
                })
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            return Err(StoreError(
                "database copy: the foreign keys form a cycle".into(),
            ));
        }
        for name in ready {
            let columns = by_table[&name].clone();
            let key = match key_columns.get(&name) {
                Some(k) => k
                    .iter()
                    .filter_map(|c| columns.iter().position(|(n, _)| n == c))
                    .collect(),
                None => (0..columns.len()).collect(),
            };
            placed.insert(name.clone());
            ordered.push(Table { name, columns, key });
        }
    }
    Ok(ordered)
}

/// Opens the SQLite file read-only, at the newest schema (the store's own migrations ran first), inside one read
/// transaction: a consistent snapshot even if something writes to the file meanwhile.
async fn open_source(path: &Path) -> Result<Connection, StoreError> {
    let store = crate::SqliteStore::open(path).await?;
    store.close().await;
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sqlite_err("opening the SQLite database"))?;
    conn.execute_batch("BEGIN")
        .map_err(sqlite_err("starting a read transaction"))?;
    Ok(conn)
}

/// One page of `table` from SQLite after `after` (the key of the last row read).
fn sqlite_page(
    conn: &Connection,
    table: &Table,
    after: Option<&[Value]>,
) -> Result<Vec<Vec<Value>>, StoreError> {
    let mut sql = format!("SELECT {} FROM \"{}\"", table.column_list(), table.name);
    if after.is_some() {
        let keys: Vec<String> = table
            .key
            .iter()
            .map(|&i| table.key_expr(i, false))
            .collect();
        let marks: Vec<&str> = table.key.iter().map(|_| "?").collect();
        sql.push_str(&format!(
            " WHERE ({}) > ({})",
            keys.join(", "),
            marks.join(", ")
        ));
    }
    sql.push_str(&format!(" ORDER BY {} LIMIT {PAGE}", table.order_by(false)));
    let mut stmt = conn
        .prepare(&sql)
        .map_err(sqlite_err("reading a SQLite table"))?;
    let params: Vec<rusqlite::types::Value> = after
        .unwrap_or_default()
        .iter()
        .map(|v| match v {
            Value::Null => rusqlite::types::Value::Null,
            Value::Int(i) => rusqlite::types::Value::Integer(*i),
            Value::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
            Value::Bytes(b) => rusqlite::types::Value::Blob(b.clone()),
            Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
        })
        .collect();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |row| {
            table
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| {
                    Ok(match kind {
                        Kind::BigInt | Kind::Int | Kind::SmallInt => row
                            .get::<_, Option<i64>>(i)?
                            .map_or(Value::Null, Value::Int),
                        Kind::Bool => row
                            .get::<_, Option<i64>>(i)?
                            .map_or(Value::Null, |b| Value::Bool(b != 0)),
                        Kind::Bytes => row
                            .get::<_, Option<Vec<u8>>>(i)?
                            .map_or(Value::Null, Value::Bytes),
                        Kind::Text => row
                            .get::<_, Option<String>>(i)?
                            .map_or(Value::Null, Value::Text),
                    })
                })
                .collect::<Result<Vec<_>, rusqlite::Error>>()
        })
        .map_err(sqlite_err("reading a SQLite table"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(sqlite_err(&table.name))
}

fn pg_value(row: &PgRow, i: usize, kind: Kind) -> Result<Value, sqlx::Error> {
    Ok(match kind {
        Kind::BigInt => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::Int),
        Kind::Int => row
            .try_get::<Option<i32>, _>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Kind::SmallInt => row
            .try_get::<Option<i16>, _>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Kind::Bool => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, Value::Bool),
        Kind::Bytes => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Value::Null, Value::Bytes),
        Kind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::Text),
    })
}

fn push_bind(
    q: &mut sqlx::query_builder::Separated<'_, Postgres, &'static str>,
    v: &Value,
    kind: Kind,
) -> Result<(), StoreError> {
    let out_of_range =
        || StoreError("database copy: an integer does not fit its PostgreSQL column".into());
    match (kind, v) {
        (Kind::BigInt, Value::Int(i)) => q.push_bind(*i),
        (Kind::Int, Value::Int(i)) => q.push_bind(i32::try_from(*i).map_err(|_| out_of_range())?),
        (Kind::SmallInt, Value::Int(i)) => {
            q.push_bind(i16::try_from(*i).map_err(|_| out_of_range())?)
        }
        (Kind::Bool, Value::Bool(b)) => q.push_bind(*b),
        (Kind::Bytes, Value::Bytes(b)) => q.push_bind(b.clone()),
        (Kind::Text, Value::Text(t)) => q.push_bind(t.clone()),
        (Kind::BigInt, Value::Null) => q.push_bind(None::<i64>),
        (Kind::Int, Value::Null) => q.push_bind(None::<i32>),
        (Kind::SmallInt, Value::Null) => q.push_bind(None::<i16>),
        (Kind::Bool, Value::Null) => q.push_bind(None::<bool>),
        (Kind::Bytes, Value::Null) => q.push_bind(None::<Vec<u8>>),
        (Kind::Text, Value::Null) => q.push_bind(None::<String>),
        (kind, _) => {
            return Err(StoreError(format!(
                "database copy: a SQLite value does not match its PostgreSQL column ({kind:?})"
            )));
        }
    };
    Ok(())
}

/// One page of `table` from PostgreSQL after `after`.
async fn postgres_page(
    conn: &mut PgConnection,
    table: &Table,
    after: Option<&[Value]>,
) -> Result<Vec<Vec<Value>>, StoreError> {
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {} FROM \"{}\"",
        table.column_list(),
        table.name
    ));
    if let Some(after) = after {
        let keys: Vec<String> = table.key.iter().map(|&i| table.key_expr(i, true)).collect();
        q.push(format!(" WHERE ({}) > (", keys.join(", ")));
        let mut sep = q.separated(", ");
        for (&i, v) in table.key.iter().zip(after) {
            push_bind(&mut sep, v, table.columns[i].1)?;
        }
        q.push(")");
    }
    q.push(format!(" ORDER BY {} LIMIT {PAGE}", table.order_by(true)));
    let rows = q
        .build()
        .fetch_all(&mut *conn)
        .await
        .map_err(store_err("reading a PostgreSQL table"))?;
    rows.iter()
        .map(|row| {
            table
                .columns
                .iter()
                .enumerate()
                .map(|(i, (_, kind))| pg_value(row, i, *kind))
                .collect::<Result<Vec<_>, _>>()
                .map_err(store_err("reading a PostgreSQL row"))
        })
        .collect()
}

fn key_of(table: &Table, row: &[Value]) -> Vec<Value> {
    table.key.iter().map(|&i| row[i].clone()).collect()
}

/// Copies the SQLite database at `source` into `target`, which must hold no data yet; `progress(table, rows)`
/// after each batch. One transaction: on any failure the target stays empty.
pub async fn copy_sqlite_to_postgres(
    source: &Path,
    target: &PostgresStore,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<CopyReport, StoreError> {
    let sqlite = open_source(source).await?;
    let mut tx = target
        .pool()
        .begin()
        .await
        .map_err(store_err("starting a transaction"))?;
    let tables = tables(&mut tx).await?;
    for table in &tables {
        let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{}\"",
            table.name
        )))
        .fetch_one(&mut *tx)
        .await
        .map_err(store_err("counting the target's rows"))?;
        // The migrations seed the default secret store; anything else means the target is in use.
        if rows > 0 && table.name != "secret_stores" {
            return Err(StoreError(format!(
                "database copy: the target database is not empty (table {} has {rows} rows): copy into a new \
                 database",
                table.name
            )));
        }
    }
    sqlx::query("DELETE FROM secret_stores")
        .execute(&mut *tx)
        .await
        .map_err(store_err("clearing the seeded secret stores"))?;
    let mut report = CopyReport::default();
    for table in &tables {
        let mut copied = 0u64;
        let mut after: Option<Vec<Value>> = None;
        loop {
            let page = sqlite_page(&sqlite, table, after.as_deref())?;
            let Some(last) = page.last() else { break };
            after = Some(key_of(table, last));
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
                "INSERT INTO \"{}\" ({}) ",
                table.name,
                table.column_list()
            ));
            let mut failed = None;
            q.push_values(&page, |mut b, row| {
                for (v, (_, kind)) in row.iter().zip(&table.columns) {
                    if let Err(e) = push_bind(&mut b, v, *kind) {
                        failed.get_or_insert(e);
                    }
                }
            });
            if let Some(e) = failed {
                return Err(e);
            }
            q.build().execute(&mut *tx).await.map_err(|e| {
                StoreError(format!("database copy: inserting into {}: {e}", table.name))
            })?;
            copied += page.len() as u64;
            progress(&table.name, copied);
        }
        report.tables.push((table.name.clone(), copied));
    }
    // The audit chain's head is the last copied record; serial columns continue after the copied ids.
    sqlx::query(
        "UPDATE audit_head SET seq = l.seq, mac = l.mac FROM \
         (SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1) l WHERE audit_head.id = 1",
    )
    .execute(&mut *tx)
    .await
    .map_err(store_err("setting the audit head"))?;
    let serials = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(store_err("reading the serial columns"))?;
    for row in &serials {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        // Names from the catalog of Arca's own schema, not from input.
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), \
             coalesce((SELECT max(\"{column}\") FROM \"{table}\"), 0) + 1, false)"
        )))
        .execute(&mut *tx)
        .await
        .map_err(store_err("moving a sequence past the copied ids"))?;
    }
    tx.commit()
        .await
        .map_err(store_err("committing the copy"))?;
    Ok(report)
}

/// Compares every row of every table of `target` with the SQLite database at `source`, in key order; the
/// first difference (a missing, extra or different row) is an error naming the table and the row's key.
pub async fn verify_sqlite_against_postgres(
    source: &Path,
    target: &PostgresStore,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<CopyReport, StoreError> {
    let sqlite = open_source(source).await?;
    let mut conn = target
        .pool()
        .acquire()
        .await
        .map_err(store_err("connecting"))?;
    let mut tx = sqlx::Connection::begin(&mut *conn)
        .await
        .map_err(store_err("starting a transaction"))?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(store_err("starting a snapshot"))?;
    let tables = tables(&mut tx).await?;
    let mut report = CopyReport::default();
    for table in &tables {
        let mut compared = 0u64;
        let mut after: Option<Vec<Value>> = None;
        loop {
            let left = sqlite_page(&sqlite, table, after.as_deref())?;
            let right = postgres_page(&mut tx, table, after.as_deref()).await?;
            for i in 0..left.len().max(right.len()) {
                match (left.get(i), right.get(i)) {
                    (Some(l), Some(r)) if l == r => {}
                    (l, r) => {
                        let key = l.or(r).map(|row| key_of(table, row)).unwrap_or_default();
                        let what = match (l, r) {
                            (Some(_), None) => "is missing from PostgreSQL",
                            (None, Some(_)) => "is only in PostgreSQL",
                            _ => "differs",
                        };
                        return Err(StoreError(format!(
                            "database copy: table {} row {} {what}",
                            table.name,
                            describe_key(&key)
                        )));
                    }
                }
            }
            let Some(last) = left.last() else { break };
            after = Some(key_of(table, last));
            compared += left.len() as u64;
            progress(&table.name, compared);
        }
        report.tables.push((table.name.clone(), compared));
    }
    Ok(report)
}

/// A row key for messages: integers and text as they are, bytes by length only (never their content).
fn describe_key(key: &[Value]) -> String {
    let parts: Vec<String> = key
        .iter()
        .map(|v| match v {
            Value::Null => "NULL".into(),
            Value::Int(i) => i.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Bytes(b) => format!("<{} bytes>", b.len()),
            Value::Text(t) => format!("{t:?}"),
        })
        .collect();
    format!("({})", parts.join(", "))
}
