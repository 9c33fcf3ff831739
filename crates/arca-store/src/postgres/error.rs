//! Mapping of sqlx errors to `StoreError` for the PostgreSQL store: failures to reach the database (connection
//! refused or lost, TLS, pool timeouts, a server shutting down or starting up) become
//! [`StoreError::unavailable`] so callers can answer 503; a text value PostgreSQL cannot hold (U+0000) becomes
//! [`StoreError::unstorable`] so callers can answer 400; everything else is a plain `StoreError` naming what was
//! being done. sqlx errors carry PostgreSQL's message and constraint names, never bound values, so no key
//! material can leak through a message. Also the few conversions of stored values every area uses.

use arca_core::StoreError;
use time::OffsetDateTime;
use uuid::Uuid;

/// Whether `e` means the database could not be reached (rather than refusing or failing a statement).
pub(super) fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // Class 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now;
            // 53300: too many connections.
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Whether `e` is PostgreSQL refusing a character in a text value (SQLSTATE 22021, "invalid byte sequence for
/// encoding UTF8: 0x00": text cannot hold U+0000, which SQLite stores).
pub(super) fn is_unstorable_text(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| matches!(&*c, "22021" | "22P05")))
}

/// A `StoreError` for `e`, naming what was being done.
pub(super) fn db_error(context: &'static str, e: sqlx::Error) -> StoreError {
    if is_unstorable_text(&e) {
        StoreError::unstorable("text values may not contain the NUL character (U+0000)")
    } else if is_unavailable(&e) {
        StoreError::unavailable(format!("PostgreSQL store: {context}: {e}"))
    } else {
        StoreError(format!("PostgreSQL store: {context}: {e}"))
    }
}

/// An error-mapping closure for `map_err`.
pub(super) fn err(context: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| db_error(context, e)
}

/// Whether `e` is a unique (or primary key) violation: the trait's "already exists" answer, not an error.
pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Whether `e` is a foreign key violation (the referenced row is gone).
pub(super) fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_foreign_key_violation())
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

/// A timestamp used only as a comparison bound: saturates instead of failing.
pub(super) fn ts_bound(t: OffsetDateTime) -> i64 {
    let nanos = t.unix_timestamp_nanos();
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

/// A stored timestamp back as an `OffsetDateTime` in UTC.
pub(super) fn ts_from_db(nanos: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|e| StoreError(format!("PostgreSQL store: corrupt timestamp {nanos}: {e}")))
}

/// An optional stored timestamp.
pub(super) fn opt_ts_from_db(nanos: Option<i64>) -> Result<Option<OffsetDateTime>, StoreError> {
    nanos.map(ts_from_db).transpose()
}

/// An optional timestamp as stored.
pub(super) fn opt_ts_to_db(t: Option<OffsetDateTime>) -> Result<Option<i64>, StoreError> {
    t.map(ts_to_db).transpose()
}

/// A UUID as stored.
pub(super) fn uuid_to_db(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// A stored UUID.
pub(super) fn uuid_from_db(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text)
        .map_err(|e| StoreError(format!("PostgreSQL store: corrupt id {text:?}: {e}")))
}

/// A stored integer narrowed to its domain type (`u32` versions, `u8` algorithm ids).
pub(super) fn narrow<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T, StoreError> {
    T::try_from(value).map_err(|_| {
        StoreError(format!(
            "PostgreSQL store: {column} value {value} is out of range"
        ))
    })
}

/// A `COUNT(*)` as a count.
pub(super) fn to_count(total: i64) -> Result<u64, StoreError> {
    u64::try_from(total)
        .map_err(|_| StoreError(format!("PostgreSQL store: negative count {total}")))
}

/// Column `name` of `row`, decoded; a type mismatch or NULL where none is allowed is an error naming the column.
pub(super) fn col<'r, T>(row: &'r sqlx::postgres::PgRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    use sqlx::Row;
    row.try_get(name)
        .map_err(|e| StoreError(format!("PostgreSQL store: reading column {name}: {e}")))
}
