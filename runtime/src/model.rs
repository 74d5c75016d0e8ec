//! What `#[audited]` implements for a struct: the [`Audited`] trait and the
//! static [`ModelInfo`] describing its log table.

use std::fmt::Display;

use serde::Serialize;

use awesome_audit_log_codegen::partition::PartitionBy;

use crate::Dialect;
use crate::error::SnapshotError;
use awesome_audit_log_codegen::trigger::TriggerModel;

/// An audited model. Implemented by `#[audited]`; not meant to be
/// implemented by hand.
///
/// Generic code can take any audited model:
///
/// ```
/// use awesome_audit_log::{Audited, audited};
///
/// #[audited(table = "widget")]
/// struct Widget {
///     id: i64,
///     qty: i32,
/// }
///
/// fn log_table_of<M: Audited>() -> &'static str {
///     M::MODEL.log_table()
/// }
/// assert_eq!(log_table_of::<Widget>(), "widget_log");
/// ```
pub trait Audited: Send + Sync + 'static {
    /// The typed row of this model's log table (`<Struct>Log`).
    type Log: From<crate::LogRecord> + crate::LogRow + std::fmt::Debug + Clone + Send + Sync;

    /// The model's stored fields (`<Struct>Field`), for history filters and
    /// diffs.
    type Field: AuditField;

    /// Names, fields and DDL of the model's log table.
    const MODEL: &'static ModelInfo;

    /// The primary key as text (the log's `object_pk`).
    fn object_pk(&self) -> String;

    /// Hands every stored field (all but `#[audit(skip)]` ones) to `visitor`.
    #[doc(hidden)]
    fn visit_fields<V: FieldVisitor>(&self, visitor: &mut V) -> Result<(), SnapshotError>;

    /// Hands every stored field that differs between `before` and `after` to
    /// `visitor`; touches nothing (and allocates nothing) when none differs.
    #[doc(hidden)]
    fn visit_changes<V: DiffVisitor>(
        before: &Self,
        after: &Self,
        visitor: &mut V,
    ) -> Result<(), SnapshotError>;

    /// Rebuilds a value from a logged snapshot; the fields the snapshot
    /// cannot give (skipped, redacted, missing, or no longer of the
    /// field's type) are taken from `base`, or listed when there is none.
    #[doc(hidden)]
    fn restore(
        snapshot: &serde_json::Map<String, serde_json::Value>,
        base: Option<Self>,
    ) -> Result<Self, Vec<crate::restore::UnrestorableField>>
    where
        Self: Sized;
}

/// The stored fields of one audited model: the enum `#[audited]`
/// generates (`<Struct>Field`, a variant per stored field in PascalCase),
/// so that a history filter or a diff names a field the compiler checks.
///
/// ```
/// use awesome_audit_log::{AuditField, audited};
///
/// #[audited(table = "widget")]
/// struct Widget {
///     id: i64,
///     #[audit(rename = "quantity")]
///     qty: i32,
///     #[audit(skip)]
///     cache: Vec<u8>,
/// }
///
/// assert_eq!(WidgetField::Qty.key(), "quantity");
/// assert_eq!(WidgetField::Qty.name(), "qty");
/// assert_eq!(WidgetField::from_key("quantity"), Some(WidgetField::Qty));
/// assert_eq!(WidgetField::ALL, [WidgetField::Id, WidgetField::Qty]);
/// ```
pub trait AuditField:
    Copy + Eq + std::hash::Hash + std::fmt::Debug + Send + Sync + 'static
{
    /// Every stored field, in declaration order.
    const ALL: &'static [Self];

    /// The key in the log's JSON objects.
    fn key(self) -> &'static str;

    /// The Rust field name.
    fn name(self) -> &'static str;

    /// The field stored under `key`, if the model has one.
    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|field| field.key() == key)
    }
}

/// Static description of an audited model, generated at compile time.
#[derive(Debug)]
pub struct ModelInfo {
    label: &'static str,
    table: &'static str,
    log_table: &'static str,
    struct_name: &'static str,
    module_path: &'static str,
    pk_field: &'static str,
    fields: &'static [FieldInfo],
    ddl: [&'static str; 3],
    retention: Option<Retention>,
    triggers: Option<&'static TriggerModel<'static>>,
    partition: Option<PartitionBy>,
}

impl ModelInfo {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        label: &'static str,
        table: &'static str,
        log_table: &'static str,
        struct_name: &'static str,
        module_path: &'static str,
        pk_field: &'static str,
        fields: &'static [FieldInfo],
        ddl: [&'static str; 3],
    ) -> Self {
        Self {
            label,
            table,
            log_table,
            struct_name,
            module_path,
            pk_field,
            fields,
            ddl,
            retention: None,
            triggers: None,
            partition: None,
        }
    }

    /// The model with database triggers (`#[audited(triggers)]`).
    #[doc(hidden)]
    pub const fn with_triggers(self, triggers: &'static TriggerModel<'static>) -> Self {
        Self {
            triggers: Some(triggers),
            ..self
        }
    }

    /// The model with its log table's partitioning
    /// (`#[audited(partition(by = "..."))]`).
    #[doc(hidden)]
    pub const fn with_partition(self, partition: PartitionBy) -> Self {
        Self {
            partition: Some(partition),
            ..self
        }
    }

    /// What the model's database triggers are generated from, for a model
    /// declared `#[audited(triggers)]`; `None` for the others.
    ///
    /// ```
    /// use awesome_audit_log::{Audited, audited};
    ///
    /// #[audited(table = "widget", triggers)]
    /// struct Widget { id: i64, #[audit(column = "qty_col")] qty: i32 }
    ///
    /// let triggers = Widget::MODEL.triggers().unwrap();
    /// assert_eq!(triggers.fields[1].column, "qty_col");
    /// assert_eq!(triggers.fields[1].key, "qty");
    /// ```
    pub const fn triggers(&self) -> Option<&'static TriggerModel<'static>> {
        self.triggers
    }

    /// How the model's log table is partitioned by `created_at` on
    /// PostgreSQL, from `#[audited(partition(by = "..."))]` (see
    /// [`partition`](crate::partition)).
    ///
    /// ```
    /// use awesome_audit_log::partition::PartitionBy;
    /// use awesome_audit_log::{Audited, audited};
    ///
    /// #[audited(table = "payment", partition(by = "month"))]
    /// struct Payment { id: i64 }
    ///
    /// assert_eq!(Payment::MODEL.partition(), Some(PartitionBy::Month));
    /// assert!(PaymentLog::DDL_POSTGRES.contains("PARTITION BY RANGE (\"created_at\")"));
    /// ```
    pub const fn partition(&self) -> Option<PartitionBy> {
        self.partition
    }

    /// The model with its retention policy (`#[audited(retention(...))]`).
    #[doc(hidden)]
    pub const fn with_retention(self, retention: Retention) -> Self {
        Self {
            retention: Some(retention),
            ..self
        }
    }

    /// The model label, `app.model` (what AUDIT_MODELS and NOT_AUDIT_MODELS name).
    pub const fn label(&self) -> &'static str {
        self.label
    }

    /// The audited table, e.g. `widget`.
    pub const fn table(&self) -> &'static str {
        self.table
    }

    /// The log table, e.g. `widget_log`.
    pub const fn log_table(&self) -> &'static str {
        self.log_table
    }

    /// The Rust struct's name.
    pub const fn struct_name(&self) -> &'static str {
        self.struct_name
    }

    /// The module the struct is declared in (`crate::path::to::module`).
    pub const fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The crate the struct is declared in.
    pub fn crate_name(&self) -> &'static str {
        self.module_path
            .split_once("::")
            .map_or(self.module_path, |(krate, _)| krate)
    }

    /// The Rust name of the primary-key field.
    pub const fn pk_field(&self) -> &'static str {
        self.pk_field
    }

    /// The stored fields (skipped ones are not listed), in declaration order.
    pub const fn fields(&self) -> &'static [FieldInfo] {
        self.fields
    }

    /// The retention policy of the model's log table, from
    /// `#[audited(retention(...))]`: what the generated `prune` (and
    /// [`Prune::model`](crate::retention::Prune::model)) deletes.
    ///
    /// ```
    /// use std::time::Duration;
    /// use awesome_audit_log::{Audited, audited};
    ///
    /// #[audited(table = "widget", retention(older_than = "90d", keep_last = 100))]
    /// struct Widget { id: i64 }
    ///
    /// let policy = Widget::MODEL.retention().unwrap();
    /// assert_eq!(policy.older_than, Some(Duration::from_secs(90 * 24 * 60 * 60)));
    /// assert_eq!(policy.keep_last, Some(100));
    /// ```
    pub const fn retention(&self) -> Option<Retention> {
        self.retention
    }

    /// What creates the log table in `dialect`, unqualified: `CREATE TABLE
    /// IF NOT EXISTS` and its indexes, the statements joined by `;\n`.
    pub const fn ddl(&self, dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::Postgres => self.ddl[0],
            Dialect::MySql => self.ddl[1],
            Dialect::Sqlite => self.ddl[2],
        }
    }
}

/// Which rows of a log table a prune deletes: a row goes when every rule
/// given lets it go, that is when it is older than `older_than` and not
/// among the newest `keep_last` rows of its object. A model's policy comes
/// from `#[audited(retention(older_than = "90d", keep_last = 100))]`
/// ([`ModelInfo::retention`]); see [`retention`](crate::retention).
///
/// ```
/// use std::time::Duration;
/// use awesome_audit_log::retention::Retention;
///
/// let policy = Retention::new(Some(Duration::from_secs(30 * 86_400)), None);
/// assert_eq!(policy.keep_last, None);
/// assert!(!policy.is_empty());
/// assert!(Retention::default().is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Retention {
    /// Rows logged longer ago than this may go (by `created_at`).
    pub older_than: Option<std::time::Duration>,
    /// Each object keeps its newest this many rows (by `created_at`, then
    /// `id`).
    pub keep_last: Option<u64>,
}

impl Retention {
    /// A policy of these rules (`None`: no such rule).
    pub const fn new(older_than: Option<std::time::Duration>, keep_last: Option<u64>) -> Self {
        Self {
            older_than,
            keep_last,
        }
    }

    /// Whether the policy has no rule (and so lets no row go).
    pub const fn is_empty(&self) -> bool {
        self.older_than.is_none() && self.keep_last.is_none()
    }
}

/// One stored field of an audited model.
#[derive(Debug)]
pub struct FieldInfo {
    name: &'static str,
    key: &'static str,
    redacted: bool,
}

impl FieldInfo {
    #[doc(hidden)]
    pub const fn new(name: &'static str, key: &'static str, redacted: bool) -> Self {
        Self {
            name,
            key,
            redacted,
        }
    }

    /// The Rust field name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The key in the log's JSON objects (differs from the name with `rename`).
    pub const fn key(&self) -> &'static str {
        self.key
    }

    /// Whether the value is stored masked (`#[audit(redact)]`).
    pub const fn redacted(&self) -> bool {
        self.redacted
    }
}

/// A type whose values can be stored in an audit log: serializable to JSON
/// and comparable. Implemented for every `Serialize + PartialEq` type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in an audit log",
    label = "an audited field must implement `serde::Serialize` and `PartialEq`",
    note = "mark the field `#[audit(skip)]` to leave it out of the log"
)]
pub trait AuditValue: Serialize + PartialEq {}

impl<T: Serialize + PartialEq + ?Sized> AuditValue for T {}

/// A type that can be a model's primary key: it is written as text.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an audit primary key",
    label = "the primary key is stored as text and must implement `Display`",
    note = "implement `Display` for it, or mark another field `#[audit(pk)]`"
)]
pub trait AuditKey: Display {}

impl<T: Display + ?Sized> AuditKey for T {}

/// Receives the stored fields of one value.
#[doc(hidden)]
pub trait FieldVisitor {
    /// A plain field.
    fn field<T: AuditValue + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SnapshotError>;
    /// A redacted field (its value is never seen).
    fn redacted(&mut self, key: &'static str) -> Result<(), SnapshotError>;
}

/// Receives the fields that differ between two values.
#[doc(hidden)]
pub trait DiffVisitor {
    /// A plain field that changed.
    fn changed<T: AuditValue + ?Sized>(
        &mut self,
        key: &'static str,
        before: &T,
        after: &T,
    ) -> Result<(), SnapshotError>;
    /// A redacted field that changed.
    fn redacted_changed(&mut self, key: &'static str) -> Result<(), SnapshotError>;
}

#[doc(hidden)]
#[inline]
pub fn differs<T: AuditValue + ?Sized>(before: &T, after: &T) -> bool {
    before != after
}

#[doc(hidden)]
#[inline]
pub fn differs_redacted<T: PartialEq + ?Sized>(before: &T, after: &T) -> bool {
    before != after
}

#[doc(hidden)]
#[inline]
pub fn pk_to_string<T: AuditKey + ?Sized>(pk: &T) -> String {
    pk.to_string()
}
