//! Exports the audit log tables of a crate's own `#[audited]` models as SQL
//! migration files, from its build script.
//!
//! A build script runs before its crate is compiled, so it cannot ask the
//! crate's registry of models (`awesome_audit_log::registry`). This crate
//! reads the crate's sources with the same model code the `#[audited]` macro
//! uses, and writes exactly the files `awesome_audit_log::schema::export`
//! writes. It depends on that model code only: no sqlx, no tokio, no
//! database driver in the build.
//!
//! ```toml
//! [build-dependencies]
//! awesome-audit-log-build = "0.1"
//! ```
//!
//! ```no_run
//! // build.rs
//! use awesome_audit_log_build::{Dialect, export_schema};
//!
//! fn main() {
//!     // Prints `cargo:rerun-if-changed=src`, so the export runs again when
//!     // a model changes, and a `cargo:warning` for an outdated file.
//!     if let Err(e) = export_schema(Dialect::Postgres, None, "migrations") {
//!         println!("cargo::error=exporting the audit log tables: {e}");
//!     }
//! }
//! ```
//!
//! # The files
//!
//! One file per log table, `<version>_create_<log table>.sql`, holding its
//! `CREATE TABLE IF NOT EXISTS` statement: the naming of sqlx migrations, so
//! the directory can be the application's own `migrations/` and
//! `sqlx::migrate!()` (or `sqlx migrate run`) creates the log tables.
//!
//! - The version is the UTC time the file was first written,
//!   `YYYYMMDDHHMMSS`, so a log table's migration runs after the older
//!   migrations of the directory (the table it logs is usually created by
//!   one of them). Tables exported in the same second get consecutive
//!   seconds: versions are unique in the directory.
//! - The version then stays: when the directory holds a file
//!   `<version>_create_<log table>.sql`, it is kept as it is. Its content is
//!   never rewritten either, since sqlx refuses an applied migration whose
//!   checksum changed; when it differs from what this version of the
//!   library writes (another `pg_schema`, say), [`export_schema`] prints a
//!   `cargo:warning` and leaves it: a change to a log table needs a
//!   migration of its own.
//! - Commit the files: they are the migrations your deployments apply.
//!
//! # Partitioned log tables
//!
//! A model marked `#[audited(partition(by = "day" | "week" | "month"))]`
//! gets, in the PostgreSQL files, its log table partitioned by range of
//! `created_at`: the partitioned parent with its keys and indexes, its
//! DEFAULT partition and its registration. A file that is never rewritten
//! cannot know the date it is applied on, so it creates none of the
//! partitions of the intervals: run `awesome-audit-log partition maintain`
//! (or `awesome_audit_log::partition::Maintain`) once after migrating, then
//! daily. It creates the current and coming intervals' partitions and moves
//! into them any row logged before it ran, which waited in the DEFAULT
//! partition. MySQL/MariaDB and SQLite files hold the usual table.
//!
//! # Database triggers
//!
//! A model declared `#[audited(triggers)]` also gets the file that installs
//! its triggers, `<version>_audit_triggers_<table>.sql`: the statements its
//! `trigger_ddl(dialect)` returns (with the log table and the PostgreSQL
//! function in `pg_schema`), read from the field types with the macro's own
//! code, so the file is the one `awesome_audit_log::schema::export`
//! writes. It is one script every database's migrator runs as it is
//! (`sqlx::migrate!`, `sqlx migrate run`), its version later than the log
//! table's file. The model's own table must be created by an earlier
//! migration of the directory.
//!
//! Triggers are not tables: installing them again replaces them, and a
//! later version of the library may generate other ones. When the table's
//! newest triggers file holds what this version generates, it is left
//! alone; when it holds something else, a new file is written with a new
//! version ([`Status::Superseded`], and [`export_schema`] prints a
//! `cargo:warning` naming it): applying it replaces the triggers, and the
//! older file stays, as it was applied. The triggers write the columns of
//! the log table the export creates (`correlation_id` included): a log
//! table the Django original or an earlier version created needs
//! `awesome-audit-log schema apply` first. They leave
//! unchanged updates unlogged, the default of LOG_UNCHANGED_UPDATES.
//!
//! A model that no longer declares `triggers`, while its table's newest
//! triggers file installs them, gets the file that removes them,
//! `<version>_drop_audit_triggers_<table>.sql` ([`MigrationKind::DropTriggers`],
//! with a `cargo:warning`); the log table and its rows stay. A model
//! deleted from the sources gets none: remove its triggers with a
//! migration of your own.

use std::fmt;
use std::path::{Path, PathBuf};

use awesome_audit_log_codegen::migrations::{LogTable, ModelTable};
use awesome_audit_log_codegen::scan::{self, ScanError};

pub use awesome_audit_log_codegen::ddl::Dialect;
pub use awesome_audit_log_codegen::migrations::{Migration, MigrationError, MigrationKind, Status};

/// Why the schema could not be exported.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `CARGO_MANIFEST_DIR` is not set: [`export_schema`] was not run by
    /// cargo (use [`export_schema_from`] outside build scripts).
    NotInBuildScript,
    /// A source file could not be read, or holds an invalid `#[audited]` model.
    Scan(ScanError),
    /// The files could not be written, or the schema or a table name is invalid.
    Migrations(MigrationError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotInBuildScript => {
                write!(f, "not run by cargo: CARGO_MANIFEST_DIR is not set")
            }
            Error::Scan(e) => write!(f, "reading the models: {e}"),
            Error::Migrations(e) => write!(f, "writing the migrations: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::NotInBuildScript => None,
            Error::Scan(e) => Some(e),
            Error::Migrations(e) => Some(e),
        }
    }
}

impl From<ScanError> for Error {
    fn from(e: ScanError) -> Self {
        Error::Scan(e)
    }
}

impl From<MigrationError> for Error {
    fn from(e: MigrationError) -> Self {
        Error::Migrations(e)
    }
}

/// For build scripts: scans `$CARGO_MANIFEST_DIR/src` and writes one
/// migration file per log table for `dialect` (in `pg_schema` on
/// PostgreSQL) into `out_dir`; a relative `out_dir` is taken from the
/// manifest directory, and the triggers file of each model declared
/// `#[audited(triggers)]`, and the file that removes the triggers of each
/// model that no longer declares them. Prints
/// `cargo:rerun-if-changed=src`, a `cargo:warning` for each file left
/// outdated ([`Status::Differs`]), one for each triggers file written to
/// replace older triggers ([`Status::Superseded`]) and one for each file
/// written to remove them. Returns the files: the log tables' sorted by
/// log table, then the triggers' sorted by table, then those that remove
/// triggers.
///
/// ```no_run
/// use awesome_audit_log_build::{Dialect, export_schema};
///
/// for dialect in Dialect::ALL {
///     export_schema(dialect, None, format!("migrations/{}", dialect.name()))?;
/// }
/// # Ok::<_, awesome_audit_log_build::Error>(())
/// ```
pub fn export_schema(
    dialect: Dialect,
    pg_schema: Option<&str>,
    out_dir: impl AsRef<Path>,
) -> Result<Vec<PathBuf>, Error> {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").ok_or(Error::NotInBuildScript)?);
    let crate_name = std::env::var("CARGO_PKG_NAME")
        .unwrap_or_default()
        .replace('-', "_");
    println!("cargo:rerun-if-changed=src");
    let migrations = export_schema_from(
        &manifest_dir.join("src"),
        &crate_name,
        dialect,
        pg_schema,
        &manifest_dir.join(out_dir),
    )?;
    for migration in &migrations {
        if let Some(warning) = migration.notice(dialect) {
            println!("cargo:warning={warning}");
        }
    }
    Ok(migrations.into_iter().map(|m| m.path).collect())
}

/// Like [`export_schema`] for any source directory, without cargo's
/// environment and without printing anything: `crate_name` is the first
/// part of the models' default labels, and the result says what was done
/// with each file.
///
/// ```
/// use awesome_audit_log_build::{Dialect, MigrationKind, Status, export_schema_from};
///
/// let src = tempfile::tempdir()?;
/// std::fs::write(
///     src.path().join("lib.rs"),
///     "#[audited(table = \"widget\")] pub struct Widget { id: i64, qty: i32 }",
/// )?;
/// let out = tempfile::tempdir()?;
/// let files = export_schema_from(src.path(), "shop", Dialect::Sqlite, None, out.path())?;
/// assert_eq!(files[0].log_table, "widget_log");
/// assert_eq!(files[0].status, Status::Created);
/// assert!(files[0].file_name().ends_with("_create_widget_log.sql"));
///
/// // A model with triggers: its triggers file too, after its log table's.
/// std::fs::write(
///     src.path().join("gadget.rs"),
///     "#[audited(table = \"gadget\", triggers)] pub struct Gadget { id: i64, qty: i32 }",
/// )?;
/// let files = export_schema_from(src.path(), "shop", Dialect::Sqlite, None, out.path())?;
/// let triggers = files.iter().find(|m| m.kind == MigrationKind::Triggers { table: "gadget".into() });
/// assert!(triggers.unwrap().file_name().ends_with("_audit_triggers_gadget.sql"));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub fn export_schema_from(
    src_dir: &Path,
    crate_name: &str,
    dialect: Dialect,
    pg_schema: Option<&str>,
    out_dir: &Path,
) -> Result<Vec<Migration>, Error> {
    let models = scan::models_in_dir(src_dir, crate_name)?;
    let tables = models
        .iter()
        .map(|m| LogTable::new(&m.log_table, m.partition));
    // What the macro hands the runtime for a model with triggers, from the
    // same model code.
    let with_triggers: Vec<_> = models
        .iter()
        .filter(|m| m.triggers)
        .map(|m| (m, m.trigger_fields()))
        .collect();
    let triggers = with_triggers
        .iter()
        .map(|(model, fields)| model.trigger_model(fields));
    // The models that declare none: the triggers an earlier file installed
    // on their tables are removed.
    let without_triggers = models.iter().filter(|m| !m.triggers).map(|m| ModelTable {
        table: &m.table,
        log_table: &m.log_table,
    });
    Ok(awesome_audit_log_codegen::migrations::write_schema(
        dialect,
        pg_schema,
        tables,
        triggers,
        without_triggers,
        out_dir,
    )?)
}
