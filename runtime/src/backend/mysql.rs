//! MySQL / MariaDB: JSON, back-quoted names, timestamps bound as real
//! datetimes in UTC (sqlx sets the session time zone to `+00:00`), which
//! strict `sql_mode` accepts for both `DATETIME(6)` and `TIMESTAMP` columns.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{AssertSqlSafe, Executor, MySql, MySqlPool, Row};

use super::{RawRecord, TableSql, push_log_row};
use crate::event::LogEvent;

fn naive_utc(ts: DateTime<Utc>) -> NaiveDateTime {
    ts.naive_utc()
}

pub(super) async fn insert<'e, E: Executor<'e, Database = MySql>>(
    executor: E,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let mut query = super::insert_builder::<MySql>(table, rows);
    query.push_values(rows, |tuple, row| {
        push_log_row!(tuple, row, table, json_suffix = "", created_at = naive_utc);
    });
    super::finish_insert(&mut query, table, rows);
    query.build().execute(executor).await.map(drop)
}

pub(super) async fn history(
    pool: &MySqlPool,
    table: &TableSql,
    object_pk: &str,
) -> Result<Vec<RawRecord>, sqlx::Error> {
    let rows = sqlx::query(AssertSqlSafe(table.select_history.clone()))
        .bind(object_pk)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode).collect()
}

fn json(
    row: &sqlx::mysql::MySqlRow,
    column: &str,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    row.try_get::<Option<serde_json::Value>, _>(column)
}

pub(super) fn decode(row: &sqlx::mysql::MySqlRow) -> Result<RawRecord, sqlx::Error> {
    let created_at = match row.try_get::<DateTime<Utc>, _>("created_at") {
        Ok(ts) => ts,
        Err(_) => row.try_get::<NaiveDateTime, _>("created_at")?.and_utc(),
    };
    Ok(RawRecord {
        id: row.try_get("id")?,
        action: row.try_get("action")?,
        object_pk: row.try_get("object_pk")?,
        before: json(row, "before")?,
        after: json(row, "after")?,
        changes: json(row, "changes")?,
        entry_point: row.try_get("entry_point")?,
        route: row.try_get("route")?,
        path: row.try_get("path")?,
        method: row.try_get("method")?,
        ip: row.try_get("ip")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("user_name")?,
        user_agent: row.try_get("user_agent")?,
        created_at,
    })
}
