//! The model of an `#[audited]` struct and the DDL of its log table.
//!
//! This crate is an implementation detail of
//! [`awesome-audit-log`](https://docs.rs/awesome-audit-log). It is shared by
//! the `#[audited]` proc-macro, the runtime and the build-script crate
//! (`awesome-audit-log-build`) so that all of them derive exactly the same
//! log tables from the same source: the macro sees one struct at a time, the
//! build crate scans a crate's sources, and [`migrations`] names and writes
//! the migration files for both the runtime and the build crate.
//!
//! ```
//! use awesome_audit_log_codegen::ddl::{create_table, Dialect};
//!
//! let sql = create_table(Dialect::Sqlite, None, "widget_log");
//! assert!(sql.starts_with("CREATE TABLE IF NOT EXISTS \"widget_log\""));
//! ```

pub mod ddl;
pub mod duration;
pub mod ident;
pub mod migrations;
pub mod partition;
pub mod trigger;

#[cfg(feature = "parse")]
pub mod ast;
#[cfg(feature = "parse")]
pub mod attr;
#[cfg(feature = "parse")]
mod check;
#[cfg(feature = "parse")]
pub mod ctxt;
#[cfg(feature = "parse")]
pub mod scan;
#[cfg(feature = "parse")]
mod symbol;
