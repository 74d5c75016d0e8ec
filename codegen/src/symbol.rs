//! The attribute keywords `#[audited(...)]` and `#[audit(...)]` accept.

use std::fmt::{self, Display};

use syn::Path;

/// One attribute keyword.
#[derive(Copy, Clone)]
pub struct Symbol(pub &'static str);

/// The container attribute.
pub const AUDITED: Symbol = Symbol("audited");
/// The field attribute.
pub const AUDIT: Symbol = Symbol("audit");

/// `#[audited(table = "...")]`
pub const TABLE: Symbol = Symbol("table");
/// `#[audited(label = "...")]`
pub const LABEL: Symbol = Symbol("label");
/// `#[audited(crate = "...")]`
pub const CRATE: Symbol = Symbol("crate");
/// `#[audited(retention(...))]`
pub const RETENTION: Symbol = Symbol("retention");
/// `#[audited(retention(older_than = "..."))]`
pub const OLDER_THAN: Symbol = Symbol("older_than");
/// `#[audited(retention(keep_last = ...))]`
pub const KEEP_LAST: Symbol = Symbol("keep_last");

/// `#[audited(triggers)]`
pub const TRIGGERS: Symbol = Symbol("triggers");
/// `#[audited(partition(...))]`
pub const PARTITION: Symbol = Symbol("partition");
/// `#[audited(partition(by = "..."))]`
pub const BY: Symbol = Symbol("by");

/// `#[audit(pk)]`
pub const PK: Symbol = Symbol("pk");
/// `#[audit(skip)]`
pub const SKIP: Symbol = Symbol("skip");
/// `#[audit(redact)]`
pub const REDACT: Symbol = Symbol("redact");
/// `#[audit(rename = "...")]`
pub const RENAME: Symbol = Symbol("rename");
/// `#[audit(column = "...")]`
pub const COLUMN: Symbol = Symbol("column");

/// The keys `#[audited(...)]` accepts, for error messages.
pub const CONTAINER_KEYS: &str = "`table`, `label`, `crate`, `retention`, `triggers`, `partition`";
/// The keys `#[audited(partition(...))]` accepts, for error messages.
pub const PARTITION_KEYS: &str = "`by`";
/// The keys `#[audited(retention(...))]` accepts, for error messages.
pub const RETENTION_KEYS: &str = "`older_than`, `keep_last`";
/// The keys `#[audit(...)]` accepts, for error messages.
pub const FIELD_KEYS: &str = "`pk`, `skip`, `redact`, `rename`, `column`";

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
