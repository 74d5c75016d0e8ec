//! The one decoder of log rows, for every backend: each backend says how
//! its rows hold text, integers, JSON and timestamps ([`ReadColumns`]), and
//! the decoder reads the columns by name. Rows are untrusted input: a value
//! of the wrong kind is an error naming the column, never a panic.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::LogRecord;

/// How one backend's rows hold each kind of column.
pub(crate) trait ReadColumns {
    /// A text column.
    fn text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    /// A 64-bit integer column.
    fn big_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    /// A JSON column.
    fn json(&self, column: &str) -> Result<Option<Value>, sqlx::Error>;
    /// A timestamp column (UTC).
    fn timestamp(&self, column: &str) -> Result<DateTime<Utc>, sqlx::Error>;
}

/// A row of the outbox, by its id: the event and the log table it is
/// meant for, or why they cannot be read (the row is kept as it is, for the
/// dead-letter table).
#[derive(Debug)]
pub struct OutboxRow {
    /// The outbox row's id.
    pub id: i64,
    /// What the row holds, or why it cannot be read.
    pub content: Result<OutboxContent, String>,
}

/// What an outbox row holds.
#[derive(Debug)]
pub struct OutboxContent {
    /// The log table the event belongs in.
    pub log_table: String,
    /// The event's id.
    pub event_id: String,
    /// The event's columns (its `id` is the outbox row's).
    pub record: LogRecord,
}

/// A log row, read by column name.
pub(crate) fn record(row: &impl ReadColumns) -> Result<LogRecord, sqlx::Error> {
    let action = required(row.text("action")?, "action")?;
    Ok(LogRecord {
        id: required(row.big_int("id")?, "id")?,
        action: action.parse().map_err(|e| decode_error("action", e))?,
        object_pk: required(row.text("object_pk")?, "object_pk")?,
        before: row.json("before")?,
        after: row.json("after")?,
        changes: row.json("changes")?,
        entry_point: row.text("entry_point")?,
        route: row.text("route")?,
        path: row.text("path")?,
        method: row.text("method")?,
        ip: row.text("ip")?,
        user_id: row.big_int("user_id")?,
        user_name: row.text("user_name")?,
        user_agent: row.text("user_agent")?,
        created_at: row.timestamp("created_at")?,
        correlation_id: optional(row.text("correlation_id"))?,
    })
}

/// An outbox row: its id (an error only if even that cannot be read), and
/// the log row's columns, its event id and its log table, or why not.
pub(crate) fn outbox_row(row: &impl ReadColumns) -> Result<OutboxRow, sqlx::Error> {
    let id = required(row.big_int("id")?, "id")?;
    let content = (|| {
        Ok::<_, sqlx::Error>(OutboxContent {
            record: record(row)?,
            log_table: required(row.text("log_table")?, "log_table")?,
            event_id: required(row.text("event_id")?, "event_id")?,
        })
    })()
    .map_err(|e| e.to_string());
    Ok(OutboxRow { id, content })
}

/// A column that tables made by the Django original or by older versions
/// do not have: read as `None` when the row has no such column.
fn optional<T>(value: Result<Option<T>, sqlx::Error>) -> Result<Option<T>, sqlx::Error> {
    match value {
        Err(sqlx::Error::ColumnNotFound(_)) => Ok(None),
        other => other,
    }
}

fn required<T>(value: Option<T>, column: &str) -> Result<T, sqlx::Error> {
    value.ok_or_else(|| decode_error(column, "unexpected NULL"))
}

/// A column whose value could not be decoded.
pub(crate) fn decode_error(
    column: &str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: source.into(),
    }
}
