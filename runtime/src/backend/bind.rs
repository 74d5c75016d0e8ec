//! Binding log rows: a multi-row `VALUES` insert for the backends that use
//! one (MySQL, SQLite), built from each row's [`ColumnValue`]s in column
//! order, context values [fitted](super::fit) to their columns.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::query_builder::Separated;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::fit::fit_column;
use super::{TableShape, TableSql};
use crate::Dialect;
use crate::event::{ColumnValue, LogEvent};

/// Whether the rows of one insert carry event ids (delivered events; all
/// rows of one insert do, or none).
pub(crate) fn with_event_id(rows: &[LogEvent]) -> bool {
    rows.first().is_some_and(|row| row.event_id.is_some())
}

#[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
/// `INSERT INTO t (columns) VALUES (...), (...)` of `rows` into a table of
/// `shape` in `dialect`, with context values cut to fit their columns and
/// timestamps bound as `timestamp` makes them, ending with the clause that
/// skips event ids already in the table.
pub(crate) fn values_insert<'a, DB, T>(
    dialect: Dialect,
    table: &'a TableSql,
    shape: TableShape,
    rows: &'a [LogEvent],
    timestamp: fn(DateTime<Utc>) -> T,
) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<Cow<'t, str>>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> T: Encode<'t, DB> + Type<DB>,
{
    let written = shape.for_rows(rows);
    let mut query = QueryBuilder::new(table.insert_prefix(written));
    query.push_values(rows, |mut tuple, row| {
        push_values(&mut tuple, dialect, written, row, timestamp);
        if let Some(log_table) = &table.outbox_for {
            tuple.push_bind(Some(log_table.as_str()));
        }
    });
    query.push(table.on_duplicate(written));
    query
}

/// Binds the row's values of the columns `written` has, in column order,
/// to `tuple`: context values cut to fit their columns, timestamps as
/// `timestamp` makes them.
pub(crate) fn push_values<DB, T>(
    tuple: &mut Separated<'_, DB, &'static str>,
    dialect: Dialect,
    written: TableShape,
    row: &LogEvent,
    timestamp: fn(DateTime<Utc>) -> T,
) where
    DB: Database,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<Cow<'t, str>>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> T: Encode<'t, DB> + Type<DB>,
{
    let values = row.values();
    for (index, column) in written.insert_columns() {
        match values[index] {
            ColumnValue::Text(text) => {
                tuple.push_bind(text.map(|text| fit_column(column, dialect, text)))
            }
            ColumnValue::Json(json) => tuple.push_bind(json),
            ColumnValue::BigInt(number) => tuple.push_bind(number),
            ColumnValue::Timestamp(at) => tuple.push_bind(timestamp(at)),
        };
    }
}
