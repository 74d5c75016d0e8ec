//! The SQL of one log table (or of the outbox) on one database, built once
//! from the column list and the dialect.

use std::sync::atomic::{AtomicBool, Ordering};

use awesome_audit_log_codegen::ddl::{
    COLUMNS, Column, ColumnKind, OUTBOX_TABLE, create_outbox_table, create_table, insert_columns,
    insert_columns_with_event_id,
};

use crate::Dialect;

/// The statements that write rows into one table: a log table, or the
/// outbox holding rows meant for one log table.
#[derive(Debug)]
pub struct TableSql {
    /// Quoted, schema-qualified table name.
    pub qualified: String,
    /// What creates the table when it is missing, in order: `CREATE SCHEMA
    /// IF NOT EXISTS` (PostgreSQL with PG_SCHEMA), then `CREATE TABLE IF
    /// NOT EXISTS`.
    pub create: Vec<String>,
    /// `INSERT INTO t (columns) ` without `event_id` (the values follow).
    insert: String,
    /// The same with the `event_id` column, for rows that carry event ids.
    insert_with_event_id: String,
    /// What makes an insert of rows with event ids skip those already there.
    on_duplicate_event: String,
    /// For the outbox: the log table its rows are meant for (bound as its
    /// last column).
    pub outbox_for: Option<String>,
    /// Whether a committed insert proved the table exists.
    known: AtomicBool,
}

impl TableSql {
    /// The log table `log_table`.
    pub(crate) fn log(dialect: Dialect, schema: Option<&str>, log_table: &str) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let qualified = dialect.qualified(schema, log_table);
        Self {
            create: create_schema(dialect, schema)
                .into_iter()
                .chain([create_table(dialect, schema, log_table)])
                .collect(),
            insert: format!(
                "INSERT INTO {qualified} ({}) ",
                quote_all(dialect, insert_columns())
            ),
            insert_with_event_id: format!(
                "INSERT INTO {qualified} ({}) ",
                quote_all(dialect, insert_columns_with_event_id())
            ),
            on_duplicate_event: on_duplicate_event(dialect, log_table),
            qualified,
            outbox_for: None,
            known: AtomicBool::new(false),
        }
    }

    /// The outbox, for rows meant for `log_table`: every row carries an
    /// event id, and the log table's name is bound as the last column.
    pub(crate) fn outbox(dialect: Dialect, schema: Option<&str>, log_table: &str) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let mut table = Self::log(dialect, schema, OUTBOX_TABLE);
        let insert = quote_names(
            dialect,
            COLUMNS[1..].iter().map(|c| c.name).chain(["log_table"]),
        );
        table.create = create_schema(dialect, schema)
            .into_iter()
            .chain([create_outbox_table(dialect, schema)])
            .collect();
        table.insert_with_event_id = format!("INSERT INTO {} ({insert}) ", table.qualified);
        table.on_duplicate_event = String::new();
        table.outbox_for = Some(log_table.to_owned());
        table
    }

    /// The start of an INSERT of `with_event_id` rows: the table and its
    /// columns; the values follow.
    pub(crate) fn insert_prefix(&self, with_event_id: bool) -> &str {
        if with_event_id {
            &self.insert_with_event_id
        } else {
            &self.insert
        }
    }

    /// What ends an INSERT of `with_event_id` rows: rows with an event id
    /// already in the table are skipped.
    pub(crate) fn on_duplicate(&self, with_event_id: bool) -> &str {
        if with_event_id {
            &self.on_duplicate_event
        } else {
            ""
        }
    }

    /// Whether the table is known to exist (no first-use handling needed).
    pub(crate) fn is_known(&self) -> bool {
        self.known.load(Ordering::Relaxed)
    }

    /// Remembers that the table exists: only once its creation (or a row
    /// in it) is committed.
    pub(crate) fn mark_known(&self) {
        self.known.store(true, Ordering::Relaxed);
    }

    /// Forgets that the table exists (it was renamed or dropped): the next
    /// write inside a transaction takes the first-use path again.
    pub(crate) fn forget(&self) {
        self.known.store(false, Ordering::Relaxed);
    }
}

/// The statements an outbox worker reads and clears the outbox with.
#[derive(Debug)]
pub struct OutboxSql {
    /// `SELECT ... ORDER BY id LIMIT ?`, with row locking that lets
    /// workers share the work where the database has it.
    pub select: String,
    /// `DELETE FROM outbox WHERE id IN ` (the list follows).
    pub delete: String,
}

impl OutboxSql {
    pub(crate) fn new(dialect: Dialect, schema: Option<&str>) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let qualified = dialect.qualified(schema, OUTBOX_TABLE);
        let columns = format!(
            "{}, {}",
            read_list(dialect, &COLUMNS),
            dialect.quote("log_table")
        );
        let lock = match dialect {
            Dialect::Postgres | Dialect::MySql => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let id = dialect.quote("id");
        Self {
            select: format!(
                "SELECT {columns} FROM {qualified} ORDER BY {id} LIMIT {}{lock}",
                placeholder(dialect)
            ),
            delete: format!("DELETE FROM {qualified} WHERE {id} IN "),
        }
    }
}

/// The first bind placeholder of a statement.
fn placeholder(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "$1",
        Dialect::MySql | Dialect::Sqlite => "?",
    }
}

/// The columns a row is read with, by name: JSON columns as their text on
/// PostgreSQL (`"before"::text AS "before"`), which the backend layer parses
/// itself ([`super::json_text`]), every other column as it is.
pub(super) fn read_list(dialect: Dialect, columns: &[Column]) -> String {
    columns
        .iter()
        .map(|column| {
            let name = dialect.quote(column.name);
            match (dialect, column.kind) {
                (Dialect::Postgres, ColumnKind::Json) => format!("{name}::text AS {name}"),
                _ => name,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What makes an insert into `table` skip rows whose event id is already
/// there. On MySQL the column is qualified with the table, so that the
/// clause also reads right after `INSERT ... SELECT` from another table
/// with an `event_id` column.
pub(super) fn on_duplicate_event(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres | Dialect::Sqlite => " ON CONFLICT (\"event_id\") DO NOTHING".to_owned(),
        Dialect::MySql => {
            let column = format!("{}.{}", dialect.quote(table), dialect.quote("event_id"));
            format!(" ON DUPLICATE KEY UPDATE {column} = {column}")
        }
    }
}

pub(super) fn create_schema(dialect: Dialect, schema: Option<&str>) -> Option<String> {
    schema.map(|schema| format!("CREATE SCHEMA IF NOT EXISTS {}", dialect.quote(schema)))
}

pub(super) fn quote_all(dialect: Dialect, columns: &[Column]) -> String {
    quote_names(dialect, columns.iter().map(|c| c.name))
}

fn quote_names<'a>(dialect: Dialect, names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| dialect.quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL's JSONB is read as text, which the backend parses.
    #[test]
    fn json_columns_are_read_as_text_on_postgres() {
        assert!(
            read_list(Dialect::Postgres, &COLUMNS)
                .starts_with("\"id\", \"action\", \"object_pk\", \"before\"::text AS \"before\", ")
        );
        let outbox = OutboxSql::new(Dialect::Postgres, None);
        assert!(
            outbox
                .select
                .contains(", \"changes\"::text AS \"changes\", \"entry_point\", ")
        );
        assert!(outbox.select.contains("\"event_id\", \"log_table\" FROM "));
        let sqlite = OutboxSql::new(Dialect::Sqlite, None);
        assert!(sqlite.select.contains(", \"changes\", \"entry_point\", "));
    }
}
