//! PostgreSQL: JSONB and TIMESTAMPTZ.

use sqlx::{AssertSqlSafe, Executor, PgPool, Postgres, Row};

use super::{RawRecord, TableSql};
use crate::context::AuditContext;
use crate::event::LogEvent;

/// Inserts `rows` with one `INSERT … SELECT * FROM UNNEST(…)`: one array
/// parameter per column, so the statement text is the same for any number
/// of rows. PostgreSQL then prepares and plans it once per connection, where
/// a multi-row `VALUES` list would be a new statement (and a costly plan of
/// thousands of parameters) for every batch size.
pub(super) async fn insert<'e, E: Executor<'e, Database = Postgres>>(
    executor: E,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let with_event_id = rows.first().is_some_and(|row| row.event_id.is_some());
    let text = |f: fn(&LogEvent) -> Option<&str>| rows.iter().map(f).collect::<Vec<_>>();
    let context = |f: fn(&AuditContext) -> Option<&str>| {
        rows.iter()
            .map(|row| row.context.as_deref().and_then(f))
            .collect::<Vec<_>>()
    };
    let mut query = sqlx::query(AssertSqlSafe(unnest_insert(table, with_event_id)))
        .bind(
            rows.iter()
                .map(|row| row.action.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|row| row.object_pk.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(text(|row| row.before.as_deref()))
        .bind(text(|row| row.after.as_deref()))
        .bind(text(|row| row.changes.as_deref()))
        .bind(context(|ctx| Some(ctx.entry_point.as_str())))
        .bind(context(|ctx| ctx.route.as_deref()))
        .bind(context(|ctx| ctx.path.as_deref()))
        .bind(context(|ctx| ctx.method.as_deref()))
        .bind(context(|ctx| ctx.ip.as_deref()))
        .bind(
            rows.iter()
                .map(|row| row.context.as_deref().and_then(|ctx| ctx.user_id))
                .collect::<Vec<_>>(),
        )
        .bind(context(|ctx| ctx.user_name.as_deref()))
        .bind(context(|ctx| ctx.user_agent.as_deref()))
        .bind(rows.iter().map(|row| row.created_at).collect::<Vec<_>>());
    if with_event_id {
        query = query.bind(text(|row| row.event_id.as_deref()));
    }
    if let Some(log_table) = &table.outbox_for {
        query = query.bind(vec![log_table.as_str(); rows.len()]);
    }
    query.execute(executor).await.map(drop)
}

/// `INSERT INTO t (columns) SELECT * FROM UNNEST($1::text[], …)`, the
/// arrays typed as the columns, then the duplicate-event clause.
fn unnest_insert(table: &TableSql, with_event_id: bool) -> String {
    const TYPES: [&str; 14] = [
        "text",
        "text",
        "jsonb",
        "jsonb",
        "jsonb",
        "text",
        "text",
        "text",
        "text",
        "text",
        "int8",
        "text",
        "text",
        "timestamptz",
    ];
    let extra = usize::from(with_event_id) + usize::from(table.outbox_for.is_some());
    let arrays = TYPES
        .iter()
        .chain(std::iter::repeat_n(&"text", extra))
        .enumerate()
        .map(|(i, ty)| format!("${}::{ty}[]", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let (prefix, on_duplicate) = if with_event_id {
        (&table.insert_prefix_with_event_id, table.on_duplicate_event)
    } else {
        (&table.insert_prefix, "")
    };
    format!("{prefix}SELECT * FROM UNNEST({arrays}){on_duplicate}")
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
