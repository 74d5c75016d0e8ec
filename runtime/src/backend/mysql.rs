//! MySQL / MariaDB: JSON, back-quoted names, timestamps bound as real
//! datetimes in UTC (sqlx sets the session time zone to `+00:00`), which
//! strict `sql_mode` accepts for both `DATETIME(6)` and `TIMESTAMP` columns.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, MySqlConnection, Row};

use super::{TableDef, TableShape, TableSql, bind};
use crate::event::LogEvent;

super::impl_backend!(MySql, MySqlDriver, MySql, crate::Dialect::MySql, MySqlRow);

/// Retention batches run read-committed: under the default repeatable
/// read, a `DELETE` locks every row it scans and the gaps between them,
/// blocking (and deadlocking with) writers appending rows.
const SWEEP_ISOLATION: Option<&str> = Some("SET TRANSACTION ISOLATION LEVEL READ COMMITTED");

/// Timestamps are bound as naive datetimes in UTC (the session's zone).
fn bind_time(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

/// `max_allowed_packet`: the server drops the connection of a client that
/// sends a larger statement.
async fn max_statement_bytes(conn: &mut MySqlConnection) -> Result<Option<u64>, sqlx::Error> {
    let limit: u64 = sqlx::query_scalar("SELECT CAST(@@max_allowed_packet AS UNSIGNED)")
        .fetch_one(conn)
        .await?;
    Ok(Some(limit))
}

/// The columns of a table of the connection's database, from
/// `information_schema` (a query, so it commits nothing of the caller's
/// transaction). Cast to `CHAR`: servers differ in the type they report
/// for the catalog's names.
async fn table_columns(
    conn: &mut MySqlConnection,
    table: &TableDef,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(column_name AS CHAR) FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ?",
    )
    .bind(&table.name)
    .fetch_all(conn)
    .await
}

async fn insert(
    conn: &mut MySqlConnection,
    table: &TableSql,
    shape: TableShape,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let mut query = bind::values_insert::<MySql, NaiveDateTime>(
        crate::Dialect::MySql,
        table,
        shape,
        rows,
        bind_time,
    );
    query.build().execute(conn).await.map(drop)
}

/// A JSON column: text on MariaDB (`LONGTEXT`), MySQL's `JSON` type on
/// MySQL, sent as UTF-8 text either way (hence unchecked: sqlx's `&str`
/// does not accept the `JSON` type).
fn read_json(row: &MySqlRow, column: &str) -> Result<Option<Value>, sqlx::Error> {
    super::json_text::parse_nullable(column, row.try_get_unchecked(column)?)
}

/// `DATETIME(6)` (ours) or `TIMESTAMP` (the original's), both in UTC.
fn read_timestamp(row: &MySqlRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    match row.try_get::<DateTime<Utc>, _>(column) {
        Ok(ts) => Ok(ts),
        Err(_) => Ok(row.try_get::<NaiveDateTime, _>(column)?.and_utc()),
    }
}
