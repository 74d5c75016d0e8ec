//! The build-script schema export (feature `build`), re-exported from
//! [`awesome-audit-log-build`](https://docs.rs/awesome-audit-log-build).
//!
//! **Prefer that crate in new build scripts**: it depends on the model code
//! only, while this feature builds the whole runtime (sqlx, tokio) for the
//! build script. This module stays for the build scripts written against
//! it; the functions are the same, and [`export_schema_from`] now says what
//! was done with each file ([`Migration`]).
//!
//! ```no_run
//! // build.rs, with `awesome-audit-log-build = "0.1"` under [build-dependencies]
//! use awesome_audit_log_build::{Dialect, export_schema};
//!
//! fn main() {
//!     if let Err(e) = export_schema(Dialect::Postgres, None, "migrations") {
//!         println!("cargo::error=exporting the audit log tables: {e}");
//!     }
//! }
//! ```

pub use awesome_audit_log_build::{
    Dialect, Error, Migration, MigrationError, Status, export_schema, export_schema_from,
};
