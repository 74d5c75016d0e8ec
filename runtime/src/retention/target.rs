//! The table a retention run deletes from, and the check that it is a
//! log table before a row of it is touched.

use awesome_audit_log_codegen::ddl::{COLUMNS, ORIGINAL_COLUMNS};
use awesome_audit_log_codegen::ident::is_log_table_name;

use crate::Error;
use crate::sink::Sink;

/// The log table of a run: a model's, or one named at run time.
#[derive(Debug, Clone)]
pub(super) enum LogTable {
    /// The log table of a model (it may not exist yet: nothing was logged).
    Model(&'static str),
    /// A table named at run time (it must exist).
    Named(String),
}

impl LogTable {
    pub(super) fn name(&self) -> &str {
        match self {
            LogTable::Model(name) => name,
            LogTable::Named(name) => name,
        }
    }

    /// Whether the table exists on the database at `index`, once it is
    /// checked to be a log table: a name that a log table can have (a
    /// plain identifier ending in `_log`), and every column of the log
    /// tables the Django original creates. Anything else is
    /// [`Error::NotALogTable`], as is a named table that does not exist.
    pub(super) async fn exists(&self, sink: &Sink, index: usize) -> Result<bool, Error> {
        let name = self.name();
        let not_one = |reason: &str| Error::NotALogTable {
            table: name.chars().take(64).collect(),
            reason: reason.to_owned(),
        };
        if !is_log_table_name(name) {
            return Err(not_one(
                "a log table's name is a plain SQL identifier (ASCII letters, digits and `_`) \
                 of at most 63 characters ending in `_log`",
            ));
        }
        let columns = sink.columns(index, name).await?;
        if columns.is_empty() {
            return match self {
                LogTable::Model(_) => Ok(false),
                LogTable::Named(_) => Err(not_one("there is no such table")),
            };
        }
        let missing: Vec<String> = COLUMNS[..ORIGINAL_COLUMNS]
            .iter()
            .filter(|column| {
                !columns
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(column.name))
            })
            .map(|column| format!("`{}`", column.name))
            .collect();
        if !missing.is_empty() {
            return Err(not_one(&format!("it has no column {}", missing.join(", "))));
        }
        Ok(true)
    }
}
