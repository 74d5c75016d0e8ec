//! The database triggers of a model declared `#[audited(triggers)]`: per
//! dialect, the statements that install (and uninstall) triggers on the
//! model's table that write into its log table the row `log_change` writes
//! for the same change.
//!
//! The macro decides at compile time how each field's column is rendered as
//! the JSON serde gives for the field's Rust type ([`Render`]); a model
//! whose field types have no rendering does not compile. The statements are
//! pure functions of that description ([`TriggerModel`]) and of the few
//! settings known only at installation ([`TriggerOptions`]).
//!
//! What the triggers write, per column:
//! - `action`: `insert`, `update` or `delete`; `object_pk`: the primary
//!   key's column as text.
//! - `before` / `after`: a JSON object of every stored field (skipped ones
//!   left out, redacted ones as `"***"`); `changes`: the fields whose column
//!   differs, `{"key": {"from": old, "to": new}}` (every field from `null`
//!   on insert, to `null` on delete). An update that changes no stored field
//!   writes no row, unless LOG_UNCHANGED_UPDATES is set.
//! - the context columns (entry point, route, path, method, ip, user id
//!   and name, user agent, correlation id): what the runtime handed the
//!   database for the transaction ([`context`]), NULL when nothing was.
//! - `created_at`: the statement's time in UTC (microseconds on PostgreSQL
//!   and MySQL/MariaDB, milliseconds on SQLite).
//! - `event_id`: NULL, as `log_change` leaves it when it writes a row
//!   itself (only the asynchronous transports, which may deliver an event
//!   twice, give rows an event id to skip the second delivery by).
//!
//! ```
//! use awesome_audit_log_codegen::ddl::Dialect;
//! use awesome_audit_log_codegen::trigger::{
//!     Render, Stored, TriggerField, TriggerModel, TriggerOptions, install_statements,
//! };
//!
//! let fields = [
//!     TriggerField { column: "id", key: "id", stored: Stored::Plain(Render::Int) },
//!     TriggerField { column: "qty_col", key: "qty", stored: Stored::Plain(Render::Int) },
//! ];
//! let model = TriggerModel {
//!     table: "widget",
//!     log_table: "widget_log",
//!     pk_column: "id",
//!     pk_render: Render::Int,
//!     fields: &fields,
//! };
//! let sql = install_statements(Dialect::Sqlite, &model, &TriggerOptions::new());
//! assert_eq!(sql.len(), 7);
//! assert!(sql[4].starts_with("CREATE TRIGGER \"widget_audit_insert\" AFTER INSERT ON \"widget\""));
//! ```

pub mod context;
mod mysql;
mod postgres;
mod sqlite;

#[cfg(feature = "parse")]
pub mod classify;

use crate::ddl::{CORRELATION_ID, Dialect, bounded_name};

/// What a redacted field's value is stored as (a JSON string), by the
/// triggers and by `log_change` alike.
pub const REDACTED: &str = "***";

/// How a column's value becomes the JSON serde gives for the field's Rust
/// type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Render {
    /// `bool`: `true` / `false` (MySQL and SQLite store 1 / 0).
    Bool,
    /// A Rust integer type: a JSON number.
    Int,
    /// `String`: a JSON string.
    Text,
    /// `uuid::Uuid`: the hyphenated lower-case string (stored as a native
    /// UUID, 16 bytes or text).
    Uuid,
    /// `chrono::NaiveDate`: `"YYYY-MM-DD"`.
    Date,
    /// `chrono::DateTime<Utc>`: RFC 3339 in UTC with `Z` and as many
    /// fractional digits as chrono writes (none, 3 or 6).
    DateTimeUtc,
    /// `serde_json::Value`: the stored JSON document itself.
    Json,
}

impl Render {
    /// Whether a primary key of this rendering is written as `object_pk`
    /// the way its Rust type's `Display` writes it.
    pub const fn can_be_key(self) -> bool {
        matches!(self, Render::Int | Render::Text | Render::Uuid)
    }
}

/// How one field takes part in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stored {
    /// Stored as its JSON value.
    Plain(Render),
    /// Stored as `"***"`; a change of its column is still recorded.
    Redacted,
}

/// A stored field of the model (skipped fields are not listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TriggerField<'a> {
    /// Its column in the model's table.
    pub column: &'a str,
    /// Its key in the log's JSON objects.
    pub key: &'a str,
    /// Plain (and how rendered) or redacted.
    pub stored: Stored,
}

/// What the triggers of one model are generated from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TriggerModel<'a> {
    /// The model's table, which the triggers are on.
    pub table: &'a str,
    /// Its log table, which they write into.
    pub log_table: &'a str,
    /// The primary key's column.
    pub pk_column: &'a str,
    /// How the primary key is rendered (one that [`Render::can_be_key`]).
    pub pk_render: Render,
    /// The stored fields, in declaration order.
    pub fields: &'a [TriggerField<'a>],
}

impl<'a> TriggerModel<'a> {
    /// A model of which only the names are known: enough for
    /// [`uninstall_statements`] and [`trigger_names`], which read the
    /// table alone (and the options' schema), not for installing.
    ///
    /// ```
    /// use awesome_audit_log_codegen::ddl::Dialect;
    /// use awesome_audit_log_codegen::trigger::{TriggerModel, TriggerOptions, uninstall_statements};
    ///
    /// let named = TriggerModel::named("widget", "widget_log");
    /// assert_eq!(
    ///     uninstall_statements(Dialect::Sqlite, &named, &TriggerOptions::new())[0],
    ///     "DROP TRIGGER IF EXISTS \"widget_audit_insert\""
    /// );
    /// ```
    pub const fn named(table: &'a str, log_table: &'a str) -> Self {
        TriggerModel {
            table,
            log_table,
            pk_column: "",
            pk_render: Render::Int,
            fields: &[],
        }
    }
}

/// The most stored fields a model with triggers can have: PostgreSQL
/// functions take at most 100 arguments, and a JSON object is built with a
/// key and a value per field.
pub const MAX_TRIGGER_FIELDS: usize = 50;

/// What is known only when the triggers are installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TriggerOptions<'a> {
    /// The PostgreSQL schema of the log table (and of the trigger function);
    /// `None`: the search path's.
    pub schema: Option<&'a str>,
    /// LOG_UNCHANGED_UPDATES: an update that changes no stored field writes
    /// a row with empty `changes` too.
    pub log_unchanged_updates: bool,
    /// Whether the log table has the `correlation_id` column (tables the
    /// Django original or earlier versions created do not).
    pub correlation_id: bool,
}

impl TriggerOptions<'_> {
    /// The defaults: the search path's schema, unchanged updates not
    /// logged, a log table with `correlation_id`.
    pub const fn new() -> Self {
        Self {
            schema: None,
            log_unchanged_updates: false,
            correlation_id: true,
        }
    }
}

impl Default for TriggerOptions<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// The statements that install the model's triggers in `dialect`, to run
/// in order: every one replaces an older version of the same trigger, so
/// installing again changes nothing. On PostgreSQL `CREATE OR REPLACE
/// FUNCTION`, `DROP TRIGGER IF EXISTS` and `CREATE TRIGGER` (run them in one
/// transaction); on MySQL/MariaDB and SQLite `DROP TRIGGER IF EXISTS` for
/// each of the three triggers, then `CREATE TRIGGER` for each.
///
/// The names in `model` and `options` must be plain identifiers
/// ([`crate::ident::is_plain_identifier`]); the macro checks them.
pub fn install_statements(
    dialect: Dialect,
    model: &TriggerModel<'_>,
    options: &TriggerOptions<'_>,
) -> Vec<String> {
    match dialect {
        Dialect::Postgres => postgres::install(model, options),
        Dialect::MySql => mysql::install(model, options),
        Dialect::Sqlite => sqlite::install(model, options),
    }
}

/// The statements that remove the model's triggers (and, on PostgreSQL,
/// their function); each does nothing when there is nothing to remove.
///
/// ```
/// use awesome_audit_log_codegen::ddl::Dialect;
/// use awesome_audit_log_codegen::trigger::{Render, TriggerModel, TriggerOptions, uninstall_statements};
///
/// let model = TriggerModel {
///     table: "widget", log_table: "widget_log", pk_column: "id", pk_render: Render::Int, fields: &[],
/// };
/// assert_eq!(
///     uninstall_statements(Dialect::Postgres, &model, &TriggerOptions::new()),
///     [
///         "DROP TRIGGER IF EXISTS \"widget_audit\" ON \"widget\"",
///         "DROP FUNCTION IF EXISTS \"widget_audit_fn\"()",
///     ]
/// );
/// ```
pub fn uninstall_statements(
    dialect: Dialect,
    model: &TriggerModel<'_>,
    options: &TriggerOptions<'_>,
) -> Vec<String> {
    match dialect {
        Dialect::Postgres => postgres::uninstall(model, options),
        Dialect::MySql | Dialect::Sqlite => ACTIONS
            .iter()
            .map(|action| drop_trigger(dialect, model, *action))
            .collect(),
    }
}

/// The names of the model's triggers in `dialect`: PostgreSQL's one trigger
/// (its function is `<table>_audit_fn`), or MySQL's and SQLite's three, one
/// per action (`<table>_audit_insert`, ...), each cut to 63 bytes like an
/// index name.
pub fn trigger_names(dialect: Dialect, table: &str) -> Vec<String> {
    match dialect {
        Dialect::Postgres => vec![bounded_name(table, "audit")],
        Dialect::MySql | Dialect::Sqlite => ACTIONS
            .iter()
            .map(|action| action_trigger_name(table, *action))
            .collect(),
    }
}

/// The PostgreSQL function the model's trigger executes:
/// `<table>_audit_fn`, cut to 63 bytes like the trigger names; it lives in
/// the log table's schema.
///
/// ```
/// use awesome_audit_log_codegen::trigger::function_name;
///
/// assert_eq!(function_name("widget"), "widget_audit_fn");
/// assert!(function_name(&"w".repeat(63)).len() <= 63);
/// ```
pub fn function_name(table: &str) -> String {
    bounded_name(table, "audit_fn")
}

/// A change a trigger fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Insert,
    Update,
    Delete,
}

const ACTIONS: [Action; 3] = [Action::Insert, Action::Update, Action::Delete];

impl Action {
    /// The word in the log's `action` column (the original's).
    const fn word(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    /// The event in `CREATE TRIGGER`.
    const fn event(self) -> &'static str {
        match self {
            Action::Insert => "INSERT",
            Action::Update => "UPDATE",
            Action::Delete => "DELETE",
        }
    }
}

fn action_trigger_name(table: &str, action: Action) -> String {
    bounded_name(table, &format!("audit_{}", action.word()))
}

fn drop_trigger(dialect: Dialect, model: &TriggerModel<'_>, action: Action) -> String {
    format!(
        "DROP TRIGGER IF EXISTS {}",
        dialect.quote(&action_trigger_name(model.table, action))
    )
}

/// `text` as a SQL string literal, quotes doubled. The keys and names
/// written this way are plain (the macro checks them), so no dialect's
/// backslash rules come into play.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The log columns a trigger writes, quoted and joined: the row's own, then
/// the context's ([`context::CONTEXT_COLUMNS`], less `correlation_id` when
/// the table lacks it).
fn insert_columns(dialect: Dialect, options: &TriggerOptions<'_>) -> String {
    let mut columns = vec![
        "action",
        "object_pk",
        "before",
        "after",
        "changes",
        "created_at",
    ];
    columns.extend(context_columns(options));
    columns
        .iter()
        .map(|column| dialect.quote(column))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The context columns a trigger fills, in order.
fn context_columns(options: &TriggerOptions<'_>) -> impl Iterator<Item = &'static str> {
    let correlation_id = options.correlation_id;
    context::CONTEXT_COLUMNS
        .into_iter()
        .filter(move |column| correlation_id || *column != CORRELATION_ID)
}

/// The condition, after `keyword` (`WHERE` or `WHEN`), under which an
/// update writes a row: one of the stored fields changed (`changed` gives
/// a field's test). Empty when every update is logged
/// (LOG_UNCHANGED_UPDATES); `FALSE` when the model stores no field.
fn only_changed(
    keyword: &str,
    model: &TriggerModel<'_>,
    options: &TriggerOptions<'_>,
    changed: impl Fn(&TriggerField<'_>) -> String,
) -> String {
    if options.log_unchanged_updates {
        return String::new();
    }
    let any: Vec<String> = model.fields.iter().map(changed).collect();
    if any.is_empty() {
        format!(" {keyword} FALSE")
    } else {
        format!(" {keyword} {}", any.join(" OR "))
    }
}

/// The values of one log row, as SQL expressions in [`insert_columns`]
/// order.
struct RowValues {
    action: Action,
    object_pk: String,
    before: String,
    after: String,
    changes: String,
}

impl RowValues {
    /// The expressions joined, with the dialect's `now` and context reads.
    fn join(&self, dialect: Dialect, options: &TriggerOptions<'_>, now: &str) -> String {
        let action = literal(self.action.word());
        let mut values = vec![
            action,
            self.object_pk.clone(),
            self.before.clone(),
            self.after.clone(),
            self.changes.clone(),
            now.to_owned(),
        ];
        values.extend(context_columns(options).map(|column| context::read(dialect, column)));
        values.join(", ")
    }
}

/// `OLD` or `NEW`, as the trigger names the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Old,
    New,
}

/// The column `column` of `OLD` and of `NEW`, quoted.
fn old_and_new(dialect: Dialect, column: &str) -> (String, String) {
    (
        Row::Old.column(dialect, column),
        Row::New.column(dialect, column),
    )
}

/// The statements of MySQL and SQLite: the three triggers dropped, then
/// `creates` (insert, update, delete).
fn drop_then_create(
    dialect: Dialect,
    model: &TriggerModel<'_>,
    creates: [String; 3],
) -> Vec<String> {
    ACTIONS
        .iter()
        .map(|action| drop_trigger(dialect, model, *action))
        .chain(creates)
        .collect()
}

impl Row {
    /// The column `column` of this row, quoted.
    fn column(self, dialect: Dialect, column: &str) -> String {
        let row = match self {
            Row::Old => "OLD",
            Row::New => "NEW",
        };
        format!("{row}.{}", dialect.quote(column))
    }
}

/// What each dialect writes for the pieces every trigger shares.
trait Json {
    const DIALECT: Dialect;
    /// The JSON value of `value` (a column reference) rendered as `render`.
    fn render(render: Render, value: &str) -> String;
    /// The JSON string `"***"`.
    fn redacted() -> String {
        literal(REDACTED)
    }
    /// The function that builds a JSON object from keys and values.
    const OBJECT: &'static str;
    /// The type a primary key is cast to for `object_pk`.
    const TEXT: &'static str;
    /// The JSON null.
    const NULL: &'static str;

    /// A JSON object of `pairs` (key literal, JSON value).
    fn object(pairs: &[(String, String)]) -> String {
        let args: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}, {v}")).collect();
        format!("{}({})", Self::OBJECT, args.join(", "))
    }

    /// The primary key of `row` as text, as its `Display` writes it.
    fn object_pk(model: &TriggerModel<'_>, row: Row) -> String {
        let column = row.column(Self::DIALECT, model.pk_column);
        match model.pk_render {
            Render::Uuid => Self::render(Render::Uuid, &column),
            _ => format!("CAST({column} AS {})", Self::TEXT),
        }
    }

    /// The JSON value of `field` in `row`.
    fn field(field: &TriggerField<'_>, row: Row) -> String {
        match field.stored {
            Stored::Plain(render) => Self::render(render, &row.column(Self::DIALECT, field.column)),
            Stored::Redacted => Self::redacted(),
        }
    }

    /// The snapshot of `row`, as `before` / `after` store it.
    fn snapshot(model: &TriggerModel<'_>, row: Row) -> String {
        let pairs: Vec<(String, String)> = model
            .fields
            .iter()
            .map(|field| (literal(field.key), Self::field(field, row)))
            .collect();
        Self::object(&pairs)
    }

    /// `{"from": from, "to": to}`.
    fn change(from: &str, to: &str) -> String {
        Self::object(&[
            (literal("from"), from.to_owned()),
            (literal("to"), to.to_owned()),
        ])
    }

    /// The `changes` of an insert (every field from null) or a delete
    /// (every field to null).
    fn all_changed(model: &TriggerModel<'_>, action: Action) -> String {
        let pairs: Vec<(String, String)> = model
            .fields
            .iter()
            .map(|field| {
                let change = match action {
                    Action::Delete => Self::change(&Self::field(field, Row::Old), Self::NULL),
                    _ => Self::change(Self::NULL, &Self::field(field, Row::New)),
                };
                (literal(field.key), change)
            })
            .collect();
        Self::object(&pairs)
    }

    /// The full row of an insert or a delete.
    fn whole_row(model: &TriggerModel<'_>, action: Action) -> RowValues {
        let (before, after, pk) = match action {
            Action::Delete => (Self::snapshot(model, Row::Old), "NULL".to_owned(), Row::Old),
            _ => ("NULL".to_owned(), Self::snapshot(model, Row::New), Row::New),
        };
        RowValues {
            action,
            object_pk: Self::object_pk(model, pk),
            before,
            after,
            changes: Self::all_changed(model, action),
        }
    }

    /// The row of an update whose `changes` is the expression `changes`.
    fn updated_row(model: &TriggerModel<'_>, changes: String) -> RowValues {
        RowValues {
            action: Action::Update,
            object_pk: Self::object_pk(model, Row::New),
            before: Self::snapshot(model, Row::Old),
            after: Self::snapshot(model, Row::New),
            changes,
        }
    }
}

#[cfg(test)]
mod tests;
