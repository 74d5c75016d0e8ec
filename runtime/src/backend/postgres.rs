//! PostgreSQL: JSONB and TIMESTAMPTZ, rows inserted as column arrays.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row};

use awesome_audit_log_codegen::ddl::ColumnKind;

use super::fit::fit_column;
use super::{TableDef, TableShape, TableSql};
use crate::event::{ColumnValue, LogEvent};

super::impl_backend!(
    sqlx::Postgres,
    PostgresDriver,
    Postgres,
    crate::Dialect::Postgres,
    PgRow
);

/// Retention batches run as single statements in the default isolation
/// (read committed): they lock only the rows they delete.
const SWEEP_ISOLATION: Option<&str> = None;

/// Timestamps are bound as `TIMESTAMPTZ`.
fn bind_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

/// PostgreSQL takes statements of any size this library writes (a single
/// value is limited to 1 GB, which the value itself reports).
async fn max_statement_bytes(_: &mut PgConnection) -> Result<Option<u64>, sqlx::Error> {
    Ok(None)
}

/// The columns of a table: those `pg_attribute` lists for the relation
/// the name resolves to (in the search path when it is not qualified, as
/// the INSERT resolves it). `to_regclass` is NULL for a missing table
/// rather than an error, so the query cannot abort the caller's
/// transaction.
async fn table_columns(
    conn: &mut PgConnection,
    table: &TableDef,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT attname::text FROM pg_catalog.pg_attribute \
         WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
    )
    .bind(&table.qualified)
    .fetch_all(conn)
    .await
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
    shape: TableShape,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let written = shape.for_rows(rows);
    let values: Vec<_> = rows.iter().map(LogEvent::values).collect();
    let sql = unnest_insert(table, written);
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for (index, column) in written.insert_columns() {
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
/// arrays typed after the columns `written` has, then the duplicate-event
/// clause.
fn unnest_insert(table: &TableSql, written: TableShape) -> String {
    let outbox = table.outbox_for.as_ref().map(|_| "text");
    let arrays = written
        .insert_columns()
        .map(|(_, column)| array_type(column.kind))
        .chain(outbox)
        .enumerate()
        .map(|(i, ty)| format!("${}::{ty}[]", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{}SELECT * FROM UNNEST({arrays}){}",
        table.insert_prefix(written),
        table.on_duplicate(written)
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
        let table = TableSql::log(crate::Dialect::Postgres, None, "widget_log", None);
        let django = TableShape {
            event_id: false,
            correlation_id: false,
            ..TableShape::FULL
        };
        let sql = unnest_insert(&table, django);
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
        let with_ids = unnest_insert(
            &table,
            TableShape {
                correlation_id: false,
                ..TableShape::FULL
            },
        );
        assert!(
            with_ids.ends_with("$15::text[]) ON CONFLICT DO NOTHING"),
            "{with_ids}"
        );
        let full = unnest_insert(&table, TableShape::FULL);
        assert!(
            full.ends_with("$15::text[], $16::text[]) ON CONFLICT DO NOTHING"),
            "{full}"
        );
        let outbox = TableSql::outbox(crate::Dialect::Postgres, None, "widget_log");
        let sql = unnest_insert(&outbox, TableShape::FULL);
        assert!(sql.ends_with("$16::text[], $17::text[])"), "{sql}");
    }
}
