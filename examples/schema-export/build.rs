//! Exports the log tables of this crate's `#[audited]` models as SQL files,
//! one directory per dialect, ready for `sqlx migrate` or any other tool.

use awesome_audit_log::Dialect;

fn main() {
    for dialect in Dialect::ALL {
        let dir = format!("migrations/{}", dialect.name());
        if let Err(e) = awesome_audit_log::build::export_schema(dialect, None, &dir) {
            // A build script reports through cargo; this fails the build with the message.
            println!("cargo::error=exporting audit log tables to {dir}: {e}");
        }
    }
}
