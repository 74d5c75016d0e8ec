//! Which tables a command works on: the managed ones (listed in
//! `awesome_audit_log_tables`), the log tables of the models the binary
//! links (when embedded), and those named with `--table`. Never by a name
//! pattern: `LIKE '%_log'` also matches `django_admin_log`, `blog` and
//! `catalog`.

use std::collections::BTreeMap;

use awesome_audit_log_codegen::ident::is_log_table_name;
use serde::Serialize;

use crate::error::Error;

/// Why a table is taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Sources {
    /// Listed in the table of managed log tables.
    pub managed: bool,
    /// The log table of a model the binary links.
    pub model: bool,
    /// Named with `--table`.
    pub named: bool,
}

/// A table a command works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Its name, as registered, declared or named (a registered name is
    /// checked with [`Target::valid_name`] before it reaches SQL).
    pub name: String,
    /// Why it is taken.
    pub sources: Sources,
}

impl Target {
    /// Whether the name can be a log table's (only such names are ever
    /// spliced into SQL).
    pub(crate) fn valid_name(&self) -> bool {
        is_log_table_name(&self.name)
    }
}

/// Checks the names given with `--table`: each must be a log table's name.
pub(crate) fn check_named(named: &[String]) -> Result<(), Error> {
    match named.iter().find(|name| !is_log_table_name(name)) {
        Some(bad) => Err(Error::TableName(bad.clone())),
        None => Ok(()),
    }
}

/// The tables to work on, by name, each once.
pub(crate) fn collect<'a>(
    managed: &[String],
    models: impl IntoIterator<Item = &'a str>,
    named: &[String],
) -> Vec<Target> {
    let mut tables: BTreeMap<String, Sources> = BTreeMap::new();
    for name in managed {
        tables.entry(name.clone()).or_default().managed = true;
    }
    for name in models {
        tables.entry(name.to_owned()).or_default().model = true;
    }
    for name in named {
        tables.entry(name.clone()).or_default().named = true;
    }
    tables
        .into_iter()
        .map(|(name, sources)| Target { name, sources })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_once_with_all_its_sources() {
        let targets = collect(
            &[
                "widget_log".to_owned(),
                "a\"; DROP TABLE x; --_log".to_owned(),
            ],
            ["widget_log", "gizmo_log"],
            &["widget_log".to_owned(), "old_log".to_owned()],
        );
        let names: Vec<_> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "a\"; DROP TABLE x; --_log",
                "gizmo_log",
                "old_log",
                "widget_log"
            ]
        );
        assert!(!targets[0].valid_name());
        assert_eq!(
            targets[3].sources,
            Sources {
                managed: true,
                model: true,
                named: true
            }
        );
    }

    #[test]
    fn named_tables_must_be_log_table_names() {
        assert!(check_named(&["widget_log".to_owned()]).is_ok());
        for bad in ["catalog", "blog", "x;_log", ""] {
            assert!(
                matches!(check_named(&[bad.to_owned()]), Err(Error::TableName(_))),
                "{bad}"
            );
        }
    }
}
