//! The dead-letter table's SQL and binding: rows a transport could not
//! write, with the reason. Written client-side for rows the in-process
//! writer holds, and copied server-side from the outbox for outbox rows,
//! so even a row that cannot be decoded is kept as it was.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use awesome_audit_log_codegen::ddl::{
    COLUMNS, DEAD_LETTER_TABLE, OUTBOX_TABLE, create_dead_letter_table, dead_letter_columns,
};

use super::table::{create_schema, on_duplicate_event, quote_all, read_list};

use crate::Dialect;
use crate::event::LogEvent;

/// One row for the dead-letter table.
#[derive(Debug)]
pub struct DeadLetter<'a> {
    /// The log table the row was meant for.
    pub log_table: &'a str,
    /// The row.
    pub event: Cow<'a, LogEvent>,
    /// Why it could not be written.
    pub reason: String,
}

/// The statements of one database's dead-letter table.
#[derive(Debug)]
pub struct DeadLetterSql {
    /// What creates the table (and its PostgreSQL schema) when missing.
    pub create: Vec<String>,
    /// `INSERT INTO dead (columns) ` (the values follow).
    insert: String,
    /// Skips rows whose event id is already there (a retried dead-letter).
    on_duplicate: String,
    /// Copies one outbox row, by id, with a reason and a time.
    pub copy_from_outbox: String,
}

impl DeadLetterSql {
    pub(crate) fn new(dialect: Dialect, schema: Option<&str>) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let qualified = dialect.qualified(schema, DEAD_LETTER_TABLE);
        let names = quote_all(dialect, &dead_letter_columns());
        // The outbox's columns (JSON read as text), its log table, then the
        // reason and the time.
        let copied = read_list(dialect, &COLUMNS[1..]);
        let [reason, failed_at, id] = match dialect {
            Dialect::Postgres => ["$1", "$2", "$3"],
            Dialect::MySql | Dialect::Sqlite => ["?", "?", "?"],
        };
        let on_duplicate = on_duplicate_event(dialect, DEAD_LETTER_TABLE);
        Self {
            create: create_schema(dialect, schema)
                .into_iter()
                .chain([create_dead_letter_table(dialect, schema)])
                .collect(),
            insert: format!("INSERT INTO {qualified} ({names}) "),
            copy_from_outbox: format!(
                "INSERT INTO {qualified} ({names}) SELECT {copied}, {}, {reason}, {failed_at} FROM {} WHERE {} = {id}{on_duplicate}",
                dialect.quote("log_table"),
                dialect.qualified(schema, OUTBOX_TABLE),
                dialect.quote("id"),
            ),
            on_duplicate,
        }
    }
}

/// `INSERT INTO dead (columns) VALUES (...), (...)` of `rows`, failed at
/// `failed_at`, timestamps bound as `timestamp` makes them.
pub(crate) fn insert<DB, T>(
    dialect: Dialect,
    sql: &DeadLetterSql,
    rows: &[DeadLetter<'_>],
    failed_at: DateTime<Utc>,
    timestamp: fn(DateTime<Utc>) -> T,
) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<Cow<'t, str>>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> T: Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(&sql.insert);
    query.push_values(rows, |mut tuple, row| {
        super::bind::push_values(&mut tuple, dialect, &row.event, timestamp);
        tuple.push_bind(row.event.event_id.as_deref());
        tuple.push_bind(Some(row.log_table));
        tuple.push_bind(Some(row.reason.as_str()));
        tuple.push_bind(timestamp(failed_at));
    });
    query.push(&sql.on_duplicate);
    query
}
