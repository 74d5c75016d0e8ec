//! The dead-letter table's SQL and binding: rows a transport could not
//! write, with the reason. Written client-side for rows the in-process
//! writer holds, and copied server-side from the outbox for outbox rows,
//! so even a row that cannot be decoded is kept as it was.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use awesome_audit_log_codegen::ddl::{
    ColumnKind, DEAD_LETTER_TABLE, OUTBOX_TABLE, create_dead_letter_table,
};

use super::table::{
    TableDef, TableShape, for_shape, insert_prefix, on_duplicate_event, per_shape, read_list,
};

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

/// The columns after the log row's.
const TAIL: [&str; 3] = ["log_table", "reason", "failed_at"];

/// The statements of one database's dead-letter table.
#[derive(Debug)]
pub struct DeadLetterSql {
    /// The table itself (its shape: with `correlation_id` or, made by an
    /// earlier version, without).
    pub def: TableDef,
    /// `INSERT INTO dead (columns) ` per shape written (the values follow).
    inserts: [String; 4],
    /// Skips rows whose event id is already there (a retried dead-letter).
    on_duplicate: String,
    /// Per shape written, what copies one outbox row, by id, with a reason
    /// and a time.
    copies: [String; 4],
}

impl DeadLetterSql {
    pub(crate) fn new(dialect: Dialect, schema: Option<&str>) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let def = TableDef::new(
            dialect,
            schema,
            DEAD_LETTER_TABLE,
            vec![create_dead_letter_table(dialect, schema)],
        );
        let qualified = &def.qualified;
        let [reason, failed_at, id] = match dialect {
            Dialect::Postgres => ["$1", "$2", "$3"],
            Dialect::MySql | Dialect::Sqlite => ["?", "?", "?"],
        };
        let on_duplicate = on_duplicate_event(dialect, DEAD_LETTER_TABLE);
        let outbox = dialect.qualified(schema, OUTBOX_TABLE);
        Self {
            inserts: per_shape(|shape| insert_prefix(dialect, qualified, shape, &TAIL)),
            // The outbox's columns (JSON read as text), its log table, then
            // the reason and the time.
            copies: per_shape(|shape| {
                let columns: Vec<_> = shape.insert_columns().map(|(_, c)| *c).collect();
                format!(
                    "{}SELECT {}, {}, {reason}, {failed_at} FROM {outbox} WHERE {} = {id}{on_duplicate}",
                    insert_prefix(dialect, qualified, shape, &TAIL),
                    read_list(dialect, &columns),
                    dialect.quote("log_table"),
                    dialect.quote("id"),
                )
            }),
            on_duplicate,
            def,
        }
    }

    /// What a row is written with into a dead-letter table of `shape`: its
    /// event id always (the column is there since the table's first
    /// version), its correlation id where the table has the column.
    pub(crate) fn written(shape: TableShape) -> TableShape {
        TableShape {
            event_id: true,
            ..shape
        }
    }

    /// What copies an outbox row of `outbox` shape into a dead-letter
    /// table of `dead` shape: the columns both have.
    pub(crate) fn copy_from_outbox(&self, dead: TableShape, outbox: TableShape) -> &str {
        let written = TableShape {
            correlation_id: dead.correlation_id && outbox.correlation_id,
            ..Self::written(dead)
        };
        for_shape(&self.copies, written)
    }
}

/// What moves one dead letter, by id, back into the outbox of the same
/// database (for the outbox workers to write): the columns both tables
/// have, the JSON text cast back to JSON on PostgreSQL, an event id already
/// in the outbox skipped; then what deletes it. Rows without an event id
/// are neither copied nor deleted: without it a replay could write twice.
pub(crate) fn requeue(
    dialect: Dialect,
    schema: Option<&str>,
    dead: TableShape,
    outbox: TableShape,
) -> (String, String) {
    let schema = schema.filter(|_| dialect == Dialect::Postgres);
    let written = TableShape {
        event_id: true,
        correlation_id: dead.correlation_id && outbox.correlation_id,
        ..TableShape::FULL
    };
    let select: Vec<String> = written
        .insert_columns()
        .map(|(_, column)| {
            let name = dialect.quote(column.name);
            match (column.kind, dialect) {
                (ColumnKind::Json, Dialect::Postgres) => format!("CAST({name} AS jsonb)"),
                _ => name,
            }
        })
        .collect();
    let dead_table = dialect.qualified(schema, DEAD_LETTER_TABLE);
    let [id, event_id] = [dialect.quote("id"), dialect.quote("event_id")];
    let placeholder = match dialect {
        Dialect::Postgres => "$1",
        Dialect::MySql | Dialect::Sqlite => "?",
    };
    let from = format!("FROM {dead_table} WHERE {id} = {placeholder} AND {event_id} IS NOT NULL");
    let insert = format!(
        "{}SELECT {}, {} {from}{}",
        insert_prefix(
            dialect,
            &dialect.qualified(schema, OUTBOX_TABLE),
            written,
            &["log_table"]
        ),
        select.join(", "),
        dialect.quote("log_table"),
        on_duplicate_event(dialect, OUTBOX_TABLE),
    );
    (insert, format!("DELETE {from}"))
}

/// `INSERT INTO dead (columns) VALUES (...), (...)` of `rows` into a
/// dead-letter table of `shape`, failed at `failed_at`, timestamps bound
/// as `timestamp` makes them.
pub(crate) fn insert<DB, T>(
    dialect: Dialect,
    sql: &DeadLetterSql,
    shape: TableShape,
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
    let written = DeadLetterSql::written(shape);
    let mut query = QueryBuilder::new(for_shape(&sql.inserts, written));
    query.push_values(rows, |mut tuple, row| {
        super::bind::push_values(&mut tuple, dialect, written, &row.event, timestamp);
        tuple.push_bind(Some(row.log_table));
        tuple.push_bind(Some(row.reason.as_str()));
        tuple.push_bind(timestamp(failed_at));
    });
    query.push(&sql.on_duplicate);
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dead-letter table made before `correlation_id`, or an outbox made
    /// before it, is copied into without the column.
    #[test]
    fn requeues_cast_json_back_and_skip_queued_events() {
        let old = TableShape {
            correlation_id: false,
            ..TableShape::FULL
        };
        let (insert, delete) = requeue(Dialect::Postgres, Some("audit"), TableShape::FULL, old);
        assert!(
            insert.starts_with("INSERT INTO \"audit\".\"awesome_audit_log_outbox\" ("),
            "{insert}"
        );
        assert!(insert.contains("CAST(\"before\" AS jsonb)"), "{insert}");
        assert!(!insert.contains("correlation_id"), "{insert}");
        assert!(insert.ends_with("WHERE \"id\" = $1 AND \"event_id\" IS NOT NULL ON CONFLICT (\"event_id\") DO NOTHING"), "{insert}");
        assert_eq!(
            delete,
            "DELETE FROM \"audit\".\"awesome_audit_log_dead_letter\" WHERE \"id\" = $1 AND \"event_id\" IS NOT NULL"
        );
        let (insert, _) = requeue(
            Dialect::MySql,
            Some("audit"),
            TableShape::FULL,
            TableShape::FULL,
        );
        assert!(
            insert.contains("`correlation_id`, `log_table`) SELECT"),
            "{insert}"
        );
        assert!(
            !insert.contains("CAST") && !insert.contains("`audit`"),
            "{insert}"
        );
    }

    #[test]
    fn copies_take_the_columns_both_tables_have() {
        let sql = DeadLetterSql::new(Dialect::Postgres, None);
        let old = TableShape {
            correlation_id: false,
            ..TableShape::FULL
        };
        let full = sql.copy_from_outbox(TableShape::FULL, TableShape::FULL);
        assert!(
            full.contains("\"event_id\", \"correlation_id\", \"log_table\", \"reason\", \"failed_at\") SELECT "),
            "{full}"
        );
        assert!(full.contains("\"correlation_id\", \"log_table\", $1, $2 FROM \"awesome_audit_log_outbox\" WHERE \"id\" = $3 ON CONFLICT"));
        for (dead, outbox) in [(old, TableShape::FULL), (TableShape::FULL, old), (old, old)] {
            let copy = sql.copy_from_outbox(dead, outbox);
            assert!(!copy.contains("correlation_id"), "{copy}");
            assert!(copy.contains("\"event_id\", \"log_table\""), "{copy}");
        }
    }
}
