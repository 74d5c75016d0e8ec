//! PostgreSQL: JSONB and TIMESTAMPTZ, rows inserted as column arrays.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use awesome_audit_log_codegen::ddl::{ColumnKind, insert_columns};

use super::TableSql;
use super::bind::with_event_id;
use super::fit::fit_column;
use crate::event::{ColumnValue, LogEvent};

super::impl_backend!(
    sqlx::Postgres,
    PostgresDriver,
    Postgres,
    crate::Dialect::Postgres,
    PgRow
);

/// Timestamps are bound as `TIMESTAMPTZ`.
fn bind_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

/// PostgreSQL takes statements of any size this library writes (a single
/// value is limited to 1 GB, which the value itself reports).
async fn max_statement_bytes(_: &mut PgConnection) -> Result<Option<u64>, sqlx::Error> {
    Ok(None)
}

/// Inserts `rows` with one `INSERT … SELECT * FROM UNNEST(…)`, context
/// values [fitted](super::fit) to their columns: one array parameter per
/// column, so the statement text is the same for any number
/// of rows. PostgreSQL then prepares and plans it once per connection, where
/// a multi-row `VALUES` list would be a new statement (and a costly plan of
/// thousands of parameters) for every batch size.
async fn insert(
    conn: &mut PgConnection,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let with_event_id = with_event_id(rows);
    let values: Vec<_> = rows.iter().map(LogEvent::values).collect();
    let sql = unnest_insert(table, with_event_id);
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (index, column) in insert_columns().iter().enumerate() {
        let column_of = || values.iter().map(move |row| row[index]);
        query = match column.kind {
            ColumnKind::BigInt => query.bind(
                column_of()
                    .map(|value| match value {
                        ColumnValue::BigInt(number) => number,
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnKind::Timestamp => query.bind(
                column_of()
                    .filter_map(|value| match value {
                        ColumnValue::Timestamp(at) => Some(at),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            ColumnKind::Id | ColumnKind::Text | ColumnKind::Json => query.bind(
                column_of()
                    .map(|value| match value {
                        ColumnValue::Text(text) => {
                            text.map(|text| fit_column(column, crate::Dialect::Postgres, text))
                        }
                        ColumnValue::Json(json) => json.map(Cow::Borrowed),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
        };
    }
    if with_event_id {
        query = query.bind(
            rows.iter()
                .map(|row| row.event_id.as_deref())
                .collect::<Vec<_>>(),
        );
    }
    if let Some(log_table) = &table.outbox_for {
        query = query.bind(vec![log_table.as_str(); rows.len()]);
    }
    query.execute(conn).await.map(drop)
}

/// The array type PostgreSQL binds a column of `kind` as.
fn array_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Id | ColumnKind::BigInt => "int8",
        ColumnKind::Text => "text",
        ColumnKind::Json => "jsonb",
        ColumnKind::Timestamp => "timestamptz",
    }
}

/// `INSERT INTO t (columns) SELECT * FROM UNNEST($1::text[], …)`, the
/// arrays typed after the column list, then the duplicate-event clause.
fn unnest_insert(table: &TableSql, with_event_id: bool) -> String {
    let extra = usize::from(with_event_id) + usize::from(table.outbox_for.is_some());
    let arrays = insert_columns()
        .iter()
        .map(|column| array_type(column.kind))
        .chain(std::iter::repeat_n("text", extra))
        .enumerate()
        .map(|(i, ty)| format!("${}::{ty}[]", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{}SELECT * FROM UNNEST({arrays}){}",
        table.insert_prefix(with_event_id),
        table.on_duplicate(with_event_id)
    )
}

/// A JSONB column, selected as `::text` ([`TableSql`]'s read lists).
fn read_json(row: &PgRow, column: &str) -> Result<Option<Value>, sqlx::Error> {
    super::json_text::parse_nullable(column, row.try_get(column)?)
}

fn read_timestamp(row: &PgRow, column: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    row.try_get(column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnest_arrays_follow_the_column_kinds() {
        let table = TableSql::log(crate::Dialect::Postgres, None, "widget_log");
        let sql = unnest_insert(&table, false);
        assert!(
            sql.contains(
                "UNNEST($1::text[], $2::text[], $3::jsonb[], $4::jsonb[], $5::jsonb[], $6::text[]"
            ),
            "{sql}"
        );
        assert!(
            sql.contains("$11::int8[]") && sql.ends_with("$14::timestamptz[])"),
            "{sql}"
        );
        let with_ids = unnest_insert(&table, true);
        assert!(
            with_ids.ends_with("$15::text[]) ON CONFLICT (\"event_id\") DO NOTHING"),
            "{with_ids}"
        );
    }
}
