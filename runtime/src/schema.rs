//! Exports the log tables' DDL as SQL files, one per table, named as sqlx
//! migrations: `<version>_create_<table>.sql`, the version being the UTC
//! time (`YYYYMMDDHHMMSS`) the file was first written. A later export keeps
//! an existing file and its version, and never rewrites its content (sqlx
//! checks the checksums of applied migrations); the rules are those of
//! [`awesome_audit_log_codegen::migrations`], which the build-script crate
//! `awesome-audit-log-build` writes through too, so both write the same
//! files.
//!
//! A model partitioned on PostgreSQL (`#[audited(partition(by = "..."))]`)
//! gets its partitioned log table: the parent, its indexes, the DEFAULT
//! partition and the registration. The file does not depend on the date,
//! so partition maintenance ([`partition::Maintain`](crate::partition::Maintain),
//! or `partition maintain` of the CLI) creates the partitions of the
//! intervals: run it once after migrating, then daily.
//!
//! A model declared `#[audited(triggers)]` also gets the file that installs
//! its database triggers, `<version>_audit_triggers_<table>.sql`: the
//! statements of `Widget::trigger_ddl` (with the log table and the
//! PostgreSQL function in `pg_schema`), as one script each database's
//! migrator runs. Its version is later than the log table's file; the
//! model's own table must be created by an earlier migration of the
//! directory. Triggers, unlike tables, are replaced by installing them
//! again, and a later version of the library may generate other ones: when
//! the table's newest triggers file holds other triggers than this
//! version's, a new file is written with a new version
//! ([`Status::Superseded`]), and the older one stays as it was applied. A
//! model that no longer declares `triggers` gets
//! `<version>_drop_audit_triggers_<table>.sql`, which removes them
//! ([`MigrationKind::DropTriggers`]). The
//! triggers write the columns of the log table the export creates: a log
//! table of the Django original or of an earlier version needs `schema
//! apply` of the CLI first (or install the triggers with
//! `Widget::install_triggers`, which writes what the table has). They
//! leave unchanged updates unlogged, as LOG_UNCHANGED_UPDATES does by
//! default.
//!
//! ```standalone_crate
//! use awesome_audit_log::{Dialect, audited, schema};
//!
//! #[audited(table = "widget")]
//! struct Widget { id: i64, qty: i32 }
//!
//! let dir = tempfile::tempdir().unwrap();
//! let files = schema::export(Dialect::Postgres, None, dir.path()).unwrap();
//! let widget = files.iter().find(|f| f.to_string_lossy().ends_with("_create_widget_log.sql")).unwrap();
//! let sql = std::fs::read_to_string(widget).unwrap();
//! assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"widget_log\""));
//!
//! // Exported again: the same files.
//! assert_eq!(schema::export(Dialect::Postgres, None, dir.path()).unwrap(), files);
//! ```

use std::path::{Path, PathBuf};

use awesome_audit_log_codegen::migrations::{self, LogTable, MigrationError, ModelTable};
pub use awesome_audit_log_codegen::migrations::{Migration, MigrationKind, Status};

use crate::partition::PartitionBy;

use crate::{Dialect, Error};

/// Writes the DDL of every registered model's log table for `dialect`
/// (in `pg_schema` on PostgreSQL) into `dir`, which is created if needed,
/// and the file that installs the triggers of each model declared
/// `#[audited(triggers)]`, and the file that removes the triggers of each
/// model that no longer declares them. A table whose file is already there
/// keeps it untouched; when its content differs from this DDL, a `tracing`
/// warning says so, as it does for a triggers file written to replace
/// older triggers and for a file written to remove them. Returns the
/// files: the log tables' sorted by log table, then the triggers' sorted
/// by table, then those that remove triggers ([`export_migrations`] says
/// what was done with each).
pub fn export(
    dialect: Dialect,
    pg_schema: Option<&str>,
    dir: &Path,
) -> Result<Vec<PathBuf>, Error> {
    Ok(export_migrations(dialect, pg_schema, dir)?
        .into_iter()
        .map(|migration| migration.path)
        .collect())
}

/// [`export`], returning what was done with each file: created, unchanged,
/// left differing ([`Status::Differs`], a log table's file written by
/// another version or for another schema), or written to replace older
/// triggers ([`Status::Superseded`]); [`Migration::kind`] says whether it
/// creates a log table, installs triggers or removes them
/// ([`MigrationKind::DropTriggers`]).
///
/// ```standalone_crate
/// use awesome_audit_log::schema::{self, MigrationKind, Status};
/// use awesome_audit_log::{Dialect, audited};
///
/// #[audited(table = "widget", triggers)]
/// struct Widget { id: i64, qty: i32 }
///
/// let dir = tempfile::tempdir().unwrap();
/// let written = schema::export_migrations(Dialect::Sqlite, None, dir.path()).unwrap();
/// let triggers = written
///     .iter()
///     .find(|m| m.kind == MigrationKind::Triggers { table: "widget".into() })
///     .unwrap();
/// assert_eq!(triggers.status, Status::Created);
/// assert!(triggers.file_name().ends_with("_audit_triggers_widget.sql"));
///
/// let again = schema::export_migrations(Dialect::Sqlite, None, dir.path()).unwrap();
/// assert!(again.iter().all(|m| m.status == Status::Unchanged));
/// ```
pub fn export_migrations(
    dialect: Dialect,
    pg_schema: Option<&str>,
    dir: &Path,
) -> Result<Vec<Migration>, Error> {
    if let Some(schema) = pg_schema {
        crate::AuditConfig {
            pg_schema: Some(schema.to_owned()),
            ..crate::AuditConfig::default()
        }
        .validate()?;
    }
    let models = crate::registry::models();
    let written = migrations::write_schema(
        dialect,
        pg_schema,
        models
            .iter()
            .map(|m| LogTable::new(m.log_table(), m.partition())),
        models.iter().filter_map(|m| m.triggers().copied()),
        models
            .iter()
            .filter(|m| m.triggers().is_none())
            .map(|m| ModelTable {
                table: m.table(),
                log_table: m.log_table(),
            }),
        dir,
    )
    .map_err(|e| match e {
        MigrationError::Io { path, source } => Error::Io { path, source },
        other => Error::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, other.to_string()),
        },
    })?;
    for migration in &written {
        if let Some(notice) = migration.notice(dialect) {
            tracing::warn!(log_table = %migration.log_table, "{notice}");
        }
    }
    Ok(written)
}

/// The file name of a log table's DDL for a version:
/// `<version>_create_<table>.sql`. [`export`] takes the version from the
/// clock when it first writes a table's file, and keeps the file's version
/// afterwards.
///
/// ```
/// let name = awesome_audit_log::schema::file_name(20260101120000, "widget_log");
/// assert_eq!(name, "20260101120000_create_widget_log.sql");
/// ```
pub fn file_name(version: u64, log_table: &str) -> String {
    migrations::file_name(version, log_table)
}

/// The content of an unpartitioned log table's DDL file.
///
/// ```
/// use awesome_audit_log::{Dialect, schema};
///
/// let sql = schema::file_content(Dialect::Sqlite, None, "widget_log");
/// assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"widget_log\""));
/// ```
pub fn file_content(dialect: Dialect, pg_schema: Option<&str>, log_table: &str) -> String {
    migrations::file_content(dialect, pg_schema, log_table)
}

/// The content of the DDL file [`export`] writes for a log table
/// partitioned by `partition` (or not): on PostgreSQL, the partitioned
/// table without the partitions of the intervals, which partition
/// maintenance creates; elsewhere [`file_content`].
///
/// ```
/// use awesome_audit_log::partition::PartitionBy;
/// use awesome_audit_log::{Dialect, schema};
///
/// let sql = schema::file_content_partitioned(Dialect::Postgres, None, "ledger_log", Some(PartitionBy::Month));
/// assert!(sql.contains(") PARTITION BY RANGE (\"created_at\")"));
/// assert!(sql.contains("`partition maintain --by <day|week|month>`"));
/// ```
pub fn file_content_partitioned(
    dialect: Dialect,
    pg_schema: Option<&str>,
    log_table: &str,
    partition: Option<PartitionBy>,
) -> String {
    migrations::file_content_partitioned(dialect, pg_schema, log_table, partition)
}
