//! PostgreSQL: JSONB and TIMESTAMPTZ.

use sqlx::{AssertSqlSafe, Executor, PgPool, Postgres, Row};

use super::{RawRecord, TableSql, push_log_row};
use crate::event::LogEvent;

pub(super) async fn insert<'e, E: Executor<'e, Database = Postgres>>(
    executor: E,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let mut query = super::insert_builder::<Postgres>(table, rows);
    query.push_values(rows, |tuple, row| {
        push_log_row!(
            tuple,
            row,
            table,
            json_suffix = "::jsonb",
            created_at = std::convert::identity
        );
    });
    super::finish_insert(&mut query, table, rows);
    query.build().execute(executor).await.map(drop)
}

pub(super) async fn history(
    pool: &PgPool,
    table: &TableSql,
    object_pk: &str,
) -> Result<Vec<RawRecord>, sqlx::Error> {
    let rows = sqlx::query(AssertSqlSafe(table.select_history.clone()))
        .bind(object_pk)
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode).collect()
}

pub(super) fn decode(row: &sqlx::postgres::PgRow) -> Result<RawRecord, sqlx::Error> {
    Ok(RawRecord {
        id: row.try_get("id")?,
        action: row.try_get("action")?,
        object_pk: row.try_get("object_pk")?,
        before: row.try_get("before")?,
        after: row.try_get("after")?,
        changes: row.try_get("changes")?,
        entry_point: row.try_get("entry_point")?,
        route: row.try_get("route")?,
        path: row.try_get("path")?,
        method: row.try_get("method")?,
        ip: row.try_get("ip")?,
        user_id: row.try_get("user_id")?,
        user_name: row.try_get("user_name")?,
        user_agent: row.try_get("user_agent")?,
        created_at: row.try_get("created_at")?,
    })
}
