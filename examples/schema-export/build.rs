//! Exports the log tables of this crate's `#[audited]` models as SQL files,
//! one directory per dialect, ready for `sqlx migrate` or any other tool.
//! The export prints `cargo:rerun-if-changed=src`, so it runs again when a
//! model changes; a table's file, once written, keeps its name.

use awesome_audit_log_build::{Dialect, export_schema};

fn main() {
    for dialect in Dialect::ALL {
        let dir = format!("migrations/{}", dialect.name());
        if let Err(e) = export_schema(dialect, None, &dir) {
            // A build script reports through cargo; this fails the build with the message.
            println!("cargo::error=exporting audit log tables to {dir}: {e}");
        }
    }
}
