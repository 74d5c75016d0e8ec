//! MySQL / MariaDB: JSON, back-quoted names, timestamps bound as real
//! datetimes in UTC (sqlx sets the session time zone to `+00:00`), which
//! strict `sql_mode` accepts for both `DATETIME(6)` and `TIMESTAMP` columns.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, MySqlConnection, Row};

use super::decode::ReadColumns;
use super::{TableSql, bind};
use crate::event::LogEvent;

super::impl_backend!(MySql, MySqlDriver, MySql, crate::Dialect::MySql, MySqlRow);

async fn insert(
    conn: &mut MySqlConnection,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let mut query = bind::values_insert::<MySql, NaiveDateTime>(table, rows, |at| at.naive_utc());
    query.build().execute(conn).await.map(drop)
}

impl ReadColumns for MySqlRow {
    fn text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
        self.try_get(column)
    }

    fn big_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(column)
    }

    fn json(&self, column: &str) -> Result<Option<Value>, sqlx::Error> {
        self.try_get(column)
    }

    /// `DATETIME(6)` (ours) or `TIMESTAMP` (the original's), both in UTC.
    fn timestamp(&self, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
        match self.try_get::<DateTime<Utc>, _>(column) {
            Ok(ts) => Ok(ts),
            Err(_) => Ok(self.try_get::<NaiveDateTime, _>(column)?.and_utc()),
        }
    }
}
