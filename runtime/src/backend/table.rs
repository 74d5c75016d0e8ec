//! The SQL of one log table (or of the outbox) on one database, built once
//! from the column list and the dialect, and what the write path knows of
//! the table itself: whether it has the columns that not every log table
//! has ([`TableShape`]), learned once per process.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use awesome_audit_log_codegen::ddl::{
    COLUMNS, CORRELATION_ID, Column, ColumnKind, EVENT_ID, OUTBOX_TABLE, all_insert_columns,
    create_outbox_table, create_table_statements,
};
use awesome_audit_log_codegen::partition::{PartitionBy, create_partitioned_table_statements_with};

use super::bind::with_event_id;
use super::partitions::first_partitions;
use crate::Dialect;
use crate::event::LogEvent;

/// Which of the columns that not every log table has a table has: tables
/// created by the Django original have neither `event_id` nor
/// `correlation_id`, tables created by earlier versions of this library no
/// `correlation_id`. Rows are written with the columns their table has,
/// and read back with `None` for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableShape {
    /// Whether the table exists at all.
    pub exists: bool,
    /// Whether it has the `event_id` column.
    pub event_id: bool,
    /// Whether it has the `correlation_id` column.
    pub correlation_id: bool,
}

impl TableShape {
    /// A table with every column, as this version creates it.
    pub(crate) const FULL: Self = Self {
        exists: true,
        event_id: true,
        correlation_id: true,
    };

    /// The shape of a table with the columns `names`; no names: a table
    /// that does not exist.
    pub(crate) fn of<S: AsRef<str>>(names: &[S]) -> Self {
        let has = |column: &str| names.iter().any(|name| name.as_ref() == column);
        Self {
            exists: !names.is_empty(),
            event_id: has(EVENT_ID),
            correlation_id: has(CORRELATION_ID),
        }
    }

    /// What an insert of `rows` into a table of this shape writes: the
    /// table's columns, without `event_id` when the rows carry none.
    pub(crate) fn for_rows(self, rows: &[LogEvent]) -> Self {
        Self {
            event_id: self.event_id && with_event_id(rows),
            ..self
        }
    }

    /// Whether a table of this shape has `column` (one of the log table's).
    pub(crate) fn has(self, column: &Column) -> bool {
        match column.name {
            EVENT_ID => self.event_id,
            CORRELATION_ID => self.correlation_id,
            _ => true,
        }
    }

    /// The columns a row writes into a table of this shape, each with its
    /// index among [`all_insert_columns`] (and in
    /// [`LogEvent::values`](crate::event::LogEvent::values)).
    pub(crate) fn insert_columns(self) -> impl Iterator<Item = (usize, &'static Column)> {
        all_insert_columns()
            .iter()
            .enumerate()
            .filter(move |(_, column)| self.has(column))
    }

    /// Every shape a row may be written with, by [`slot`](Self::slot).
    const WRITTEN: [Self; 4] = [
        Self::written(false, false),
        Self::written(true, false),
        Self::written(false, true),
        Self::written(true, true),
    ];

    const fn written(event_id: bool, correlation_id: bool) -> Self {
        Self {
            exists: true,
            event_id,
            correlation_id,
        }
    }

    /// The index of this shape's statement among those built per shape.
    fn slot(self) -> usize {
        usize::from(self.event_id) + 2 * usize::from(self.correlation_id)
    }

    fn encode(self) -> u8 {
        1 | u8::from(self.event_id) << 1 | u8::from(self.correlation_id) << 2
    }

    fn decode(bits: u8) -> Option<Self> {
        (bits & 1 == 1).then_some(Self {
            exists: true,
            event_id: bits & 2 != 0,
            correlation_id: bits & 4 != 0,
        })
    }
}

/// A statement per shape a row may be written with, made by `build`.
pub(super) fn per_shape(build: impl Fn(TableShape) -> String) -> [String; 4] {
    TableShape::WRITTEN.map(build)
}

/// The statement of `per_shape` for `shape`.
pub(super) fn for_shape(statements: &[String; 4], shape: TableShape) -> &str {
    &statements[shape.slot()]
}

/// A table the write path writes to: its name, its quoted (on PostgreSQL
/// schema-qualified) reference, what creates it, and its shape once
/// learned. The shape is learned once per process; a table that does not
/// exist is not remembered, and a table that has gone is forgotten.
#[derive(Debug)]
pub struct TableDef {
    /// The table's name, unquoted.
    pub name: String,
    /// Quoted, schema-qualified table name.
    pub qualified: String,
    /// What creates the table when it is missing, in order: `CREATE SCHEMA
    /// IF NOT EXISTS` (PostgreSQL with PG_SCHEMA), then `CREATE TABLE IF
    /// NOT EXISTS` and, for a log table, its indexes.
    pub create: Vec<String>,
    /// The shape, once learned ([`TableShape::encode`]; 0 while unknown).
    shape: AtomicU8,
}

impl TableDef {
    pub(crate) fn new(
        dialect: Dialect,
        schema: Option<&str>,
        name: &str,
        table: Vec<String>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            qualified: dialect.qualified(schema, name),
            create: create_schema(dialect, schema)
                .into_iter()
                .chain(table)
                .collect(),
            shape: AtomicU8::new(0),
        }
    }

    /// The outbox table.
    fn outbox(dialect: Dialect, schema: Option<&str>) -> Self {
        Self::new(
            dialect,
            schema,
            OUTBOX_TABLE,
            vec![create_outbox_table(dialect, schema)],
        )
    }

    /// The table's shape, if it was learned.
    pub(crate) fn shape(&self) -> Option<TableShape> {
        TableShape::decode(self.shape.load(Ordering::Relaxed))
    }

    /// Remembers the table's shape, if the table exists.
    pub(crate) fn remember(&self, shape: TableShape) {
        if shape.exists {
            self.shape.store(shape.encode(), Ordering::Relaxed);
        }
    }

    /// Forgets the table's shape: it has gone, and a new one may differ.
    pub(crate) fn forget_shape(&self) {
        self.shape.store(0, Ordering::Relaxed);
    }
}

/// The statements that write rows into one table: a log table, or the
/// outbox holding rows meant for one log table.
#[derive(Debug)]
pub struct TableSql {
    /// The table itself.
    pub def: TableDef,
    /// `INSERT INTO t (columns) ` per shape written (the values follow).
    inserts: [String; 4],
    /// What makes an insert of rows with event ids skip those already there.
    on_duplicate_event: String,
    /// For the outbox: the log table its rows are meant for (bound as its
    /// last column).
    pub outbox_for: Option<String>,
    /// Whether a committed insert proved the table exists.
    known: AtomicBool,
}

impl TableSql {
    /// The log table `log_table`, partitioned by `partition` on
    /// PostgreSQL: created with its DEFAULT partition and the partitions
    /// of the current and the next interval.
    pub(crate) fn log(
        dialect: Dialect,
        schema: Option<&str>,
        log_table: &str,
        partition: Option<PartitionBy>,
    ) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let create = match (dialect, partition) {
            (Dialect::Postgres, Some(by)) => create_partitioned_table_statements_with(
                schema,
                log_table,
                first_partitions(schema, log_table, by, chrono::Utc::now()),
            ),
            _ => create_table_statements(dialect, schema, log_table),
        };
        let def = TableDef::new(dialect, schema, log_table, create);
        let qualified = &def.qualified;
        Self {
            inserts: per_shape(|shape| insert_prefix(dialect, qualified, shape, &[])),
            on_duplicate_event: on_duplicate_logged_event(dialect, log_table),
            outbox_for: None,
            known: AtomicBool::new(false),
            def,
        }
    }

    /// The outbox, for rows meant for `log_table`: every row carries an
    /// event id, and the log table's name is bound as the last column.
    pub(crate) fn outbox(dialect: Dialect, schema: Option<&str>, log_table: &str) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let def = TableDef::outbox(dialect, schema);
        let qualified = &def.qualified;
        Self {
            inserts: per_shape(|shape| insert_prefix(dialect, qualified, shape, &["log_table"])),
            on_duplicate_event: String::new(),
            outbox_for: Some(log_table.to_owned()),
            def,
            ..Self::log(dialect, schema, OUTBOX_TABLE, None)
        }
    }

    /// The start of an INSERT that writes the columns of `written`
    /// ([`TableShape::for_rows`]): the table and its columns; the values
    /// follow.
    pub(crate) fn insert_prefix(&self, written: TableShape) -> &str {
        for_shape(&self.inserts, written)
    }

    /// What ends an INSERT that writes the columns of `written`: rows with
    /// an event id already in the table are skipped.
    pub(crate) fn on_duplicate(&self, written: TableShape) -> &str {
        if written.event_id {
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

    /// Forgets that the table exists, and its shape (it was renamed or
    /// dropped): the next write takes the first-use path again.
    pub(crate) fn forget(&self) {
        self.known.store(false, Ordering::Relaxed);
        self.def.forget_shape();
    }
}

/// `INSERT INTO qualified (columns) `: the columns a row of `written`
/// writes, then `extra`.
pub(super) fn insert_prefix(
    dialect: Dialect,
    qualified: &str,
    written: TableShape,
    extra: &[&str],
) -> String {
    let names = quote_names(
        dialect,
        written
            .insert_columns()
            .map(|(_, column)| column.name)
            .chain(extra.iter().copied()),
    );
    format!("INSERT INTO {qualified} ({names}) ")
}

/// The statements an outbox worker reads and clears the outbox with.
#[derive(Debug)]
pub struct OutboxSql {
    /// The outbox table (the worker learns its shape; it never creates it).
    pub def: TableDef,
    /// `SELECT ... ORDER BY id LIMIT ?` per shape of the outbox, with row
    /// locking that lets workers share the work where the database has it.
    selects: [String; 4],
    /// `DELETE FROM outbox WHERE id IN ` (the list follows).
    pub delete: String,
}

impl OutboxSql {
    pub(crate) fn new(dialect: Dialect, schema: Option<&str>) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let def = TableDef::outbox(dialect, schema);
        let qualified = &def.qualified;
        let lock = match dialect {
            Dialect::Postgres | Dialect::MySql => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let id = dialect.quote("id");
        Self {
            selects: per_shape(|shape| {
                let columns: Vec<Column> = COLUMNS
                    .iter()
                    .filter(|column| shape.has(column))
                    .copied()
                    .collect();
                format!(
                    "SELECT {}, {} FROM {qualified} ORDER BY {id} LIMIT {}{lock}",
                    read_list(dialect, &columns),
                    dialect.quote("log_table"),
                    placeholder(dialect)
                )
            }),
            delete: format!("DELETE FROM {qualified} WHERE {id} IN "),
            def,
        }
    }

    /// The `SELECT` of an outbox of `shape` (its `event_id` is required).
    pub(crate) fn select(&self, shape: TableShape) -> &str {
        for_shape(
            &self.selects,
            TableShape {
                event_id: true,
                ..shape
            },
        )
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

/// What makes an insert into a log table skip rows whose event id is
/// already there. On PostgreSQL without a conflict target: a partitioned
/// log table's unique key on `event_id` includes `created_at` (which a
/// redelivered row carries unchanged), so `ON CONFLICT ("event_id")`
/// would name no constraint of it; every other key of a log table is the
/// generated `id`.
fn on_duplicate_logged_event(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => " ON CONFLICT DO NOTHING".to_owned(),
        Dialect::MySql | Dialect::Sqlite => on_duplicate_event(dialect, table),
    }
}

pub(super) fn create_schema(dialect: Dialect, schema: Option<&str>) -> Option<String> {
    schema.map(|schema| format!("CREATE SCHEMA IF NOT EXISTS {}", dialect.quote(schema)))
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
        let select = outbox.select(TableShape::FULL);
        assert!(select.contains(", \"changes\"::text AS \"changes\", \"entry_point\", "));
        assert!(select.contains("\"event_id\", \"correlation_id\", \"log_table\" FROM "));
        let sqlite = OutboxSql::new(Dialect::Sqlite, None);
        assert!(
            sqlite
                .select(TableShape::FULL)
                .contains(", \"changes\", \"entry_point\", ")
        );
    }

    /// An outbox made before `correlation_id` is read without it.
    #[test]
    fn old_outboxes_are_read_without_the_correlation_id() {
        let outbox = OutboxSql::new(Dialect::MySql, None);
        let old = TableShape::of(&["id", "event_id", "log_table"]);
        assert!(!old.correlation_id);
        let select = outbox.select(old);
        assert!(
            select.contains("`created_at`, `event_id`, `log_table` FROM "),
            "{select}"
        );
    }

    /// Each shape writes the columns its table has, in table order: the
    /// original's, then ours that the table has.
    #[test]
    fn inserts_name_the_columns_of_the_shape() {
        let table = TableSql::log(Dialect::Sqlite, None, "widget_log", None);
        let django = TableShape::of(&["id", "action", "created_at"]);
        let earlier = TableShape::of(&["id", "created_at", "event_id"]);
        let ends = |shape: TableShape| {
            let prefix = table.insert_prefix(shape);
            let columns = prefix.split_once(" (").unwrap().1;
            columns
                .trim_end_matches(") ")
                .rsplit(", ")
                .next()
                .unwrap()
                .to_owned()
        };
        assert_eq!(ends(django), "\"created_at\"");
        assert_eq!(ends(earlier), "\"event_id\"");
        assert_eq!(ends(TableShape::FULL), "\"correlation_id\"");
        let no_event = TableShape {
            event_id: false,
            ..TableShape::FULL
        };
        assert!(
            table
                .insert_prefix(no_event)
                .ends_with("\"created_at\", \"correlation_id\") ")
        );
        assert_eq!(table.on_duplicate(no_event), "");
        assert!(table.on_duplicate(TableShape::FULL).contains("ON CONFLICT"));
        assert_eq!(TableShape::FULL.insert_columns().count(), 16);
        assert_eq!(django.insert_columns().count(), 14);

        let outbox = TableSql::outbox(Dialect::Postgres, Some("audit"), "widget_log");
        assert!(
            outbox
                .insert_prefix(TableShape::FULL)
                .starts_with("INSERT INTO \"audit\".\"awesome_audit_log_outbox\" (\"action\", ")
        );
        assert!(
            outbox
                .insert_prefix(TableShape::FULL)
                .ends_with("\"event_id\", \"correlation_id\", \"log_table\") ")
        );
        assert_eq!(outbox.on_duplicate(TableShape::FULL), "");
        assert_eq!(outbox.def.create.len(), 2, "the schema, then the outbox");
    }

    /// A learned shape is kept until the table is forgotten; a missing
    /// table is not remembered.
    #[test]
    fn shapes_are_remembered_once_found() {
        let table = TableSql::log(Dialect::Postgres, None, "widget_log", None);
        assert_eq!(
            table.def.create.len(),
            7,
            "the table, its four indexes, the table of managed tables and the registration"
        );
        assert_eq!(table.def.shape(), None);
        let missing = TableShape::of::<&str>(&[]);
        assert!(!missing.exists);
        table.def.remember(missing);
        assert_eq!(table.def.shape(), None);
        for shape in TableShape::WRITTEN {
            table.def.remember(shape);
            assert_eq!(table.def.shape(), Some(shape));
        }
        table.mark_known();
        table.forget();
        assert!(!table.is_known());
        assert_eq!(table.def.shape(), None);
    }
}
