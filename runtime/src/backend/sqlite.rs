//! SQLite: JSON and timestamps stored as TEXT.

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::{AssertSqlSafe, Executor, Row, Sqlite, SqlitePool};

use super::{RawRecord, TableSql, push_log_row};
use crate::event::LogEvent;

/// `created_at` as stored: ISO 8601 with microseconds and a UTC offset, as
/// the original writes it (sorts as text in time order).
pub(crate) fn format_created_at(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
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

pub(super) async fn insert<'e, E: Executor<'e, Database = Sqlite>>(
    executor: E,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let mut query = super::insert_builder::<Sqlite>(table, rows);
    query.push_values(rows, |tuple, row| {
        push_log_row!(
            tuple,
            row,
            table,
            json_suffix = "",
            created_at = format_created_at
        );
    });
    super::finish_insert(&mut query, table, rows);
    query.build().execute(executor).await.map(drop)
}

pub(super) async fn history(
    pool: &SqlitePool,
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
    row: &sqlx::sqlite::SqliteRow,
    column: &str,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        serde_json::from_str(&text).map_err(|e| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: Box::new(e),
        })
    })
    .transpose()
}

pub(super) fn decode(row: &sqlx::sqlite::SqliteRow) -> Result<RawRecord, sqlx::Error> {
    let created_at: String = row.try_get("created_at")?;
    let created_at = parse_created_at(&created_at).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "created_at".to_owned(),
        source: format!("not an ISO 8601 timestamp: {created_at:?}").into(),
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_at_round_trips_with_microseconds() {
        let ts = DateTime::parse_from_rfc3339("2026-11-28T06:18:28.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = format_created_at(ts);
        assert_eq!(text, "2026-11-28T06:18:28.123456+00:00");
        assert_eq!(parse_created_at(&text), Some(ts));
        assert_eq!(
            parse_created_at("2026-11-28 06:18:28.123456"),
            Some(ts),
            "naive timestamps are UTC"
        );
        assert_eq!(parse_created_at("yesterday"), None);
    }
}
