//! Conversions between domain values and SQLite column values (timestamps as INTEGER nanoseconds since the Unix
//! epoch, UUIDs as hyphenated text, small integers), and the mapping of sqlx errors to `StoreError`. Every
//! conversion of stored data is fallible: a corrupt row is an error, never a panic.

use arca_core::StoreError;
use time::OffsetDateTime;
use uuid::Uuid;

/// An error-mapping closure that names what was being done. sqlx errors never carry bound values, so no key
/// material can leak through the message.
pub(super) fn db_err(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
    move |e| StoreError(format!("SQLite store: {what}: {e}"))
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
