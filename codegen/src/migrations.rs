//! The log tables' migration files: their names, their versions and how
//! they are written. The runtime's `schema::export` and the
//! `awesome-audit-log-build` crate both write through [`write()`], so the two
//! always produce the same files.
//!
//! A log table's file is `<version>_create_<log table>.sql`, the naming of
//! sqlx migrations (and of most other migration tools). The version is the
//! UTC time, `YYYYMMDDHHMMSS`, at which the file was first written: the log
//! tables' migrations sort after the migrations already in the directory
//! that are older, such as the application's own dated ones. The version is
//! fixed from then on: when the directory already holds a file
//! `<version>_create_<log table>.sql`, that file is kept and its version
//! reused. Its content is never rewritten either (sqlx refuses a migration
//! whose checksum changed after it was applied): when it differs from what
//! this version of the library would write, the file is left as it is and
//! reported as [`Status::Differs`].
//!
//! A model partitioned on PostgreSQL (`#[audited(partition(by = "..."))]`)
//! gets the partitioned table, written with [`write_tables()`]: the
//! partitioned parent with its keys and indexes, its DEFAULT partition and
//! the registration. The partitions of the intervals depend on the date the
//! migration runs, which a file written once and never rewritten cannot
//! know: partition maintenance creates them (`partition maintain`, or
//! `partition::Maintain` of the runtime), once after migrating, then daily.
//! Rows written before it ran wait in the DEFAULT partition and are moved
//! into their interval's partition when maintenance creates it.
//! MySQL/MariaDB and SQLite have no such partitioning: their files are the
//! usual table's.
//!
//! A model declared `#[audited(triggers)]` also gets the file that installs
//! its triggers, `<version>_audit_triggers_<table>.sql`, written with
//! [`write_schema()`] ([`triggers_file_content`]). Its version is taken
//! after its log table's, so it runs after the log table is created; the
//! model's own table must be created by an earlier migration. Triggers are
//! not tables: installing them again replaces them, and a later version of
//! the library may generate other ones. So when the newest triggers file of
//! a table holds what this version writes, it is left alone
//! ([`Status::Unchanged`]); when it holds something else, a new file is
//! written with a new version ([`Status::Superseded`]) that replaces the
//! triggers when applied, and the older file stays as it was applied.
//!
//! A model in the export that no longer declares `triggers`, while its
//! table's newest triggers file installs them, gets the file that removes
//! them, `<version>_drop_audit_triggers_<table>.sql`
//! ([`drop_triggers_file_content`], [`MigrationKind::DropTriggers`]), dated
//! after that file. [`write_schema()`] is told those models by table
//! ([`ModelTable`]): a model deleted from the code, another application's
//! model sharing the directory or the log table, and the log-table-only
//! writers ([`write()`], [`write_tables()`]) remove nothing.
//!
//! ```
//! use awesome_audit_log_codegen::ddl::Dialect;
//! use awesome_audit_log_codegen::migrations::{self, Status};
//!
//! let dir = std::env::temp_dir().join(format!("aal-migrations-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let first = migrations::write(Dialect::Sqlite, None, ["widget_log"], &dir)?;
//! assert_eq!(first[0].status, Status::Created);
//! assert!(first[0].file_name().ends_with("_create_widget_log.sql"));
//!
//! // Exported again: same file, same version, nothing written.
//! let again = migrations::write(Dialect::Sqlite, None, ["widget_log"], &dir)?;
//! assert_eq!(again[0].path, first[0].path);
//! assert_eq!(again[0].status, Status::Unchanged);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<_, migrations::MigrationError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ddl::Dialect;
use crate::ident::{MAX_IDENTIFIER_LEN, is_plain_identifier};
use crate::partition::{PartitionBy, log_table_statements};
use crate::trigger::TriggerModel;

mod triggers;
mod version;

use self::triggers::{DROP_TRIGGERS, TRIGGERS};
pub use self::triggers::{
    drop_triggers_file_content, drop_triggers_file_name, triggers_file_content, triggers_file_name,
};
use self::version::seconds_of;
pub use self::version::version_at;

/// What a migration file's name holds between its version and its table.
const CREATE: &str = "_create_";

/// A log table whose migration file [`write_tables()`] writes: its name and
/// the partitioning of its model.
///
/// ```
/// use awesome_audit_log_codegen::migrations::LogTable;
/// use awesome_audit_log_codegen::partition::PartitionBy;
///
/// assert_eq!(LogTable::from("widget_log"), LogTable::new("widget_log", None));
/// assert_eq!(LogTable::new("ledger_log", Some(PartitionBy::Day)).partition, Some(PartitionBy::Day));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogTable<'a> {
    /// The log table's name.
    pub name: &'a str,
    /// Its model's `partition(by = "...")`, if any.
    pub partition: Option<PartitionBy>,
}

impl<'a> LogTable<'a> {
    /// The log table `name`, partitioned by `partition` (or not).
    pub const fn new(name: &'a str, partition: Option<PartitionBy>) -> Self {
        LogTable { name, partition }
    }
}

impl<'a> From<&'a str> for LogTable<'a> {
    /// An unpartitioned log table.
    fn from(name: &'a str) -> Self {
        LogTable::new(name, None)
    }
}

/// A model of the export that declares no triggers, for [`write_schema()`]:
/// its table and its log table. When the table's newest triggers file
/// installs triggers, the export writes the file that removes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelTable<'a> {
    /// The model's table.
    pub table: &'a str,
    /// Its log table.
    pub log_table: &'a str,
}

/// A migration file, as [`write()`] or [`write_schema()`] left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The log table it creates, or that the triggers it installs write
    /// into.
    pub log_table: String,
    /// What it does.
    pub kind: MigrationKind,
    /// Its version, the number its name starts with.
    pub version: u64,
    /// The file.
    pub path: PathBuf,
    /// Whether it was written now, was already there, or is outdated.
    pub status: Status,
}

/// What a migration file does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MigrationKind {
    /// Creates a log table (`<version>_create_<log table>.sql`).
    LogTable,
    /// Installs the audit triggers of a model's table
    /// (`<version>_audit_triggers_<table>.sql`).
    Triggers {
        /// The model's table, which the triggers are on.
        table: String,
    },
    /// Removes the audit triggers of a model's table, once its model no
    /// longer declares `triggers` (`<version>_drop_audit_triggers_<table>.sql`).
    DropTriggers {
        /// The model's table, which the triggers were on.
        table: String,
    },
}

impl Migration {
    /// What an export says of this file, for `dialect`: one left
    /// outdated ([`Status::Differs`]), one written to replace older
    /// triggers ([`Status::Superseded`]) or to remove them (a
    /// [`MigrationKind::DropTriggers`] just created); `None` for the rest.
    /// The runtime logs it, the build crate prints it as a
    /// `cargo:warning`.
    ///
    /// ```
    /// use awesome_audit_log_codegen::ddl::Dialect;
    /// use awesome_audit_log_codegen::migrations::{Migration, MigrationKind, Status};
    ///
    /// let drop = Migration {
    ///     log_table: "gadget_log".into(),
    ///     kind: MigrationKind::DropTriggers { table: "gadget".into() },
    ///     version: 20260101000000,
    ///     path: "m/20260101000000_drop_audit_triggers_gadget.sql".into(),
    ///     status: Status::Created,
    /// };
    /// assert!(drop.notice(Dialect::Sqlite).unwrap().contains("no longer declares `triggers`"));
    /// let kept = Migration { status: Status::Unchanged, ..drop };
    /// assert_eq!(kept.notice(Dialect::Sqlite), None);
    /// ```
    pub fn notice(&self, dialect: Dialect) -> Option<String> {
        let path = self.path.display();
        match (&self.status, &self.kind) {
            (Status::Differs, _) => Some(format!(
                "{path} differs from the {} DDL of `{}` this version of awesome-audit-log writes; it was left as it is (an applied migration must not change)",
                dialect.name(),
                self.log_table,
            )),
            (Status::Superseded, MigrationKind::Triggers { table }) => Some(format!(
                "{path} was written: this version of awesome-audit-log generates other {} triggers on `{table}` than its newest triggers file, which was left as it is; applying the new file replaces them (commit it with your migrations)",
                dialect.name(),
            )),
            (Status::Created, MigrationKind::DropTriggers { table }) => Some(format!(
                "{path} was written: the model of `{table}` no longer declares `triggers`, and applying the file removes the {} triggers its earlier file installed (commit it with your migrations)",
                dialect.name(),
            )),
            _ => None,
        }
    }

    /// The file's name: `<version>_create_<log table>.sql`,
    /// `<version>_audit_triggers_<table>.sql` or
    /// `<version>_drop_audit_triggers_<table>.sql`.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// What [`write()`] did with a log table's migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The table had no file yet: one was written, with a new version.
    Created,
    /// The file was there with the expected content and was left alone.
    Unchanged,
    /// The file was there with another content (written by another version
    /// of the library, or edited). It was left alone: a migration that was
    /// applied must not change. A change to the table needs a migration of
    /// its own.
    Differs,
    /// Triggers only: the table's newest triggers file held other triggers
    /// (written by another version of the library, for another schema, or
    /// edited). It was left alone and a new file was written, with a new
    /// version, whose triggers replace the older ones when it is applied.
    Superseded,
}

/// Why the migration files could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum MigrationError {
    /// A file or directory could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PostgreSQL schema is not a name the log tables can live in.
    InvalidSchema {
        /// The schema given.
        schema: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A log table name (or the table of a model with triggers) is not a
    /// plain SQL identifier.
    InvalidTable(String),
    /// Two models with triggers on the same table generate different
    /// triggers: the second would replace the first's.
    ConflictingTriggers(String),
    /// The system clock is before 1970 or after 9999, so no version can be
    /// taken from it.
    Clock,
}

impl fmt::Display for MigrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrationError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            MigrationError::InvalidSchema { schema, reason } => {
                write!(f, "invalid PG_SCHEMA `{schema}`: {reason}")
            }
            MigrationError::InvalidTable(table) => write!(
                f,
                "invalid log table name `{table}`: expected a plain SQL identifier"
            ),
            MigrationError::ConflictingTriggers(table) => write!(
                f,
                "two models with triggers on table `{table}` generate different triggers (their names are the table's): keep `triggers` on one of them"
            ),
            MigrationError::Clock => write!(
                f,
                "the system clock is outside 1970-9999, so no migration version can be taken from it"
            ),
        }
    }
}

impl std::error::Error for MigrationError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MigrationError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The name of a log table's migration file: `<version>_create_<log table>.sql`.
///
/// ```
/// use awesome_audit_log_codegen::migrations::file_name;
///
/// assert_eq!(file_name(20260101120000, "widget_log"), "20260101120000_create_widget_log.sql");
/// ```
pub fn file_name(version: u64, log_table: &str) -> String {
    format!("{version}{CREATE}{log_table}.sql")
}

/// The content of an unpartitioned log table's migration file: a comment
/// line and the statements that create the table and its indexes and
/// register it as managed
/// ([`create_table_script`](crate::ddl::create_table_script)), in
/// `pg_schema` on PostgreSQL, each followed by `;` and a line break.
///
/// ```
/// use awesome_audit_log_codegen::ddl::Dialect;
/// use awesome_audit_log_codegen::migrations::file_content;
///
/// let sql = file_content(Dialect::Postgres, Some("audit"), "widget_log");
/// assert!(sql.starts_with("-- Audit log table `widget_log` (postgres)"));
/// assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"audit\".\"widget_log\""));
/// assert!(sql.contains("ON \"audit\".\"widget_log\" (\"correlation_id\");\n"));
/// assert!(sql.ends_with("VALUES ('widget_log') ON CONFLICT (\"log_table\") DO NOTHING;\n"));
/// ```
pub fn file_content(dialect: Dialect, pg_schema: Option<&str>, log_table: &str) -> String {
    file_content_partitioned(dialect, pg_schema, log_table, None)
}

/// The comment line of a partitioned log table's file on PostgreSQL.
pub const PARTITION_NOTE: &str = "-- Partitioned by range of `created_at`: this file creates the DEFAULT partition only. \
Run `partition maintain --by <day|week|month>` (or `partition::Maintain`) once after migrating, then daily: \
it creates the partitions of the current and coming intervals and moves into them the rows the DEFAULT partition holds.";

/// [`file_content`] of a log table partitioned by `partition`: on
/// PostgreSQL, the statements create the partitioned parent, its indexes,
/// the DEFAULT partition and the registration
/// ([`create_partitioned_table_statements`](crate::partition::create_partitioned_table_statements)),
/// after a second comment line ([`PARTITION_NOTE`]) saying that partition
/// maintenance creates the partitions of the intervals. The content does
/// not depend on the date, nor on the interval. In MySQL/MariaDB and
/// SQLite, and with `partition` `None`, it is [`file_content`].
///
/// ```
/// use awesome_audit_log_codegen::ddl::Dialect;
/// use awesome_audit_log_codegen::migrations::{PARTITION_NOTE, file_content, file_content_partitioned};
/// use awesome_audit_log_codegen::partition::PartitionBy;
///
/// let month = Some(PartitionBy::Month);
/// let sql = file_content_partitioned(Dialect::Postgres, None, "ledger_log", month);
/// assert_eq!(sql.lines().nth(1), Some(PARTITION_NOTE));
/// assert!(sql.contains(") PARTITION BY RANGE (\"created_at\");\n"));
/// assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"ledger_log_default\" PARTITION OF \"ledger_log\" DEFAULT;\n"));
/// assert!(!sql.contains("FOR VALUES FROM"));
/// assert_eq!(sql, file_content_partitioned(Dialect::Postgres, None, "ledger_log", Some(PartitionBy::Day)));
///
/// assert_eq!(
///     file_content_partitioned(Dialect::MySql, None, "ledger_log", month),
///     file_content(Dialect::MySql, None, "ledger_log"),
/// );
/// ```
pub fn file_content_partitioned(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_table: &str,
    partition: Option<PartitionBy>,
) -> String {
    let pg_schema = pg_schema.filter(|_| dialect == Dialect::Postgres);
    let statements = log_table_statements(dialect, pg_schema, log_table, partition);
    let note = match (dialect, partition) {
        (Dialect::Postgres, Some(_)) => format!("{PARTITION_NOTE}\n"),
        _ => String::new(),
    };
    format!(
        "-- Audit log table `{log_table}` ({}), generated by awesome-audit-log. Do not edit.\n{note}{};\n",
        dialect.name(),
        statements.join(";\n")
    )
}

/// Checks a PostgreSQL schema name: a plain identifier of at most 63
/// characters that does not start with `pg_` (PostgreSQL reserves those).
pub fn check_pg_schema(schema: &str) -> Result<(), MigrationError> {
    let invalid = |reason| MigrationError::InvalidSchema {
        schema: schema.to_owned(),
        reason,
    };
    if !is_plain_identifier(schema) || schema.len() > MAX_IDENTIFIER_LEN {
        return Err(invalid(
            "a schema must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 characters)",
        ));
    }
    if schema
        .get(..3)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("pg_"))
    {
        return Err(invalid(
            "PostgreSQL reserves schema names starting with `pg_` for the system",
        ));
    }
    Ok(())
}

/// Writes one migration file per distinct log table into `dir` (created if
/// needed), with versions taken from the system clock; see the
/// [module documentation](self) for the rules. Returns the files, sorted by
/// log table.
pub fn write<'a>(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_tables: impl IntoIterator<Item = &'a str>,
    dir: &Path,
) -> Result<Vec<Migration>, MigrationError> {
    write_tables(
        dialect,
        pg_schema,
        log_tables.into_iter().map(LogTable::from),
        dir,
    )
}

/// [`write()`] for log tables that may be partitioned: a partitioned one's
/// file holds [`file_content_partitioned`], the others' [`file_content`].
/// A table given more than once (models sharing a log table) is
/// partitioned when any of its entries is.
///
/// ```
/// use awesome_audit_log_codegen::ddl::Dialect;
/// use awesome_audit_log_codegen::migrations::{self, LogTable, PARTITION_NOTE};
/// use awesome_audit_log_codegen::partition::PartitionBy;
///
/// let dir = tempfile::tempdir().unwrap();
/// let tables = [
///     LogTable::new("ledger_log", Some(PartitionBy::Day)),
///     LogTable::from("widget_log"),
/// ];
/// let written = migrations::write_tables(Dialect::Postgres, None, tables, dir.path())?;
/// let ledger = std::fs::read_to_string(&written[0].path).unwrap();
/// assert!(ledger.contains(PARTITION_NOTE));
/// let widget = std::fs::read_to_string(&written[1].path).unwrap();
/// assert!(!widget.contains("PARTITION"));
/// # Ok::<_, migrations::MigrationError>(())
/// ```
pub fn write_tables<'a>(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_tables: impl IntoIterator<Item = LogTable<'a>>,
    dir: &Path,
) -> Result<Vec<Migration>, MigrationError> {
    write_schema(dialect, pg_schema, log_tables, [], [], dir)
}

/// [`write_tables()`] and, for each model in `triggers` (those declared
/// `#[audited(triggers)]`), the file that installs its triggers
/// ([`triggers_file_content`]), named `<version>_audit_triggers_<table>.sql`;
/// for each model in `without_triggers` (the export's models that declare
/// none) whose table's newest triggers file installs them, the file that
/// removes them ([`drop_triggers_file_content`]), named
/// `<version>_drop_audit_triggers_<table>.sql`. Returns the log tables'
/// files sorted by log table, then the triggers' files sorted by table,
/// then those that remove triggers, sorted by table.
///
/// A triggers file is never rewritten either, but triggers are replaced by
/// installing them again: when the table's newest triggers file holds
/// other triggers than this version's, a new file is written
/// ([`Status::Superseded`]). A new triggers file's version is later than
/// its log table's file, so it runs after the table is created, and later
/// than the files that installed or removed the table's triggers before.
/// A table that a model in `triggers` declares triggers on is never given
/// a file that removes them, whatever `without_triggers` says.
///
/// ```
/// use awesome_audit_log_codegen::ddl::Dialect;
/// use awesome_audit_log_codegen::migrations::{self, LogTable, MigrationKind, ModelTable, Status};
/// use awesome_audit_log_codegen::trigger::{Render, Stored, TriggerField, TriggerModel};
///
/// let fields = [TriggerField { column: "qty", key: "qty", stored: Stored::Plain(Render::Int) }];
/// let widget = TriggerModel {
///     table: "widget", log_table: "widget_log", pk_column: "id", pk_render: Render::Int, fields: &fields,
/// };
/// let dir = tempfile::tempdir().unwrap();
/// let written =
///     migrations::write_schema(Dialect::Sqlite, None, [LogTable::from("widget_log")], [widget], [], dir.path())?;
/// assert_eq!(written[1].kind, MigrationKind::Triggers { table: "widget".into() });
/// assert!(written[1].file_name().ends_with("_audit_triggers_widget.sql"));
/// assert!(written[1].version > written[0].version);
///
/// // The same triggers again: nothing written.
/// let again =
///     migrations::write_schema(Dialect::Sqlite, None, [LogTable::from("widget_log")], [widget], [], dir.path())?;
/// assert_eq!(again[1].status, Status::Unchanged);
/// assert_eq!(again[1].path, written[1].path);
///
/// // The model no longer declares `triggers`: a file removes them.
/// let plain = ModelTable { table: "widget", log_table: "widget_log" };
/// let dropped =
///     migrations::write_schema(Dialect::Sqlite, None, [LogTable::from("widget_log")], [], [plain], dir.path())?;
/// assert_eq!(dropped[1].kind, MigrationKind::DropTriggers { table: "widget".into() });
/// assert!(dropped[1].file_name().ends_with("_drop_audit_triggers_widget.sql"));
/// # Ok::<_, migrations::MigrationError>(())
/// ```
pub fn write_schema<'a, 'b, 'c>(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_tables: impl IntoIterator<Item = LogTable<'a>>,
    triggers: impl IntoIterator<Item = TriggerModel<'b>>,
    without_triggers: impl IntoIterator<Item = ModelTable<'c>>,
    dir: &Path,
) -> Result<Vec<Migration>, MigrationError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| MigrationError::Clock)?
        .as_secs();
    write_schema_at(
        dialect,
        pg_schema,
        log_tables,
        triggers,
        without_triggers,
        dir,
        now,
    )
}

/// [`write()`] with the clock given: a table without a file gets the version
/// of `unix_seconds`, or of the first later second whose version no file in
/// `dir` (nor another table of this call) holds.
pub fn write_at<'a>(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_tables: impl IntoIterator<Item = &'a str>,
    dir: &Path,
    unix_seconds: u64,
) -> Result<Vec<Migration>, MigrationError> {
    write_tables_at(
        dialect,
        pg_schema,
        log_tables.into_iter().map(LogTable::from),
        dir,
        unix_seconds,
    )
}

/// [`write_tables()`] with the clock given, as [`write_at`].
pub fn write_tables_at<'a>(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_tables: impl IntoIterator<Item = LogTable<'a>>,
    dir: &Path,
    unix_seconds: u64,
) -> Result<Vec<Migration>, MigrationError> {
    write_schema_at(dialect, pg_schema, log_tables, [], [], dir, unix_seconds)
}

/// [`write_schema()`] with the clock given, as [`write_at`].
pub fn write_schema_at<'a, 'b, 'c>(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_tables: impl IntoIterator<Item = LogTable<'a>>,
    triggers: impl IntoIterator<Item = TriggerModel<'b>>,
    without_triggers: impl IntoIterator<Item = ModelTable<'c>>,
    dir: &Path,
    unix_seconds: u64,
) -> Result<Vec<Migration>, MigrationError> {
    if let Some(schema) = pg_schema {
        check_pg_schema(schema)?;
    }
    let tables = distinct_tables(log_tables)?;
    let triggers = distinct_triggers(dialect, pg_schema, triggers)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut existing = Existing::read(dir)?;
    let mut versions = Versions {
        taken: std::mem::take(&mut existing.versions),
        next: unix_seconds,
    };
    let mut migrations = Vec::with_capacity(tables.len() + triggers.len());
    for (&table, &partition) in &tables {
        let content = file_content_partitioned(dialect, pg_schema, table, partition);
        let kind = MigrationKind::LogTable;
        if let Some((version, path)) = existing.creates.get(table) {
            let status = if holds(path, &content)? {
                Status::Unchanged
            } else {
                Status::Differs
            };
            migrations.push(Migration {
                log_table: table.to_owned(),
                kind,
                version: *version,
                path: path.clone(),
                status,
            });
            continue;
        }
        let version = versions.take_after(0)?;
        let path = write_file(dir, file_name(version, table), &content)?;
        migrations.push(Migration {
            log_table: table.to_owned(),
            kind,
            version,
            path,
            status: Status::Created,
        });
    }
    for (&table, (log_table, content)) in &triggers {
        let log_table = *log_table;
        let kind = MigrationKind::Triggers {
            table: table.to_owned(),
        };
        let newest = existing.triggers.get(table);
        // A file that removed the table's triggers after its newest one.
        let dropped = existing
            .drops
            .get(table)
            .filter(|(dropped, _)| newest.is_none_or(|(version, _)| dropped > version));
        if dropped.is_none()
            && let Some((version, path)) = newest
            && holds(path, content)?
        {
            migrations.push(Migration {
                log_table: log_table.to_owned(),
                kind,
                version: *version,
                path: path.clone(),
                status: Status::Unchanged,
            });
            continue;
        }
        // After the log table's file, and after the triggers it replaces.
        let log_table_version = migrations
            .iter()
            .find(|m| m.kind == MigrationKind::LogTable && m.log_table == log_table)
            .map(|m| m.version)
            .or_else(|| existing.creates.get(log_table).map(|(version, _)| *version));
        let after = log_table_version
            .into_iter()
            .chain(newest.map(|(version, _)| *version))
            .chain(dropped.map(|(version, _)| *version))
            .max()
            .unwrap_or(0);
        let version = versions.take_after(after)?;
        let path = write_file(dir, triggers_file_name(version, table), content)?;
        migrations.push(Migration {
            log_table: log_table.to_owned(),
            kind,
            version,
            path,
            status: if newest.is_some() && dropped.is_none() {
                Status::Superseded
            } else {
                Status::Created
            },
        });
    }
    // The export's models without triggers whose table's newest triggers
    // file installs them (none removed them since).
    let without: BTreeMap<&str, &str> = without_triggers
        .into_iter()
        .filter(|model| !triggers.contains_key(model.table))
        .map(|model| (model.table, model.log_table))
        .collect();
    for (table, log_table) in without {
        check_name(table)?;
        let Some((installed, _)) = existing.triggers.get(table) else {
            continue;
        };
        let (version, path, status) = match existing.drops.get(table) {
            Some((dropped, path)) if dropped > installed => {
                (*dropped, path.clone(), Status::Unchanged)
            }
            _ => {
                let content = drop_triggers_file_content(dialect, pg_schema, table, log_table);
                let version = versions.take_after(*installed)?;
                let path = write_file(dir, drop_triggers_file_name(version, table), &content)?;
                (version, path, Status::Created)
            }
        };
        migrations.push(Migration {
            log_table: log_table.to_owned(),
            kind: MigrationKind::DropTriggers {
                table: table.to_owned(),
            },
            version,
            path,
            status,
        });
    }
    Ok(migrations)
}

/// Each log table once, checked. Given more than once (models sharing a
/// log table), it is partitioned when any of them is: a partitioned table
/// takes the rows of every model, and the interval does not change the
/// file.
fn distinct_tables<'a>(
    log_tables: impl IntoIterator<Item = LogTable<'a>>,
) -> Result<BTreeMap<&'a str, Option<PartitionBy>>, MigrationError> {
    let mut tables: BTreeMap<&str, Option<PartitionBy>> = BTreeMap::new();
    for table in log_tables {
        check_name(table.name)?;
        let partition = tables.entry(table.name).or_insert(table.partition);
        *partition = partition.or(table.partition);
    }
    Ok(tables)
}

/// Each model table with triggers once, with its log table and its file's
/// content; two models on one table must generate the same triggers.
fn distinct_triggers<'b>(
    dialect: Dialect,
    pg_schema: Option<&str>,
    models: impl IntoIterator<Item = TriggerModel<'b>>,
) -> Result<BTreeMap<&'b str, (&'b str, String)>, MigrationError> {
    let mut triggers: BTreeMap<&str, (&str, String)> = BTreeMap::new();
    for model in models {
        check_name(model.table)?;
        check_name(model.log_table)?;
        let content = triggers_file_content(dialect, pg_schema, &model);
        match triggers.get(model.table) {
            Some((_, other)) if *other != content => {
                return Err(MigrationError::ConflictingTriggers(model.table.to_owned()));
            }
            Some(_) => {}
            None => {
                triggers.insert(model.table, (model.log_table, content));
            }
        }
    }
    Ok(triggers)
}

/// A table's name must be a plain identifier that PostgreSQL keeps whole:
/// it goes into a file name and into SQL.
fn check_name(name: &str) -> Result<(), MigrationError> {
    if is_plain_identifier(name) && name.len() <= MAX_IDENTIFIER_LEN {
        Ok(())
    } else {
        Err(MigrationError::InvalidTable(name.to_owned()))
    }
}

/// The I/O error about `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MigrationError {
    let path = path.to_owned();
    move |source| MigrationError::Io { path, source }
}

/// Whether the file at `path` holds exactly `content`.
fn holds(path: &Path, content: &str) -> Result<bool, MigrationError> {
    let current = std::fs::read(path).map_err(io(path))?;
    Ok(current == content.as_bytes())
}

/// Writes `content` into the file `name` of `dir`.
fn write_file(dir: &Path, name: String, content: &str) -> Result<PathBuf, MigrationError> {
    let path = dir.join(name);
    std::fs::write(&path, content).map_err(io(&path))?;
    Ok(path)
}

/// The versions of a directory: those taken, and the second to try next.
struct Versions {
    taken: BTreeSet<u64>,
    next: u64,
}

impl Versions {
    /// A version no file holds yet, later than `after` when `after` is a
    /// version [`version_at`] gives (another tool's numbering is not a
    /// time to go after).
    fn take_after(&mut self, after: u64) -> Result<u64, MigrationError> {
        if let Some(seconds) = seconds_of(after) {
            self.next = self.next.max(seconds + 1);
        }
        loop {
            let version = version_at(self.next).ok_or(MigrationError::Clock)?;
            self.next += 1;
            if self.taken.insert(version) {
                return Ok(version);
            }
        }
    }
}

/// The migrations already in a directory.
struct Existing {
    /// Every version a `<version>_<name>.sql` file holds.
    versions: BTreeSet<u64>,
    /// The earliest `<version>_create_<table>.sql` of each table.
    creates: BTreeMap<String, (u64, PathBuf)>,
    /// The newest `<version>_audit_triggers_<table>.sql` of each table.
    triggers: BTreeMap<String, (u64, PathBuf)>,
    /// The newest `<version>_drop_audit_triggers_<table>.sql` of each table.
    drops: BTreeMap<String, (u64, PathBuf)>,
}

impl Existing {
    fn read(dir: &Path) -> Result<Existing, MigrationError> {
        let mut existing = Existing {
            versions: BTreeSet::new(),
            creates: BTreeMap::new(),
            triggers: BTreeMap::new(),
            drops: BTreeMap::new(),
        };
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            let Some((version, rest)) = parse_name(name) else {
                continue;
            };
            existing.versions.insert(version);
            let table_of = |prefix: &str| {
                rest.strip_prefix(&prefix[1..])
                    .and_then(|rest| rest.strip_suffix(".sql"))
                    .map(str::to_owned)
            };
            if let Some(table) = table_of(CREATE) {
                let earliest = existing
                    .creates
                    .entry(table)
                    .or_insert_with(|| (version, path.clone()));
                if version < earliest.0 {
                    *earliest = (version, path);
                }
            } else if let Some(table) = table_of(TRIGGERS) {
                keep_newest(&mut existing.triggers, table, version, path);
            } else if let Some(table) = table_of(DROP_TRIGGERS) {
                keep_newest(&mut existing.drops, table, version, path);
            }
        }
        Ok(existing)
    }
}

/// Keeps in `files` the file of `table` with the highest version.
fn keep_newest(
    files: &mut BTreeMap<String, (u64, PathBuf)>,
    table: String,
    version: u64,
    path: PathBuf,
) {
    let newest = files
        .entry(table)
        .or_insert_with(|| (version, path.clone()));
    if version > newest.0 {
        *newest = (version, path);
    }
}

/// Splits a migration file name `<version>_<rest>` ending in `.sql`.
fn parse_name(name: &str) -> Option<(u64, &str)> {
    if !name.ends_with(".sql") {
        return None;
    }
    let (digits, rest) = name.split_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-28 23:30:00 UTC.
    const NOW: u64 = 1_795_908_600;

    fn names(migrations: &[Migration]) -> Vec<String> {
        migrations.iter().map(Migration::file_name).collect()
    }

    #[test]
    fn a_new_table_gets_the_current_time_and_tables_get_distinct_versions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("20261128233001_add_price.sql"), "").unwrap();
        let written = write_at(
            Dialect::Sqlite,
            None,
            ["b_log", "a_log", "c_log", "a_log"],
            dir.path(),
            NOW,
        )
        .unwrap();
        // The user's migration holds the second second: it is skipped.
        assert_eq!(
            names(&written),
            [
                "20261128233000_create_a_log.sql",
                "20261128233002_create_b_log.sql",
                "20261128233003_create_c_log.sql",
            ]
        );
        assert!(written.iter().all(|m| m.status == Status::Created));
        let sql = std::fs::read_to_string(&written[0].path).unwrap();
        assert_eq!(sql, file_content(Dialect::Sqlite, None, "a_log"));
    }

    #[test]
    fn the_system_clock_gives_a_version_not_before_now() {
        let dir = tempfile::tempdir().unwrap();
        let before = version_at(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )
        .unwrap();
        let written = write(Dialect::MySql, None, ["widget_log"], dir.path()).unwrap();
        assert!(written[0].version >= before, "{written:?}");
        assert_eq!(written[0].version.to_string().len(), 14);
    }

    #[test]
    fn an_existing_file_keeps_its_version_and_is_never_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_at(Dialect::Postgres, None, ["widget_log"], dir.path(), NOW).unwrap();

        // Later, with a new model: the old table keeps its file.
        let later = write_at(
            Dialect::Postgres,
            None,
            ["widget_log", "gizmo_log"],
            dir.path(),
            NOW + 86_400,
        )
        .unwrap();
        assert_eq!(
            names(&later),
            [
                "20261129233000_create_gizmo_log.sql",
                "20261128233000_create_widget_log.sql",
            ]
        );
        assert_eq!(
            later[1],
            Migration {
                status: Status::Unchanged,
                ..first[0].clone()
            }
        );

        // A file with other content (say, in another schema) is left alone.
        let other = write_at(
            Dialect::Postgres,
            Some("audit"),
            ["widget_log"],
            dir.path(),
            NOW + 2 * 86_400,
        )
        .unwrap();
        assert_eq!(other[0].status, Status::Differs);
        assert_eq!(other[0].path, first[0].path);
        assert_eq!(
            std::fs::read_to_string(&first[0].path).unwrap(),
            file_content(Dialect::Postgres, None, "widget_log")
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_file_of_another_naming_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("007968123456789_create_widget_log.sql");
        std::fs::write(&old, file_content(Dialect::Sqlite, None, "widget_log")).unwrap();
        let written = write_at(Dialect::Sqlite, None, ["widget_log"], dir.path(), NOW).unwrap();
        assert_eq!(written[0].path, old);
        assert_eq!(written[0].version, 7_968_123_456_789);
        assert_eq!(written[0].status, Status::Unchanged);
    }

    #[test]
    fn bad_names_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        for (schema, table) in [
            (Some("a-b"), "widget_log"),
            (Some("pg_audit"), "widget_log"),
            (None, "../widget_log"),
        ] {
            let err = write_at(Dialect::Postgres, schema, [table], &out, NOW).unwrap_err();
            assert!(
                matches!(
                    err,
                    MigrationError::InvalidSchema { .. } | MigrationError::InvalidTable(_)
                ),
                "{err}"
            );
        }
        assert!(!out.exists());
    }

    #[test]
    fn a_partitioned_table_file_does_not_depend_on_the_date() {
        let dir = tempfile::tempdir().unwrap();
        let tables = [
            LogTable::new("ledger_log", Some(PartitionBy::Day)),
            LogTable::from("widget_log"),
        ];
        let first =
            write_tables_at(Dialect::Postgres, Some("audit"), tables, dir.path(), NOW).unwrap();
        let ledger = std::fs::read_to_string(&first[0].path).unwrap();
        let mut lines = ledger.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("-- Audit log table `ledger_log` (postgres)")
        );
        assert_eq!(lines.next(), Some(PARTITION_NOTE));
        let statements =
            crate::partition::create_partitioned_table_statements(Some("audit"), "ledger_log");
        assert!(ledger.ends_with(&format!("{};\n", statements.join(";\n"))));
        assert!(!ledger.contains("FOR VALUES"), "{ledger}");
        // The unpartitioned table's file is the one `write` writes.
        assert_eq!(
            std::fs::read_to_string(&first[1].path).unwrap(),
            file_content(Dialect::Postgres, Some("audit"), "widget_log")
        );

        // A month later, with another interval: the same file, unchanged.
        let later = write_tables_at(
            Dialect::Postgres,
            Some("audit"),
            [LogTable::new("ledger_log", Some(PartitionBy::Month))],
            dir.path(),
            NOW + 31 * 86_400,
        )
        .unwrap();
        assert_eq!(later[0].status, Status::Unchanged);
        assert_eq!(later[0].path, first[0].path);

        // The file of the unpartitioned table it once was differs, and is kept.
        let plain = tempfile::tempdir().unwrap();
        let old = write_at(
            Dialect::Postgres,
            Some("audit"),
            ["ledger_log"],
            plain.path(),
            NOW,
        )
        .unwrap();
        let now_partitioned = write_tables_at(
            Dialect::Postgres,
            Some("audit"),
            [LogTable::new("ledger_log", Some(PartitionBy::Day))],
            plain.path(),
            NOW + 1,
        )
        .unwrap();
        assert_eq!(now_partitioned[0].status, Status::Differs);
        assert_eq!(
            std::fs::read_to_string(&old[0].path).unwrap(),
            file_content(Dialect::Postgres, Some("audit"), "ledger_log")
        );
    }

    #[test]
    fn mysql_and_sqlite_files_ignore_the_partitioning() {
        for dialect in [Dialect::MySql, Dialect::Sqlite] {
            for by in PartitionBy::ALL {
                assert_eq!(
                    file_content_partitioned(dialect, Some("audit"), "ledger_log", Some(by)),
                    file_content(dialect, None, "ledger_log"),
                    "{dialect:?} {by:?}"
                );
            }
        }
        assert_eq!(
            file_content_partitioned(Dialect::Postgres, None, "w_log", None),
            file_content(Dialect::Postgres, None, "w_log")
        );
    }

    #[test]
    fn a_table_given_partitioned_once_is_partitioned() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_tables_at(
            Dialect::Postgres,
            None,
            [
                LogTable::from("ledger_log"),
                LogTable::new("ledger_log", Some(PartitionBy::Day)),
                LogTable::new("ledger_log", Some(PartitionBy::Week)),
                LogTable::from("ledger_log"),
            ],
            dir.path(),
            NOW,
        )
        .unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(
            std::fs::read_to_string(&written[0].path).unwrap(),
            file_content_partitioned(
                Dialect::Postgres,
                None,
                "ledger_log",
                Some(PartitionBy::Day)
            )
        );
    }

    const FIELDS: [crate::trigger::TriggerField<'static>; 1] = [crate::trigger::TriggerField {
        column: "qty_col",
        key: "qty",
        stored: crate::trigger::Stored::Plain(crate::trigger::Render::Int),
    }];

    fn widget() -> TriggerModel<'static> {
        TriggerModel {
            table: "widget",
            log_table: "widget_log",
            pk_column: "id",
            pk_render: crate::trigger::Render::Int,
            fields: &FIELDS,
        }
    }

    fn triggers_of(migrations: &[Migration]) -> &Migration {
        migrations
            .iter()
            .find(|m| matches!(m.kind, MigrationKind::Triggers { .. }))
            .expect("a triggers file")
    }

    fn migration_file(kind: MigrationKind, status: Status) -> Migration {
        Migration {
            log_table: "gadget_log".to_owned(),
            kind,
            version: 20260101000000,
            path: PathBuf::from("migrations/20260101000000_x.sql"),
            status,
        }
    }

    #[test]
    fn outdated_superseding_and_dropping_files_have_notices() {
        let triggers = || MigrationKind::Triggers {
            table: "gadget".to_owned(),
        };
        let superseded = migration_file(triggers(), Status::Superseded).notice(Dialect::MySql);
        let superseded = superseded.expect("a warning");
        assert!(
            superseded.starts_with("migrations/20260101000000_x.sql was written"),
            "{superseded}"
        );
        assert!(
            superseded.contains("other mysql triggers on `gadget`"),
            "{superseded}"
        );
        let differs =
            migration_file(MigrationKind::LogTable, Status::Differs).notice(Dialect::Sqlite);
        assert!(differs.is_some_and(|w| w.contains("the sqlite DDL of `gadget_log`")));
        for status in [Status::Created, Status::Unchanged] {
            assert_eq!(
                migration_file(triggers(), status).notice(Dialect::Postgres),
                None
            );
            assert_eq!(
                migration_file(MigrationKind::LogTable, status).notice(Dialect::Postgres),
                None
            );
        }
        let drop = || MigrationKind::DropTriggers {
            table: "gadget".to_owned(),
        };
        let dropped = migration_file(drop(), Status::Created).notice(Dialect::Sqlite);
        assert!(
            dropped.is_some_and(|w| w.contains("`gadget` no longer declares `triggers`")
                && w.contains("removes the sqlite triggers")),
        );
        assert_eq!(
            migration_file(drop(), Status::Unchanged).notice(Dialect::Sqlite),
            None
        );
    }

    #[test]
    fn a_triggers_file_follows_its_log_table_and_is_replaced_never_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let tables = || [LogTable::from("widget_log"), LogTable::from("gizmo_log")];
        let write = |schema, at| {
            write_schema_at(
                Dialect::Postgres,
                schema,
                tables(),
                [widget()],
                [],
                dir.path(),
                at,
            )
        };
        let first = write(None, NOW).unwrap();
        assert_eq!(
            names(&first),
            [
                "20261128233000_create_gizmo_log.sql",
                "20261128233001_create_widget_log.sql",
                "20261128233002_audit_triggers_widget.sql",
            ]
        );
        let created = triggers_of(&first);
        assert_eq!(created.status, Status::Created);
        assert_eq!(created.log_table, "widget_log");
        assert_eq!(
            created.kind,
            MigrationKind::Triggers {
                table: "widget".to_owned()
            }
        );
        let content = std::fs::read_to_string(&created.path).unwrap();
        assert_eq!(
            content,
            triggers_file_content(Dialect::Postgres, None, &widget())
        );

        // The same triggers: the file stays, nothing is written.
        let again = write(None, NOW + 60).unwrap();
        assert_eq!(
            again,
            first
                .iter()
                .map(|m| Migration {
                    status: Status::Unchanged,
                    ..m.clone()
                })
                .collect::<Vec<_>>()
        );

        // Other triggers (here: another schema): a new file replaces them,
        // the applied one stays as it was.
        let other = write(Some("audit"), NOW + 120).unwrap();
        let superseding = triggers_of(&other);
        assert_eq!(superseding.status, Status::Superseded);
        assert_eq!(
            superseding.file_name(),
            "20261128233200_audit_triggers_widget.sql"
        );
        assert_eq!(
            std::fs::read_to_string(&superseding.path).unwrap(),
            triggers_file_content(Dialect::Postgres, Some("audit"), &widget())
        );
        assert_eq!(std::fs::read_to_string(&created.path).unwrap(), content);
        // The log tables' files differ in that schema: left alone.
        assert!(
            other
                .iter()
                .filter(|m| m.kind == MigrationKind::LogTable)
                .all(|m| m.status == Status::Differs)
        );

        // The newest file is what counts: the same again is unchanged, the
        // first triggers again are a third file.
        let same = write(Some("audit"), NOW + 180).unwrap();
        assert_eq!(triggers_of(&same).status, Status::Unchanged);
        assert_eq!(triggers_of(&same).path, superseding.path);
        let back = write(None, NOW + 240).unwrap();
        assert_eq!(triggers_of(&back).status, Status::Superseded);
        assert_eq!(
            std::fs::read_to_string(&triggers_of(&back).path).unwrap(),
            content
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 5);
    }

    #[test]
    fn triggers_a_model_no_longer_declares_are_removed_by_a_file_of_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let plain = |table| ModelTable {
            table,
            log_table: "widget_log",
        };
        let write = |triggers: &[TriggerModel<'static>], without: &[ModelTable<'static>], at| {
            write_schema_at(
                Dialect::Sqlite,
                None,
                [LogTable::from("widget_log")],
                triggers.iter().copied(),
                without.iter().copied(),
                dir.path(),
                at,
            )
            .unwrap()
        };
        let first = write(&[widget()], &[], NOW);
        let installed = triggers_of(&first).clone();
        let drop_of = |migrations: &[Migration]| {
            migrations
                .iter()
                .find(|m| matches!(m.kind, MigrationKind::DropTriggers { .. }))
                .cloned()
        };

        // An export that does not have the model (it was deleted from the
        // code; another application's models share the log table; the log
        // tables alone are written): nothing removes its triggers.
        assert_eq!(drop_of(&write(&[], &[], NOW + 10)), None);
        assert_eq!(drop_of(&write(&[], &[plain("gizmo")], NOW + 20)), None);
        let tables = write_at(Dialect::Sqlite, None, ["widget_log"], dir.path(), NOW + 30).unwrap();
        assert_eq!(drop_of(&tables), None);
        // A model with triggers on the table wins over one without.
        assert_eq!(
            drop_of(&write(&[widget()], &[plain("widget")], NOW + 40)),
            None
        );

        // The model no longer declares `triggers`: a file removes them.
        let dropped = write(&[], &[plain("widget")], NOW + 60);
        assert_eq!(
            names(&dropped),
            [
                "20261128233000_create_widget_log.sql",
                "20261128233100_drop_audit_triggers_widget.sql",
            ]
        );
        let drop = drop_of(&dropped).unwrap();
        assert_eq!(
            drop.kind,
            MigrationKind::DropTriggers {
                table: "widget".to_owned()
            }
        );
        assert_eq!(
            (drop.status, drop.log_table.as_str()),
            (Status::Created, "widget_log")
        );
        assert!(drop.version > installed.version);
        assert_eq!(
            std::fs::read_to_string(&drop.path).unwrap(),
            drop_triggers_file_content(Dialect::Sqlite, None, "widget", "widget_log")
        );

        // Exported again: the same file, nothing written.
        let again = write(&[], &[plain("widget")], NOW + 120);
        assert_eq!(
            drop_of(&again),
            Some(Migration {
                status: Status::Unchanged,
                ..drop.clone()
            })
        );

        // The model declares `triggers` again: a new file installs them,
        // after the one that removed them, though it holds what the first
        // one held.
        let back = write(&[widget()], &[], NOW + 180);
        let reinstalled = triggers_of(&back);
        assert_eq!(reinstalled.status, Status::Created);
        assert_eq!(
            reinstalled.file_name(),
            "20261128233300_audit_triggers_widget.sql"
        );
        assert_eq!(
            std::fs::read(&reinstalled.path).unwrap(),
            std::fs::read(&installed.path).unwrap()
        );
        assert_eq!(drop_of(&back), None);
        let settled = write(&[widget()], &[], NOW + 240);
        assert!(
            settled.iter().all(|m| m.status == Status::Unchanged),
            "{settled:?}"
        );
        // And dropped a second time: a second file.
        let twice = drop_of(&write(&[], &[plain("widget")], NOW + 300)).unwrap();
        assert_eq!(
            (twice.status, twice.file_name().as_str()),
            (
                Status::Created,
                "20261128233500_drop_audit_triggers_widget.sql"
            )
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 5);
    }

    #[test]
    fn a_triggers_file_sorts_after_the_files_it_depends_on_whatever_the_clock() {
        let dir = tempfile::tempdir().unwrap();
        // A log table file written by a clock a day ahead.
        let ahead = write_at(
            Dialect::Sqlite,
            None,
            ["widget_log"],
            dir.path(),
            NOW + 86_400,
        )
        .unwrap();
        let written = write_schema_at(
            Dialect::Sqlite,
            None,
            [LogTable::from("widget_log")],
            [widget()],
            [],
            dir.path(),
            NOW,
        )
        .unwrap();
        assert_eq!(
            written[0],
            Migration {
                status: Status::Unchanged,
                ..ahead[0].clone()
            }
        );
        assert_eq!(
            triggers_of(&written).file_name(),
            "20261129233001_audit_triggers_widget.sql"
        );
        // And a file replacing triggers sorts after the file it replaces.
        std::fs::write(&triggers_of(&written).path, "-- edited").unwrap();
        let replaced =
            write_schema_at(Dialect::Sqlite, None, [], [widget()], [], dir.path(), NOW).unwrap();
        assert_eq!(replaced[0].status, Status::Superseded);
        assert_eq!(
            replaced[0].file_name(),
            "20261129233002_audit_triggers_widget.sql"
        );
    }

    #[test]
    fn models_with_triggers_on_one_table_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        let twice = write_schema_at(
            Dialect::MySql,
            None,
            [],
            [widget(), widget()],
            [],
            dir.path(),
            NOW,
        )
        .unwrap();
        assert_eq!(twice.len(), 1);
        let other = TriggerModel {
            fields: &[],
            ..widget()
        };
        let out = dir.path().join("out");
        let err = write_schema_at(Dialect::MySql, None, [], [widget(), other], [], &out, NOW)
            .unwrap_err();
        assert!(
            matches!(&err, MigrationError::ConflictingTriggers(table) if table == "widget"),
            "{err}"
        );
        let bad = TriggerModel {
            table: "widget; --",
            ..widget()
        };
        let err = write_schema_at(Dialect::MySql, None, [], [bad], [], &out, NOW).unwrap_err();
        assert!(matches!(err, MigrationError::InvalidTable(_)), "{err}");
        assert!(!out.exists());
    }

    #[test]
    fn other_files_are_ignored() {
        assert_eq!(
            parse_name("20250101000000_init.sql"),
            Some((20250101000000, "init.sql"))
        );
        assert_eq!(parse_name("1_x.up.sql"), Some((1, "x.up.sql")));
        for name in [
            "README.md",
            "_create_a.sql",
            "v1_create_a.sql",
            "20250101.sql",
        ] {
            assert_eq!(parse_name(name), None, "{name}");
        }
    }
}
