//! The build-script helper (feature `build`): exports the log tables of a
//! crate's own `#[audited]` models as SQL files, before the crate is
//! compiled. A build script cannot see the registry of the crate it builds,
//! so this reads the crate's sources with the same model code the macro
//! uses, and writes exactly what [`crate::schema::export`] writes.
//!
//! In `build.rs` (with `awesome-audit-log = { features = ["build"] }` under
//! `[build-dependencies]`):
//!
//! ```no_run
//! use awesome_audit_log::Dialect;
//!
//! fn main() {
//!     awesome_audit_log::build::export_schema(Dialect::Postgres, None, "migrations/audit")
//!         .expect("export audit log tables");
//! }
//! ```

use std::path::{Path, PathBuf};

use awesome_audit_log_codegen::scan;

use crate::{Dialect, Error};

/// Scans `$CARGO_MANIFEST_DIR/src` and writes one DDL file per log table for
/// `dialect` into `out_dir` (relative paths are taken from the manifest
/// directory). Prints `cargo:rerun-if-changed=src`. Returns the files.
pub fn export_schema(
    dialect: Dialect,
    pg_schema: Option<&str>,
    out_dir: impl AsRef<Path>,
) -> Result<Vec<PathBuf>, Error> {
    let manifest_dir =
        PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| Error::Io {
                path: PathBuf::from("CARGO_MANIFEST_DIR"),
                source: std::io::Error::other("not run by cargo: CARGO_MANIFEST_DIR is not set"),
            })?,
        );
    let crate_name = std::env::var("CARGO_PKG_NAME")
        .unwrap_or_default()
        .replace('-', "_");
    println!("cargo:rerun-if-changed=src");
    export_schema_from(
        &manifest_dir.join("src"),
        &crate_name,
        dialect,
        pg_schema,
        &manifest_dir.join(out_dir),
    )
}

/// Like [`export_schema`] for any source directory, without cargo's environment.
pub fn export_schema_from(
    src_dir: &Path,
    crate_name: &str,
    dialect: Dialect,
    pg_schema: Option<&str>,
    out_dir: &Path,
) -> Result<Vec<PathBuf>, Error> {
    let models = scan::models_in_dir(src_dir, crate_name).map_err(|e| Error::Io {
        path: e.path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.message),
    })?;
    crate::schema::write_files(
        dialect,
        pg_schema,
        models.iter().map(|m| m.log_table.as_str()),
        out_dir,
    )
}
