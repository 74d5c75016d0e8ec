//! SQLite: JSON and timestamps stored as TEXT.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection};

use super::decode::decode_error;
use super::{TableDef, TableShape, TableSql, bind};
use crate::event::LogEvent;

super::impl_backend!(
    Sqlite,
    SqliteDriver,
    Sqlite,
    crate::Dialect::Sqlite,
    SqliteRow
);

/// `created_at` as stored: ISO 8601 with a space between date and time,
/// microseconds and a UTC offset (`2026-11-28 06:18:28.123456+00:00`), the
/// form Python's sqlite3 gives the original's datetimes. SQLite compares
/// the text, so the history reads order and filter rows by it: ours and the
/// original's (with or without microseconds and offset) sort together in
/// time order.
pub(crate) fn format_created_at(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
}

/// Parses `created_at` as we write it, as RFC 3339 with any offset, or as a
/// naive `YYYY-MM-DD HH:MM:SS[.f]` taken to be UTC.
pub(crate) fn parse_created_at(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|ts| ts.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
                .iter()
                .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
                .map(|naive| naive.and_utc())
        })
}

/// Retention batches run as single statements: SQLite locks the whole
/// database for a write, for as long as the statement runs.
const SWEEP_ISOLATION: Option<&str> = None;

/// Timestamps are bound as the text [`format_created_at`] writes.
fn bind_time(at: DateTime<Utc>) -> String {
    format_created_at(at)
}

/// SQLite takes statements of any size this library writes.
async fn max_statement_bytes(_: &mut SqliteConnection) -> Result<Option<u64>, sqlx::Error> {
    Ok(None)
}

/// The columns of a table: `pragma_table_info`, which has no rows for a
/// missing table.
async fn table_columns(
    conn: &mut SqliteConnection,
    table: &TableDef,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
        .bind(&table.name)
        .fetch_all(conn)
        .await
}

async fn insert(
    conn: &mut SqliteConnection,
    table: &TableSql,
    shape: TableShape,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let mut query = bind::values_insert::<Sqlite, String>(
        crate::Dialect::Sqlite,
        table,
        shape,
        rows,
        bind_time,
    );
    query.build().execute(conn).await.map(drop)
}

fn read_json(row: &SqliteRow, column: &str) -> Result<Option<Value>, sqlx::Error> {
    super::json_text::parse_nullable(column, row.try_get(column)?)
}

fn read_timestamp(row: &SqliteRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    parse_created_at(&text)
        .ok_or_else(|| decode_error(column, format!("not an ISO 8601 timestamp: {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_round_trips_with_microseconds() {
        let ts = DateTime::parse_from_rfc3339("2026-11-28T06:18:28.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = format_created_at(ts);
        assert_eq!(text, "2026-11-28 06:18:28.123456+00:00");
        assert_eq!(parse_created_at(&text), Some(ts));
        assert_eq!(
            parse_created_at("2026-11-28 06:18:28.123456"),
            Some(ts),
            "naive timestamps are UTC"
        );
        assert_eq!(parse_created_at("yesterday"), None);
    }
}
