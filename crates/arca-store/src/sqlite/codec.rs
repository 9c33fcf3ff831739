//! Conversions between domain values and SQLite column values (timestamps as INTEGER nanoseconds since the Unix
//! epoch, UUIDs as hyphenated text, small integers), the mapping of rusqlite errors to `StoreError`, and the
//! few statement helpers every area uses (each through the connection's prepared-statement cache). Every
//! conversion of stored data is fallible: a corrupt row is an error, never a panic.

use arca_core::StoreError;
use rusqlite::{Connection, Params, Row};
use time::OffsetDateTime;
use uuid::Uuid;

/// An error-mapping closure that names what was being done. rusqlite errors carry SQLite's message and column
/// names, never bound values, so no key material can leak through the message.
pub(super) fn sql_err(what: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError(format!("SQLite store: {what}: {e}"))
}

/// Runs a statement that returns no rows; the number of rows it changed.
pub(super) fn execute<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    what: &str,
) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .map_err(sql_err(what))
}

/// Whether a query returns at least one row.
pub(super) fn exists<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    what: &str,
) -> Result<bool, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.exists(params))
        .map_err(sql_err(what))
}

/// The first row of a query, converted by `convert`; `None` when there is none.
pub(super) fn query_opt<T, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    what: &str,
    convert: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err(what))?;
    let mut rows = stmt.query(params).map_err(sql_err(what))?;
    match rows.next().map_err(sql_err(what))? {
        Some(row) => convert(row).map(Some),
        None => Ok(None),
    }
}

/// Every row of a query, each converted by `convert`.
pub(super) fn query_all<T, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    what: &str,
    mut convert: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(sql_err(what))?;
    let mut rows = stmt.query(params).map_err(sql_err(what))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sql_err(what))? {
        out.push(convert(row)?);
    }
    Ok(out)
}

/// A `COUNT(*)`-style query's one integer, as a count.
pub(super) fn count<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    what: &str,
) -> Result<u64, StoreError> {
    let total: i64 = conn
        .prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, |row| row.get(0)))
        .map_err(sql_err(what))?;
    u64::try_from(total).map_err(|_| StoreError(format!("SQLite store: negative count {total}")))
}

/// A timestamp as stored: nanoseconds since the epoch. Instants outside what an i64 holds (before 1677 or after
/// 2262) cannot be stored and are refused with an error.
pub(super) fn ts_to_db(t: OffsetDateTime) -> Result<i64, StoreError> {
    i64::try_from(t.unix_timestamp_nanos()).map_err(|_| {
        StoreError(format!(
            "timestamp {t} is outside the storable range (years 1678 to 2261)"
        ))
    })
}

/// A timestamp used only as a comparison bound: saturates instead of failing, which keeps every comparison with a
/// stored (always in-range) value correct.
pub(super) fn ts_bound(t: OffsetDateTime) -> i64 {
    let nanos = t.unix_timestamp_nanos();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// A stored timestamp back as an `OffsetDateTime` in UTC.
pub(super) fn ts_from_db(nanos: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|e| StoreError(format!("SQLite store: corrupt timestamp {nanos}: {e}")))
}

/// A UUID as stored.
pub(super) fn uuid_to_db(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// A stored UUID.
pub(super) fn uuid_from_db(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|e| StoreError(format!("SQLite store: corrupt id {text:?}: {e}")))
}

/// A stored integer narrowed to its domain type (`u32` versions, `u8` algorithm ids).
pub(super) fn narrow<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| {
        StoreError(format!(
            "SQLite store: {column} value {value} is out of range"
        ))
    })
}

/// Turns on SQLite's query planner stability guarantee for `conn`. Without it a statement whose plan looked at a
/// bound value — every `LIMIT ?`/`OFFSET ?` does — is marked expired by the next bind and compiled again on each
/// run (19% of a list request in the profile, bench/README.md), which defeats the prepared-statement cache.
/// Arca's statements are planned by their shape (indexes), never by the values bound.
pub(super) fn keep_plans(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map(|_| ())
    .map_err(sql_err("keeping query plans"))
}

#[cfg(test)]
mod tests {
    use rusqlite::StatementStatus;

    /// Runs a paged statement with three different `LIMIT`/`OFFSET` binds; how often SQLite compiled it again.
    fn reprepares(conn: &rusqlite::Connection) -> i32 {
        conn.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            .unwrap();
        let sql = "SELECT x FROM t ORDER BY x LIMIT ? OFFSET ?";
        for (limit, offset) in [(1, 0), (2, 1), (3, 0)] {
            let mut stmt = conn.prepare_cached(sql).unwrap();
            let rows: Vec<i64> = stmt
                .query_map([limit, offset], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(rows.len() as i64, limit.min(3 - offset));
        }
        conn.prepare_cached(sql)
            .unwrap()
            .get_status(StatementStatus::RePrepare)
    }

    #[test]
    fn paged_statements_are_compiled_once() {
        let plain = rusqlite::Connection::open_in_memory().unwrap();
        assert!(
            reprepares(&plain) > 0,
            "without the guarantee SQLite recompiles on every new LIMIT bind (what keep_plans avoids)"
        );
        let kept = rusqlite::Connection::open_in_memory().unwrap();
        super::keep_plans(&kept).unwrap();
        assert_eq!(reprepares(&kept), 0);
    }

    /// The bundled SQLite is built as `.cargo/config.toml` says: no allocation statistics and no shared page
    /// cache group, each of which puts a process-wide mutex on every read.
    #[test]
    fn sqlite_is_built_without_process_wide_read_mutexes() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }
}
