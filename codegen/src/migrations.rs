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

/// What a migration file's name holds between its version and its table.
const CREATE: &str = "_create_";

/// The latest second a 14-digit version can hold: 9999-12-31 23:59:59 UTC.
const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

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

/// A log table's migration file, as [`write()`] left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The log table it creates.
    pub log_table: String,
    /// Its version, the number its name starts with.
    pub version: u64,
    /// The file.
    pub path: PathBuf,
    /// Whether it was written now, was already there, or is outdated.
    pub status: Status,
}

impl Migration {
    /// The file's name, `<version>_create_<log table>.sql`.
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
    /// A log table name is not a plain SQL identifier.
    InvalidTable(String),
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

/// The version of the UTC second `unix_seconds`: `YYYYMMDDHHMMSS` as a number,
/// or `None` after the year 9999.
///
/// ```
/// use awesome_audit_log_codegen::migrations::version_at;
///
/// assert_eq!(version_at(0), Some(19700101000000));
/// assert_eq!(version_at(1_735_689_599), Some(20241231235959));
/// ```
pub fn version_at(unix_seconds: u64) -> Option<u64> {
    if unix_seconds > MAX_UNIX_SECONDS {
        return None;
    }
    let (days, second_of_day) = (unix_seconds / 86_400, unix_seconds % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's `civil_from_days`),
    // in unsigned arithmetic: eras start on 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let (hour, minute, second) = (
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    Some(
        year * 10_000_000_000
            + month * 100_000_000
            + day * 1_000_000
            + hour * 10_000
            + minute * 100
            + second,
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
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| MigrationError::Clock)?
        .as_secs();
    write_tables_at(dialect, pg_schema, log_tables, dir, now)
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
    if let Some(schema) = pg_schema {
        check_pg_schema(schema)?;
    }
    // Each table once. Given more than once (models sharing a log table),
    // it is partitioned when any of them is: a partitioned table takes the
    // rows of every model, and the interval does not change the file.
    let mut tables: BTreeMap<&str, Option<PartitionBy>> = BTreeMap::new();
    for table in log_tables {
        if !is_plain_identifier(table.name) || table.name.len() > MAX_IDENTIFIER_LEN {
            return Err(MigrationError::InvalidTable(table.name.to_owned()));
        }
        let partition = tables.entry(table.name).or_insert(table.partition);
        *partition = partition.or(table.partition);
    }
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| MigrationError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let existing = Existing::read(dir)?;
    let mut taken = existing.versions;
    let mut next = unix_seconds;
    let mut migrations = Vec::with_capacity(tables.len());
    for (table, partition) in tables {
        let content = file_content_partitioned(dialect, pg_schema, table, partition);
        if let Some((version, path)) = existing.creates.get(table) {
            let current = std::fs::read(path).map_err(io(path))?;
            let status = if current == content.as_bytes() {
                Status::Unchanged
            } else {
                Status::Differs
            };
            migrations.push(Migration {
                log_table: table.to_owned(),
                version: *version,
                path: path.clone(),
                status,
            });
            continue;
        }
        let version = loop {
            let version = version_at(next).ok_or(MigrationError::Clock)?;
            next += 1;
            if taken.insert(version) {
                break version;
            }
        };
        let path = dir.join(file_name(version, table));
        std::fs::write(&path, content).map_err(io(&path))?;
        migrations.push(Migration {
            log_table: table.to_owned(),
            version,
            path,
            status: Status::Created,
        });
    }
    Ok(migrations)
}

/// The migrations already in a directory.
struct Existing {
    /// Every version a `<version>_<name>.sql` file holds.
    versions: BTreeSet<u64>,
    /// The earliest `<version>_create_<table>.sql` of each table.
    creates: BTreeMap<String, (u64, PathBuf)>,
}

impl Existing {
    fn read(dir: &Path) -> Result<Existing, MigrationError> {
        let io = |source| MigrationError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut existing = Existing {
            versions: BTreeSet::new(),
            creates: BTreeMap::new(),
        };
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            let Some((version, rest)) = parse_name(name) else {
                continue;
            };
            existing.versions.insert(version);
            if let Some(table) = rest
                .strip_prefix(&CREATE[1..])
                .and_then(|rest| rest.strip_suffix(".sql"))
            {
                let earliest = existing
                    .creates
                    .entry(table.to_owned())
                    .or_insert_with(|| (version, path.clone()));
                if version < earliest.0 {
                    *earliest = (version, path);
                }
            }
        }
        Ok(existing)
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
    fn versions_are_utc_times() {
        assert_eq!(version_at(NOW), Some(20261128233000));
        assert_eq!(version_at(951_782_400), Some(20000229000000));
        assert_eq!(version_at(MAX_UNIX_SECONDS), Some(99991231235959));
        assert_eq!(version_at(MAX_UNIX_SECONDS + 1), None);
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
