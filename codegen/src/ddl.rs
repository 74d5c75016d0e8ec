//! The log table's columns, its indexes and the statements that create it,
//! per SQL dialect.
//!
//! The columns, their order and their types are those of the Django original
//! (awesome-audit-log-django), so that services written with either library
//! can share log tables. One deliberate departure: on MySQL/MariaDB
//! `created_at` is `DATETIME(6)` holding UTC rather than `TIMESTAMP`, which
//! keeps microseconds and does not end in 2038. Existing `TIMESTAMP` tables
//! keep working: values are bound as real datetimes either way.
//!
//! Each column's type carries the most it holds in its dialect ([`Limit`]):
//! the runtime cuts a context value that is longer to fit (see
//! [`Column::cut_to_fit`]), so that no request's odd header keeps its change
//! from being logged.

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

/// The most a value of a column holds in one dialect, as its type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// Nothing a log row holds comes near the type's limit.
    None,
    /// At most this many characters (`VARCHAR(n)` on PostgreSQL and MySQL).
    Chars(usize),
    /// At most this many bytes of UTF-8 (`TEXT` on MySQL: 65,535).
    Bytes(usize),
}

/// A column's type in one dialect, and the most it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlType {
    /// The type as written in `CREATE TABLE`, with its constraints.
    pub sql: &'static str,
    /// The most a value of this type holds.
    pub limit: Limit,
}

impl SqlType {
    /// A type without a limit a log row can reach.
    pub const fn new(sql: &'static str) -> Self {
        Self {
            sql,
            limit: Limit::None,
        }
    }

    /// `VARCHAR(chars)` (`sql` must say the same number).
    pub const fn chars(sql: &'static str, chars: usize) -> Self {
        Self {
            sql,
            limit: Limit::Chars(chars),
        }
    }

    /// A type that holds at most `bytes` bytes.
    pub const fn bytes(sql: &'static str, bytes: usize) -> Self {
        Self {
            sql,
            limit: Limit::Bytes(bytes),
        }
    }
}

const TEXT: SqlType = SqlType::new("TEXT");
/// MySQL's `TEXT` holds 65,535 bytes.
const MYSQL_TEXT: SqlType = SqlType::bytes("TEXT", 65_535);
const JSONB: SqlType = SqlType::new("JSONB");
const JSON: SqlType = SqlType::new("JSON");

/// One column of a log table with its type in each dialect.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Column name.
    pub name: &'static str,
    /// What the column holds.
    pub kind: ColumnKind,
    /// Whether a value longer than the column's [`Limit`] is cut to fit it
    /// when the row is written (the context columns), rather than written
    /// whole and refused by the database (the key, the event id).
    pub cut_to_fit: bool,
    /// Type on PostgreSQL.
    pub postgres: SqlType,
    /// Type on MySQL/MariaDB.
    pub mysql: SqlType,
    /// Type on SQLite.
    pub sqlite: SqlType,
}

impl Column {
    /// The column's type and limit in `dialect`.
    pub const fn of(&self, dialect: Dialect) -> SqlType {
        match dialect {
            Dialect::Postgres => self.postgres,
            Dialect::MySql => self.mysql,
            Dialect::Sqlite => self.sqlite,
        }
    }

    /// The column's type in `dialect`.
    pub const fn sql_type(&self, dialect: Dialect) -> &'static str {
        self.of(dialect).sql
    }

    /// The most a value of the column holds in `dialect`.
    pub const fn limit(&self, dialect: Dialect) -> Limit {
        self.of(dialect).limit
    }
}

pub(crate) const fn col(
    name: &'static str,
    kind: ColumnKind,
    postgres: SqlType,
    mysql: SqlType,
    sqlite: SqlType,
) -> Column {
    Column {
        name,
        kind,
        cut_to_fit: false,
        postgres,
        mysql,
        sqlite,
    }
}

/// A context column: a longer value is cut to fit.
const fn context(name: &'static str, postgres: SqlType, mysql: SqlType, sqlite: SqlType) -> Column {
    Column {
        cut_to_fit: true,
        ..col(name, ColumnKind::Text, postgres, mysql, sqlite)
    }
}

/// The columns of every log table, in table order: the original's 15, then
/// ours. `event_id` (nullable, unique) identifies an event delivered through
/// the outbox or a broker, so a redelivery is a no-op; rows written without
/// it (inline, or by the Django original) leave it NULL. `correlation_id`
/// (nullable) is shared by every row of one unit of work (a request, a
/// command, a job); rows written outside one leave it NULL.
///
/// Tables created by the Django original lack both of ours, tables created
/// by earlier versions of this library lack `correlation_id`: the runtime
/// writes only the columns a table has.
pub const COLUMNS: [Column; 17] = [
    col(
        "id",
        ColumnKind::Id,
        SqlType::new("BIGSERIAL PRIMARY KEY"),
        SqlType::new("BIGINT AUTO_INCREMENT PRIMARY KEY"),
        SqlType::new("INTEGER PRIMARY KEY AUTOINCREMENT"),
    ),
    col(
        "action",
        ColumnKind::Text,
        SqlType::chars("VARCHAR(10) NOT NULL", 10),
        SqlType::chars("VARCHAR(10) NOT NULL", 10),
        SqlType::new("TEXT NOT NULL"),
    ),
    col(
        "object_pk",
        ColumnKind::Text,
        SqlType::new("TEXT NOT NULL"),
        SqlType::bytes("TEXT NOT NULL", 65_535),
        SqlType::new("TEXT NOT NULL"),
    ),
    col("before", ColumnKind::Json, JSONB, JSON, TEXT),
    col("after", ColumnKind::Json, JSONB, JSON, TEXT),
    col("changes", ColumnKind::Json, JSONB, JSON, TEXT),
    context(
        "entry_point",
        SqlType::chars("VARCHAR(20)", 20),
        SqlType::chars("VARCHAR(20)", 20),
        TEXT,
    ),
    context("route", TEXT, MYSQL_TEXT, TEXT),
    context("path", TEXT, MYSQL_TEXT, TEXT),
    context(
        "method",
        SqlType::chars("VARCHAR(10)", 10),
        SqlType::chars("VARCHAR(10)", 10),
        TEXT,
    ),
    context("ip", TEXT, MYSQL_TEXT, TEXT),
    col(
        "user_id",
        ColumnKind::BigInt,
        SqlType::new("BIGINT"),
        SqlType::new("BIGINT"),
        SqlType::new("INTEGER"),
    ),
    context("user_name", TEXT, MYSQL_TEXT, TEXT),
    context("user_agent", TEXT, MYSQL_TEXT, TEXT),
    col(
        "created_at",
        ColumnKind::Timestamp,
        SqlType::new("TIMESTAMPTZ NOT NULL"),
        SqlType::new("DATETIME(6) NOT NULL"),
        SqlType::new("TEXT NOT NULL"),
    ),
    col(
        EVENT_ID,
        ColumnKind::Text,
        SqlType::chars("VARCHAR(36) UNIQUE", 36),
        SqlType::chars("VARCHAR(36) UNIQUE", 36),
        SqlType::new("TEXT UNIQUE"),
    ),
    context(
        CORRELATION_ID,
        SqlType::chars("VARCHAR(64)", 64),
        SqlType::chars("VARCHAR(64)", 64),
        TEXT,
    ),
];

/// How many of [`COLUMNS`] the original has (the ones a row is read with).
pub const ORIGINAL_COLUMNS: usize = 15;

/// The name of our column that identifies a delivered event.
pub const EVENT_ID: &str = "event_id";

/// The name of our column that groups the rows of one unit of work.
pub const CORRELATION_ID: &str = "correlation_id";

/// The columns of the original a log row writes: all but the generated `id`.
pub fn insert_columns() -> &'static [Column] {
    &COLUMNS[1..ORIGINAL_COLUMNS]
}

/// Every column a log row can write, in table order: all but the generated
/// `id`. A table that lacks one of ours ([`EVENT_ID`], [`CORRELATION_ID`])
/// is written without it.
///
/// ```
/// use awesome_audit_log_codegen::ddl::all_insert_columns;
///
/// let names: Vec<_> = all_insert_columns().iter().map(|c| c.name).collect();
/// assert_eq!(names.first(), Some(&"action"));
/// assert_eq!(names[names.len() - 3..], ["created_at", "event_id", "correlation_id"]);
/// ```
pub fn all_insert_columns() -> &'static [Column] {
    &COLUMNS[1..]
}

/// `CREATE TABLE IF NOT EXISTS` for the log table `log_table` alone,
/// without its indexes, in `schema` when the dialect has schemas
/// (PostgreSQL) and one is given. A new log table is created with
/// [`create_table_statements`], which adds the indexes.
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
    create_table_with(dialect, schema, log_table, &COLUMNS, &[])
}

/// The statements that create the log table `log_table` with its
/// [`INDEXES`], in order, then register it in [`MANAGED_TABLES`]. On
/// MySQL/MariaDB the indexes are part of the one `CREATE TABLE`; on
/// PostgreSQL and SQLite each is a `CREATE INDEX IF NOT EXISTS` after it (on
/// PostgreSQL an index lives in its table's schema). Every statement may run
/// again on an existing table without effect.
///
/// `schema` and `log_table` must be plain identifiers, as for
/// [`create_table`].
///
/// ```
/// use awesome_audit_log_codegen::ddl::{create_table_statements, Dialect};
///
/// let pg = create_table_statements(Dialect::Postgres, Some("audit"), "widget_log");
/// assert_eq!(pg.len(), 7);
/// assert!(pg[0].starts_with("CREATE TABLE IF NOT EXISTS \"audit\".\"widget_log\""));
/// assert_eq!(
///     pg[1],
///     "CREATE INDEX IF NOT EXISTS \"widget_log_object_idx\" \
///      ON \"audit\".\"widget_log\" (\"object_pk\", \"created_at\", \"id\")"
/// );
///
/// assert!(pg[6].starts_with("INSERT INTO \"audit\".\"awesome_audit_log_tables\""));
///
/// let my = create_table_statements(Dialect::MySql, None, "widget_log");
/// assert_eq!(my.len(), 3);
/// assert!(my[0].contains("INDEX `widget_log_object_idx` (`object_pk`(191), `created_at`, `id`)"));
/// ```
pub fn create_table_statements(
    dialect: Dialect,
    schema: Option<&str>,
    log_table: &str,
) -> Vec<String> {
    let mut statements = match dialect {
        Dialect::MySql => vec![create_table_with(
            dialect, schema, log_table, &COLUMNS, &INDEXES,
        )],
        Dialect::Postgres | Dialect::Sqlite => {
            std::iter::once(create_table(dialect, schema, log_table))
                .chain(
                    INDEXES
                        .iter()
                        .map(|index| create_index(dialect, schema, log_table, index)),
                )
                .collect()
        }
    };
    statements.push(create_managed_tables(dialect, schema));
    statements.push(register_table(dialect, schema, log_table));
    statements
}

/// [`create_table_statements`] as one script: the statements joined by
/// `;\n`, without a final `;`. What the macro's `DDL_*` constants and the
/// exported migration files hold.
///
/// ```
/// use awesome_audit_log_codegen::ddl::{create_table_script, Dialect};
///
/// let script = create_table_script(Dialect::Sqlite, None, "widget_log");
/// assert_eq!(script.matches(";\n").count(), 6);
/// assert!(script.ends_with("ON CONFLICT (\"log_table\") DO NOTHING"));
/// ```
pub fn create_table_script(dialect: Dialect, schema: Option<&str>, log_table: &str) -> String {
    create_table_statements(dialect, schema, log_table).join(";\n")
}

/// An index every new log table has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// What its name ends with, after the table's name (see [`index_name`]).
    pub suffix: &'static str,
    /// Its columns, in order.
    pub columns: &'static [&'static str],
}

/// The indexes of a new log table: one object's history in order
/// (`for_object`), rows by time (retention, "what changed since"), one
/// user's rows by time, and the rows of one unit of work.
pub const INDEXES: [Index; 4] = [
    Index {
        suffix: "object",
        columns: &["object_pk", "created_at", "id"],
    },
    Index {
        suffix: "created",
        columns: &["created_at"],
    },
    Index {
        suffix: "user",
        columns: &["user_id", "created_at"],
    },
    Index {
        suffix: "correlation",
        columns: &[CORRELATION_ID],
    },
];

/// The longest index name: PostgreSQL cuts longer names to 63 bytes (so
/// two cut names could clash, and `IF NOT EXISTS` would then skip the
/// second index); MySQL takes 64 characters.
pub const MAX_INDEX_NAME_LEN: usize = 63;

/// The name of the index of `table` that ends in `suffix`:
/// `<table>_<suffix>_idx`. An index name is unique per schema on
/// PostgreSQL and per database on SQLite, hence the table's name in it.
/// When that is longer than [`MAX_INDEX_NAME_LEN`] bytes, the table's name
/// is cut and followed by a hash of the whole name (64-bit FNV-1a, in hex),
/// so that two long table names with the same beginning get different
/// index names, the same in every version and on every platform.
///
/// ```
/// use awesome_audit_log_codegen::ddl::{MAX_INDEX_NAME_LEN, index_name};
///
/// assert_eq!(index_name("widget_log", "object"), "widget_log_object_idx");
///
/// let a = index_name(&format!("{}_a_log", "x".repeat(52)), "correlation");
/// let b = index_name(&format!("{}_b_log", "x".repeat(52)), "correlation");
/// assert_ne!(a, b);
/// assert!(a.len() <= MAX_INDEX_NAME_LEN && a.ends_with("_correlation_idx"));
/// ```
pub fn index_name(table: &str, suffix: &str) -> String {
    bounded_name(table, &format!("{suffix}_idx"))
}

/// `<table>_<tail>`, cut to [`MAX_INDEX_NAME_LEN`] bytes the way
/// [`index_name`] cuts: the names of a table's indexes and triggers.
///
/// ```
/// use awesome_audit_log_codegen::ddl::bounded_name;
///
/// assert_eq!(bounded_name("widget", "audit_insert"), "widget_audit_insert");
/// assert!(bounded_name(&"w".repeat(59), "audit_insert").len() <= 63);
/// ```
pub fn bounded_name(table: &str, tail: &str) -> String {
    let name = format!("{table}_{tail}");
    if name.len() <= MAX_INDEX_NAME_LEN {
        return name;
    }
    let hash = format!("{:016x}", fnv1a(table.as_bytes()));
    let tail = format!("_{hash}_{tail}");
    let mut end = MAX_INDEX_NAME_LEN
        .saturating_sub(tail.len())
        .min(table.len());
    while !table.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{tail}", &table[..end])
}

/// 64-bit FNV-1a: a small hash whose value never changes.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `CREATE INDEX IF NOT EXISTS` of `index` on `table` (PostgreSQL, SQLite;
/// on MySQL/MariaDB the indexes are part of `CREATE TABLE`, and an existing
/// table takes one with `ALTER TABLE … ADD INDEX` and [`index_columns`]).
///
/// ```
/// use awesome_audit_log_codegen::ddl::{INDEXES, Dialect, create_index};
///
/// assert_eq!(
///     create_index(Dialect::Sqlite, None, "widget_log", &INDEXES[1]),
///     "CREATE INDEX IF NOT EXISTS \"widget_log_created_idx\" ON \"widget_log\" (\"created_at\")"
/// );
/// ```
pub fn create_index(dialect: Dialect, schema: Option<&str>, table: &str, index: &Index) -> String {
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
        dialect.quote(&index_name(table, index.suffix)),
        dialect.qualified(schema, table),
        index_columns(dialect, index)
    )
}

/// The columns of `index`, quoted. On MySQL a `TEXT` column is indexed by
/// its first 191 characters (767 bytes in utf8mb4, the most an older
/// InnoDB row format indexes of one column).
///
/// ```
/// use awesome_audit_log_codegen::ddl::{INDEXES, Dialect, index_columns};
///
/// assert_eq!(index_columns(Dialect::MySql, &INDEXES[0]), "`object_pk`(191), `created_at`, `id`");
/// ```
pub fn index_columns(dialect: Dialect, index: &Index) -> String {
    index
        .columns
        .iter()
        .map(|&name| {
            let quoted = dialect.quote(name);
            let text = COLUMNS
                .iter()
                .find(|column| column.name == name)
                .is_some_and(|column| column.sql_type(dialect).starts_with("TEXT"));
            if dialect == Dialect::MySql && text {
                format!("{quoted}(191)")
            } else {
                quoted
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn create_table_with(
    dialect: Dialect,
    schema: Option<&str>,
    table: &str,
    columns: &[Column],
    inline_indexes: &[Index],
) -> String {
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n",
        dialect.qualified(schema, table)
    );
    let mut lines: Vec<String> = columns
        .iter()
        .map(|column| {
            format!(
                "{} {}",
                dialect.quote(column.name),
                column.sql_type(dialect)
            )
        })
        .collect();
    lines.extend(inline_indexes.iter().map(|index| {
        format!(
            "INDEX {} ({})",
            dialect.quote(&index_name(table, index.suffix)),
            index_columns(dialect, index)
        )
    }));
    for (i, line) in lines.iter().enumerate() {
        let sep = if i + 1 == lines.len() { "" } else { "," };
        let _ = writeln!(sql, "    {line}{sep}");
    }
    sql.push(')');
    if dialect == Dialect::MySql {
        sql.push_str(" ENGINE=InnoDB");
    }
    sql
}

// The table of managed log tables: one row per log table this library
// created (or an operator adopted), so that operations tools find the log
// tables by asking, never by guessing from names (`LIKE '%_log'` also
// matches `django_admin_log`, `blog` and `catalog`).

/// The table that lists the managed log tables (in PG_SCHEMA on
/// PostgreSQL, beside them).
pub const MANAGED_TABLES: &str = "awesome_audit_log_tables";

/// `CREATE TABLE IF NOT EXISTS` for the table of managed log tables: the
/// log table's name, and when it was registered.
///
/// ```
/// use awesome_audit_log_codegen::ddl::{create_managed_tables, Dialect};
///
/// let sql = create_managed_tables(Dialect::Postgres, Some("audit"));
/// assert!(sql.starts_with("CREATE TABLE IF NOT EXISTS \"audit\".\"awesome_audit_log_tables\""));
/// ```
pub fn create_managed_tables(dialect: Dialect, schema: Option<&str>) -> String {
    let (name, registered_at, engine) = match dialect {
        Dialect::Postgres => (
            "VARCHAR(63) PRIMARY KEY",
            "TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP",
            "",
        ),
        Dialect::MySql => (
            "VARCHAR(64) PRIMARY KEY",
            "DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
            " ENGINE=InnoDB",
        ),
        Dialect::Sqlite => (
            "TEXT PRIMARY KEY",
            "TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP",
            "",
        ),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n    {} {name},\n    {} {registered_at}\n){engine}",
        dialect.qualified(schema, MANAGED_TABLES),
        dialect.quote("log_table"),
        dialect.quote("registered_at"),
    )
}

/// The statement that registers `log_table` as managed; registering it
/// again changes nothing.
///
/// `log_table` must be a plain identifier
/// ([`crate::ident::is_plain_identifier`]): it is written as a literal.
///
/// ```
/// use awesome_audit_log_codegen::ddl::{register_table, Dialect};
///
/// assert_eq!(
///     register_table(Dialect::Sqlite, None, "widget_log"),
///     "INSERT INTO \"awesome_audit_log_tables\" (\"log_table\") VALUES ('widget_log') \
///      ON CONFLICT (\"log_table\") DO NOTHING"
/// );
/// assert!(register_table(Dialect::MySql, None, "widget_log").ends_with(
///     "ON DUPLICATE KEY UPDATE `log_table` = `log_table`"
/// ));
/// ```
pub fn register_table(dialect: Dialect, schema: Option<&str>, log_table: &str) -> String {
    let column = dialect.quote("log_table");
    let literal = log_table.replace('\'', "''");
    let on_conflict = match dialect {
        Dialect::Postgres | Dialect::Sqlite => format!("ON CONFLICT ({column}) DO NOTHING"),
        Dialect::MySql => format!("ON DUPLICATE KEY UPDATE {column} = {column}"),
    };
    format!(
        "INSERT INTO {} ({column}) VALUES ('{literal}') {on_conflict}",
        dialect.qualified(schema, MANAGED_TABLES)
    )
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
/// assert!(sql.contains("\"event_id\" VARCHAR(36) NOT NULL UNIQUE,\n    \"correlation_id\" VARCHAR(64),"));
/// assert!(sql.contains("\"log_table\" VARCHAR(63) NOT NULL"));
/// ```
pub fn create_outbox_table(dialect: Dialect, schema: Option<&str>) -> String {
    let log_table = col(
        "log_table",
        ColumnKind::Text,
        SqlType::chars("VARCHAR(63) NOT NULL", 63),
        SqlType::chars("VARCHAR(63) NOT NULL", 63),
        SqlType::new("TEXT NOT NULL"),
    );
    let event_id = col(
        EVENT_ID,
        ColumnKind::Text,
        SqlType::chars("VARCHAR(36) NOT NULL UNIQUE", 36),
        SqlType::chars("VARCHAR(36) NOT NULL UNIQUE", 36),
        SqlType::new("TEXT NOT NULL UNIQUE"),
    );
    let columns: Vec<Column> = COLUMNS
        .iter()
        .map(|column| match column.name {
            EVENT_ID => event_id,
            _ => *column,
        })
        .chain([log_table])
        .collect();
    create_table_with(dialect, schema, OUTBOX_TABLE, &columns, &[])
}

/// The dead-letter table: rows that a transport could not write into their
/// log table (the database refused them), kept with the reason for an
/// operator to inspect or replay. Its JSON columns are plain text, so a
/// value the log table's JSON type refuses (such as a NUL character in
/// PostgreSQL's JSONB) is still kept.
pub const DEAD_LETTER_TABLE: &str = "awesome_audit_log_dead_letter";

/// The columns of the dead-letter table after its generated `id`, in order:
/// the log row's (JSON as text; [`CORRELATION_ID`] included), then
/// `log_table`, `reason`, `failed_at`.
pub fn dead_letter_columns() -> Vec<Column> {
    let text = |name, sql| {
        col(
            name,
            ColumnKind::Text,
            SqlType::new(sql),
            SqlType::new(sql),
            SqlType::new(sql),
        )
    };
    COLUMNS[1..]
        .iter()
        .map(|column| match column.kind {
            ColumnKind::Json => col(
                column.name,
                ColumnKind::Text,
                SqlType::new("TEXT"),
                SqlType::new("LONGTEXT"),
                SqlType::new("TEXT"),
            ),
            _ => *column,
        })
        .chain([
            text("log_table", "TEXT NOT NULL"),
            text("reason", "TEXT NOT NULL"),
            col(
                "failed_at",
                ColumnKind::Timestamp,
                SqlType::new("TIMESTAMPTZ NOT NULL"),
                SqlType::new("DATETIME(6) NOT NULL"),
                SqlType::new("TEXT NOT NULL"),
            ),
        ])
        .collect()
}

/// `CREATE TABLE IF NOT EXISTS` for the dead-letter table.
///
/// ```
/// use awesome_audit_log_codegen::ddl::{create_dead_letter_table, Dialect};
///
/// let sql = create_dead_letter_table(Dialect::MySql, None);
/// assert!(sql.contains("`before` LONGTEXT"));
/// assert!(sql.contains("`reason` TEXT NOT NULL"));
/// ```
pub fn create_dead_letter_table(dialect: Dialect, schema: Option<&str>) -> String {
    let columns: Vec<Column> = COLUMNS[..1]
        .iter()
        .copied()
        .chain(dead_letter_columns())
        .collect();
    create_table_with(dialect, schema, DEAD_LETTER_TABLE, &columns, &[])
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
    \"event_id\" TEXT UNIQUE,
    \"correlation_id\" TEXT
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
        assert!(sql.contains("\"event_id\" VARCHAR(36) UNIQUE,\n"));
        assert!(sql.contains("\"correlation_id\" VARCHAR(64)\n)"));
        assert!(!create_table(Dialect::Postgres, None, "w_log").contains('.'));
    }

    #[test]
    fn mysql_back_quotes_and_uses_innodb() {
        let sql = create_table(Dialect::MySql, None, "widget_log");
        assert!(sql.contains("`method` VARCHAR(10),"));
        assert!(sql.contains("`created_at` DATETIME(6) NOT NULL"));
        assert!(sql.contains("`correlation_id` VARCHAR(64)\n"));
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

    /// Each limit is what its type says: `VARCHAR(n)` holds `n`
    /// characters, MySQL's `TEXT` 65,535 bytes; and every context column
    /// (cut to fit) is text with a limit somewhere.
    #[test]
    fn limits_follow_the_types() {
        for column in COLUMNS {
            for dialect in Dialect::ALL {
                let SqlType { sql, limit } = column.of(dialect);
                let varchar = sql
                    .strip_prefix("VARCHAR(")
                    .and_then(|rest| rest.split_once(')'))
                    .and_then(|(n, _)| n.parse().ok());
                let expected = match (varchar, dialect, column.kind) {
                    (Some(n), _, _) => Limit::Chars(n),
                    (None, Dialect::MySql, ColumnKind::Text) if sql.starts_with("TEXT") => {
                        Limit::Bytes(65_535)
                    }
                    _ => Limit::None,
                };
                assert_eq!(limit, expected, "`{}` on {dialect:?}", column.name);
            }
        }
        let context: Vec<_> = COLUMNS
            .iter()
            .filter(|c| c.cut_to_fit)
            .map(|c| c.name)
            .collect();
        assert_eq!(
            context,
            [
                "entry_point",
                "route",
                "path",
                "method",
                "ip",
                "user_name",
                "user_agent",
                "correlation_id"
            ]
        );
    }

    #[test]
    fn insert_columns_skip_the_generated_id() {
        let names: Vec<_> = insert_columns().iter().map(|c| c.name).collect();
        assert_eq!(names.first(), Some(&"action"));
        assert_eq!(names.last(), Some(&"created_at"));
        assert_eq!(names.len(), 14);
        let all: Vec<_> = all_insert_columns().iter().map(|c| c.name).collect();
        assert_eq!(all.len(), 16);
        assert_eq!(all[..14], names[..]);
        assert_eq!(all[14..], [EVENT_ID, CORRELATION_ID]);
    }

    #[test]
    fn index_names_are_the_table_and_the_suffix() {
        assert_eq!(index_name("widget_log", "user"), "widget_log_user_idx");
        // Exactly the longest name: kept as it is.
        let table = format!(
            "{}_log",
            "t".repeat(MAX_INDEX_NAME_LEN - "_log_user_idx".len())
        );
        assert_eq!(index_name(&table, "user"), format!("{table}_user_idx"));
        assert_eq!(index_name(&table, "user").len(), MAX_INDEX_NAME_LEN);
    }

    /// Names too long are cut and hashed: at most 63 bytes, still ending in
    /// the suffix, stable, and different for tables that differ only after
    /// the cut (or anywhere).
    #[test]
    fn long_index_names_are_cut_and_hashed() {
        let long = |tail: &str| format!("{}{tail}_log", "a".repeat(58));
        let names: Vec<String> = ["x", "y", "xx", ""]
            .iter()
            .map(|tail| index_name(&long(tail), "correlation"))
            .collect();
        for name in &names {
            assert!(name.len() <= MAX_INDEX_NAME_LEN, "{name}");
            assert!(name.ends_with("_correlation_idx"), "{name}");
            assert!(name.starts_with("aaaa"), "{name}");
        }
        let distinct: std::collections::BTreeSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{names:?}");
        // The same in every version: the hash is FNV-1a, not std's.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(
            index_name(&long("x"), "correlation"),
            format!(
                "{}_{:016x}_correlation_idx",
                "a".repeat(30),
                fnv1a(long("x").as_bytes())
            )
        );
        // A cut never splits a character.
        let wide = "é".repeat(40);
        let name = index_name(&wide, "object");
        assert!(name.len() <= MAX_INDEX_NAME_LEN && name.ends_with("_object_idx"));
    }

    /// Every new log table is registered as managed, after it is created,
    /// in its schema; registering again changes nothing.
    #[test]
    fn new_tables_are_registered() {
        for dialect in Dialect::ALL {
            let statements = create_table_statements(dialect, Some("audit"), "widget_log");
            let n = statements.len();
            assert_eq!(
                statements[n - 2],
                create_managed_tables(dialect, Some("audit"))
            );
            assert_eq!(
                statements[n - 1],
                register_table(dialect, Some("audit"), "widget_log")
            );
        }
        let pg = register_table(Dialect::Postgres, Some("audit"), "widget_log");
        assert!(
            pg.starts_with("INSERT INTO \"audit\".\"awesome_audit_log_tables\""),
            "{pg}"
        );
        assert!(pg.ends_with("DO NOTHING"), "{pg}");
        let my = create_managed_tables(Dialect::MySql, Some("audit"));
        assert!(
            my.starts_with("CREATE TABLE IF NOT EXISTS `awesome_audit_log_tables`"),
            "{my}"
        );
        assert!(register_table(Dialect::Sqlite, None, "o'x").contains("VALUES ('o''x')"));
    }

    #[test]
    fn new_tables_get_their_indexes() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let statements = create_table_statements(dialect, None, "widget_log");
            assert_eq!(statements[0], create_table(dialect, None, "widget_log"));
            assert_eq!(
                statements[1..5],
                [
                    "CREATE INDEX IF NOT EXISTS \"widget_log_object_idx\" ON \"widget_log\" (\"object_pk\", \"created_at\", \"id\")",
                    "CREATE INDEX IF NOT EXISTS \"widget_log_created_idx\" ON \"widget_log\" (\"created_at\")",
                    "CREATE INDEX IF NOT EXISTS \"widget_log_user_idx\" ON \"widget_log\" (\"user_id\", \"created_at\")",
                    "CREATE INDEX IF NOT EXISTS \"widget_log_correlation_idx\" ON \"widget_log\" (\"correlation_id\")",
                ]
            );
        }
        // PostgreSQL: on the table in its schema (the index follows it there).
        let pg = create_table_statements(Dialect::Postgres, Some("audit"), "widget_log");
        assert!(pg[4].ends_with("ON \"audit\".\"widget_log\" (\"correlation_id\")"));

        let my = create_table_statements(Dialect::MySql, None, "widget_log");
        assert_eq!(my.len(), 3);
        assert!(
            my[0].ends_with(
                "    `correlation_id` VARCHAR(64),
    INDEX `widget_log_object_idx` (`object_pk`(191), `created_at`, `id`),
    INDEX `widget_log_created_idx` (`created_at`),
    INDEX `widget_log_user_idx` (`user_id`, `created_at`),
    INDEX `widget_log_correlation_idx` (`correlation_id`)
) ENGINE=InnoDB"
            ),
            "{}",
            my[0]
        );
        assert_eq!(
            create_table_script(Dialect::MySql, None, "widget_log"),
            my.join(";\n")
        );
        assert_eq!(
            create_table_script(Dialect::Postgres, Some("audit"), "widget_log"),
            pg.join(";\n")
        );
    }

    /// Every index names columns of the log table.
    #[test]
    fn indexes_name_log_table_columns() {
        for index in INDEXES {
            for column in index.columns {
                assert!(COLUMNS.iter().any(|c| c.name == *column), "{column}");
            }
        }
    }

    #[test]
    fn outbox_and_dead_letters_carry_the_correlation_id() {
        let outbox = create_outbox_table(Dialect::Sqlite, None);
        assert!(outbox.contains(
            "\"event_id\" TEXT NOT NULL UNIQUE,\n    \"correlation_id\" TEXT,\n    \"log_table\" TEXT NOT NULL\n)"
        ));
        let names: Vec<_> = dead_letter_columns().iter().map(|c| c.name).collect();
        assert_eq!(
            names[names.len() - 5..],
            [EVENT_ID, CORRELATION_ID, "log_table", "reason", "failed_at"]
        );
    }
}
