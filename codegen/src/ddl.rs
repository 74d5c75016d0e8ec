//! The log table's columns and its `CREATE TABLE` statement per SQL dialect.
//!
//! The columns, their order and their types are those of the Django original
//! (awesome-audit-log-django), so that services written with either library
//! can share log tables. One deliberate departure: on MySQL/MariaDB
//! `created_at` is `DATETIME(6)` holding UTC rather than `TIMESTAMP`, which
//! keeps microseconds and does not end in 2038. Existing `TIMESTAMP` tables
//! keep working: values are bound as real datetimes either way.

use std::fmt::Write as _;

/// A SQL dialect the log tables can live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// PostgreSQL (JSONB, TIMESTAMPTZ).
    Postgres,
    /// MySQL and MariaDB (JSON, back-quoted names, InnoDB).
    MySql,
    /// SQLite (JSON and timestamps as TEXT).
    Sqlite,
}

impl Dialect {
    /// Every dialect, in a fixed order.
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

    /// Short lower-case name: `postgres`, `mysql`, `sqlite`.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Quotes an identifier for this dialect, doubling the quote character
    /// inside it (`"` on PostgreSQL and SQLite, `` ` `` on MySQL), so the
    /// result is always one name whatever `ident` holds. Callers only pass
    /// validated plain identifiers (see
    /// [`crate::ident::is_plain_identifier`]) all the same; the quoting keeps
    /// reserved words such as `before` usable as column names.
    ///
    /// ```
    /// use awesome_audit_log_codegen::ddl::Dialect;
    ///
    /// assert_eq!(Dialect::Postgres.quote("before"), r#""before""#);
    /// assert_eq!(Dialect::Sqlite.quote(r#"a"b"#), r#""a""b""#);
    /// assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
    /// ```
    pub fn quote(self, ident: &str) -> String {
        let q = match self {
            Dialect::MySql => '`',
            Dialect::Postgres | Dialect::Sqlite => '"',
        };
        let mut quoted = String::with_capacity(ident.len() + 2);
        quoted.push(q);
        for c in ident.chars() {
            if c == q {
                quoted.push(q);
            }
            quoted.push(c);
        }
        quoted.push(q);
        quoted
    }

    /// The table reference `schema.table` (schema only on PostgreSQL), quoted.
    pub fn qualified(self, schema: Option<&str>, table: &str) -> String {
        match (self, schema) {
            (Dialect::Postgres, Some(schema)) => {
                format!("{}.{}", self.quote(schema), self.quote(table))
            }
            _ => self.quote(table),
        }
    }
}

/// What a column holds, whatever the dialect: the runtime binds and reads
/// each column by its kind (and derives PostgreSQL's array types from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// The row's generated id.
    Id,
    /// Text.
    Text,
    /// A JSON document (JSONB, JSON, or TEXT on SQLite).
    Json,
    /// A 64-bit integer.
    BigInt,
    /// A point in time, UTC.
    Timestamp,
}

/// One column of a log table with its type in each dialect.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// What the column holds.
    pub kind: ColumnKind,
    /// Type on PostgreSQL.
    pub postgres: &'static str,
    /// Type on MySQL/MariaDB.
    pub mysql: &'static str,
    /// Type on SQLite.
    pub sqlite: &'static str,
}

impl Column {
    /// The column's type in `dialect`.
    pub const fn sql_type(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::MySql => self.mysql,
            Dialect::Sqlite => self.sqlite,
        }
    }
}

const fn col(
    name: &'static str,
    kind: ColumnKind,
    postgres: &'static str,
    mysql: &'static str,
    sqlite: &'static str,
) -> Column {
    Column {
        name,
        kind,
        postgres,
        mysql,
        sqlite,
    }
}

/// The columns of every log table, in table order: the original's 15, then
/// ours. `event_id` (nullable, unique) identifies an event delivered through
/// the outbox or a broker, so a redelivery is a no-op; rows written without
/// it (inline, or by the Django original) leave it NULL.
pub const COLUMNS: [Column; 16] = [
    col(
        "id",
        ColumnKind::Id,
        "BIGSERIAL PRIMARY KEY",
        "BIGINT AUTO_INCREMENT PRIMARY KEY",
        "INTEGER PRIMARY KEY AUTOINCREMENT",
    ),
    col(
        "action",
        ColumnKind::Text,
        "VARCHAR(10) NOT NULL",
        "VARCHAR(10) NOT NULL",
        "TEXT NOT NULL",
    ),
    col(
        "object_pk",
        ColumnKind::Text,
        "TEXT NOT NULL",
        "TEXT NOT NULL",
        "TEXT NOT NULL",
    ),
    col("before", ColumnKind::Json, "JSONB", "JSON", "TEXT"),
    col("after", ColumnKind::Json, "JSONB", "JSON", "TEXT"),
    col("changes", ColumnKind::Json, "JSONB", "JSON", "TEXT"),
    col(
        "entry_point",
        ColumnKind::Text,
        "VARCHAR(20)",
        "VARCHAR(20)",
        "TEXT",
    ),
    col("route", ColumnKind::Text, "TEXT", "TEXT", "TEXT"),
    col("path", ColumnKind::Text, "TEXT", "TEXT", "TEXT"),
    col(
        "method",
        ColumnKind::Text,
        "VARCHAR(10)",
        "VARCHAR(10)",
        "TEXT",
    ),
    col("ip", ColumnKind::Text, "TEXT", "TEXT", "TEXT"),
    col("user_id", ColumnKind::BigInt, "BIGINT", "BIGINT", "INTEGER"),
    col("user_name", ColumnKind::Text, "TEXT", "TEXT", "TEXT"),
    col("user_agent", ColumnKind::Text, "TEXT", "TEXT", "TEXT"),
    col(
        "created_at",
        ColumnKind::Timestamp,
        "TIMESTAMPTZ NOT NULL",
        "DATETIME(6) NOT NULL",
        "TEXT NOT NULL",
    ),
    col(
        "event_id",
        ColumnKind::Text,
        "VARCHAR(36) UNIQUE",
        "VARCHAR(36) UNIQUE",
        "TEXT UNIQUE",
    ),
];

/// How many of [`COLUMNS`] the original has (the ones a row is read with).
pub const ORIGINAL_COLUMNS: usize = 15;

/// The columns an inline log row writes: the original's, but the generated `id`.
pub fn insert_columns() -> &'static [Column] {
    &COLUMNS[1..ORIGINAL_COLUMNS]
}

/// The columns a row delivered with an event id writes.
pub fn insert_columns_with_event_id() -> &'static [Column] {
    &COLUMNS[1..]
}

/// `CREATE TABLE IF NOT EXISTS` for the log table `log_table`, in
/// `schema` when the dialect has schemas (PostgreSQL) and one is given.
///
/// `schema` and `log_table` must be plain identifiers
/// ([`crate::ident::is_plain_identifier`]); the macro and the runtime's
/// configuration check this before calling.
///
/// ```
/// use awesome_audit_log_codegen::ddl::{create_table, Dialect};
///
/// let pg = create_table(Dialect::Postgres, Some("audit"), "widget_log");
/// assert!(pg.starts_with("CREATE TABLE IF NOT EXISTS \"audit\".\"widget_log\" ("));
/// assert!(pg.contains("\"before\" JSONB"));
///
/// let my = create_table(Dialect::MySql, Some("ignored"), "widget_log");
/// assert!(my.starts_with("CREATE TABLE IF NOT EXISTS `widget_log` ("));
/// assert!(my.ends_with(") ENGINE=InnoDB"));
/// ```
pub fn create_table(dialect: Dialect, schema: Option<&str>, log_table: &str) -> String {
    create_table_with(dialect, schema, log_table, &COLUMNS)
}

fn create_table_with(
    dialect: Dialect,
    schema: Option<&str>,
    table: &str,
    columns: &[Column],
) -> String {
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n",
        dialect.qualified(schema, table)
    );
    for (i, column) in columns.iter().enumerate() {
        let sep = if i + 1 == columns.len() { "" } else { "," };
        let _ = writeln!(
            sql,
            "    {} {}{sep}",
            dialect.quote(column.name),
            column.sql_type(dialect)
        );
    }
    sql.push(')');
    if dialect == Dialect::MySql {
        sql.push_str(" ENGINE=InnoDB");
    }
    sql
}

/// The outbox table of the durable ASYNC transport.
pub const OUTBOX_TABLE: &str = "awesome_audit_log_outbox";

/// `CREATE TABLE IF NOT EXISTS` for the outbox: the log table's columns
/// (with `event_id` required), then `log_table`, the table the row belongs in.
///
/// ```
/// use awesome_audit_log_codegen::ddl::{create_outbox_table, Dialect};
///
/// let sql = create_outbox_table(Dialect::Postgres, None);
/// assert!(sql.contains("\"event_id\" VARCHAR(36) NOT NULL UNIQUE"));
/// assert!(sql.contains("\"log_table\" VARCHAR(63) NOT NULL"));
/// ```
pub fn create_outbox_table(dialect: Dialect, schema: Option<&str>) -> String {
    let log_table = Column {
        name: "log_table",
        kind: ColumnKind::Text,
        postgres: "VARCHAR(63) NOT NULL",
        mysql: "VARCHAR(63) NOT NULL",
        sqlite: "TEXT NOT NULL",
    };
    let event_id = Column {
        name: "event_id",
        kind: ColumnKind::Text,
        postgres: "VARCHAR(36) NOT NULL UNIQUE",
        mysql: "VARCHAR(36) NOT NULL UNIQUE",
        sqlite: "TEXT NOT NULL UNIQUE",
    };
    let columns: Vec<Column> = COLUMNS[..ORIGINAL_COLUMNS]
        .iter()
        .copied()
        .chain([event_id, log_table])
        .collect();
    create_table_with(dialect, schema, OUTBOX_TABLE, &columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_table_matches_the_original_column_for_column() {
        let sql = create_table(Dialect::Sqlite, None, "widget_log");
        let expected = "CREATE TABLE IF NOT EXISTS \"widget_log\" (
    \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,
    \"action\" TEXT NOT NULL,
    \"object_pk\" TEXT NOT NULL,
    \"before\" TEXT,
    \"after\" TEXT,
    \"changes\" TEXT,
    \"entry_point\" TEXT,
    \"route\" TEXT,
    \"path\" TEXT,
    \"method\" TEXT,
    \"ip\" TEXT,
    \"user_id\" INTEGER,
    \"user_name\" TEXT,
    \"user_agent\" TEXT,
    \"created_at\" TEXT NOT NULL,
    \"event_id\" TEXT UNIQUE
)";
        assert_eq!(sql, expected);
    }

    #[test]
    fn postgres_uses_jsonb_timestamptz_and_the_schema() {
        let sql = create_table(Dialect::Postgres, Some("audit"), "widget_log");
        assert!(sql.contains("\"audit\".\"widget_log\""));
        assert!(sql.contains("\"id\" BIGSERIAL PRIMARY KEY,"));
        assert!(sql.contains("\"changes\" JSONB,"));
        assert!(sql.contains("\"created_at\" TIMESTAMPTZ NOT NULL,\n"));
        assert!(sql.contains("\"event_id\" VARCHAR(36) UNIQUE\n)"));
        assert!(!create_table(Dialect::Postgres, None, "w_log").contains('.'));
    }

    #[test]
    fn mysql_back_quotes_and_uses_innodb() {
        let sql = create_table(Dialect::MySql, None, "widget_log");
        assert!(sql.contains("`method` VARCHAR(10),"));
        assert!(sql.contains("`created_at` DATETIME(6) NOT NULL"));
        assert!(sql.ends_with(") ENGINE=InnoDB"));
        assert!(!sql.contains('"'));
    }

    #[test]
    fn quoting_doubles_the_quote_character() {
        assert_eq!(Dialect::Postgres.quote("widget_log"), "\"widget_log\"");
        assert_eq!(Dialect::Postgres.quote("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            Dialect::Sqlite.quote("\"; DROP TABLE x; --"),
            "\"\"\"; DROP TABLE x; --\""
        );
        assert_eq!(Dialect::MySql.quote("a`b"), "`a``b`");
        // The other dialect's quote character needs no escaping.
        assert_eq!(Dialect::MySql.quote("a\"b"), "`a\"b`");
        assert_eq!(Dialect::Postgres.quote("a`b"), "\"a`b\"");
        assert_eq!(
            Dialect::Postgres.qualified(Some("s\"x"), "t\""),
            "\"s\"\"x\".\"t\"\"\""
        );
    }

    /// Whatever the identifier, its quoted form is one quoted name: it
    /// starts and ends with the quote character and every quote character
    /// inside comes in a pair.
    #[test]
    fn quoted_identifiers_cannot_end_early() {
        for dialect in Dialect::ALL {
            let q = if dialect == Dialect::MySql { '`' } else { '"' };
            for ident in [
                "",
                "\"",
                "`",
                "\"\"",
                "``",
                "x\"",
                "`x",
                "a\"`b\"`c",
                "ü\"🦀",
            ] {
                let quoted = dialect.quote(ident);
                let inner = quoted
                    .strip_prefix(q)
                    .and_then(|rest| rest.strip_suffix(q))
                    .unwrap_or_else(|| panic!("{dialect:?} {quoted}"));
                assert_eq!(inner.replace(&format!("{q}{q}"), ""), ident.replace(q, ""));
                assert_eq!(inner.replace(&format!("{q}{q}"), &q.to_string()), ident);
            }
        }
    }

    #[test]
    fn insert_columns_skip_the_generated_id() {
        let names: Vec<_> = insert_columns().iter().map(|c| c.name).collect();
        assert_eq!(names.first(), Some(&"action"));
        assert_eq!(names.last(), Some(&"created_at"));
        assert_eq!(names.len(), 14);
        assert_eq!(
            insert_columns_with_event_id().last().map(|c| c.name),
            Some("event_id")
        );
    }
}
