//! Per-model audit log tables for PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! Put [`#[audited]`](audited) on a struct and every change you log with the
//! generated `log_change` lands in that model's own log table (`widget` →
//! `widget_log`), with the state before and after, the changed fields, who
//! caused it and when. The tables are compatible with the Django package
//! awesome-audit-log-django, so services written with either share them.
//!
//! ```
//! use awesome_audit_log::{AuditConfig, Auditor, Database, LogOutcome, audited};
//!
//! #[audited(table = "widget")]
//! #[derive(Debug, Clone, PartialEq)]
//! pub struct Widget {
//!     #[audit(pk)]
//!     pub id: i64,
//!     pub name: String,
//!     pub qty: i32,
//!     #[audit(skip)]
//!     pub cache: Vec<u8>,
//!     #[audit(redact)]
//!     pub api_key: String,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let auditor = Auditor::builder(AuditConfig::default())
//!     .database("default", Database::connect("sqlite::memory:").await?)
//!     .build()?;
//!
//! let w = Widget { id: 1, name: "B".into(), qty: 2, cache: vec![], api_key: "s3cret".into() };
//! let w2 = Widget { qty: 5, ..w.clone() };
//! // Each call says what became of its row (`LogOutcome` is `#[must_use]`).
//! let insert = Widget::log_change(&auditor, None, Some(&w)).await?;
//! let update = Widget::log_change(&auditor, Some(&w), Some(&w2)).await?; // only `qty` in `changes`
//! let delete = Widget::log_change(&auditor, Some(&w2), None).await?;
//! assert!([insert, update, delete].iter().all(|o| *o == LogOutcome::Written));
//!
//! let rows: Vec<WidgetLog> = WidgetLog::for_object(&auditor, &w.id).await?;
//! assert_eq!(rows.len(), 3);
//! assert_eq!(rows[0].after.as_ref().unwrap()["api_key"], "***");
//! assert!(rows[0].after.as_ref().unwrap().get("cache").is_none());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Features
//! | feature | default | what |
//! |---|---|---|
//! | `sqlite` | yes | SQLite databases (bundled SQLite) |
//! | `postgres` | no | PostgreSQL databases |
//! | `mysql` | no | MySQL / MariaDB databases |
//! | `build` | no | `build`: a re-export of the `awesome-audit-log-build` crate, kept for existing build scripts (new ones depend on that crate, which needs no database driver) |
//! | `http` | no | `http::AuditLayer`, a tower layer that fills the [`context`] from HTTP requests |
//! | `axum` | no | `http` plus axum's matched route template, original URI and `ConnectInfo` peer address |
//! | `clap` | no | `AuditContext::from_clap` and `context::clap_options` for command-line commands |
//! | `redis` | no | the broker transport (`ASYNC_TRANSPORT = "redis"`) and `broker::BrokerWorker` |
//!
//! # Module map
//! The runtime is built in layers, the bottom one first; a module uses only
//! its own layer and the layers listed before it:
//!
//! 1. **Model and values** (pure, no I/O): `model` (the [`Audited`] trait,
//!    [`ModelInfo`]), [`json`] (snapshots and diffs as JSON text), `action`
//!    ([`Action`]), `record` ([`LogRecord`], a row as read back), [`config`],
//!    [`context`] (the audit context and its task-local scope), `error`
//!    ([`Error`], and `error::classify`, the one reading of database errors),
//!    [`registry`].
//! 2. **Event**: `event` (one change, fully built: the row, its event time,
//!    its context, its values in column order), `outcome` ([`LogOutcome`],
//!    [`BatchOutcome`]).
//! 3. **Backends**: `backend` (the `Backend` trait, one driver per database,
//!    the pool dispatch, table SQL, the one row decoder). It knows rows and
//!    SQL, nothing of aliases, transports, transactions or the context.
//!    `db` ([`Database`]) wraps a backend pool for users.
//! 4. **Sink**: `sink` (databases by alias, RAISE / FALLBACK, the table
//!    cache, first-use creation, chunked inserts, the counters, grouping by
//!    table).
//! 5. **Transports**: `transport` (inline, the in-process writer, the
//!    [`outbox`] and its worker, the Redis [`broker`] and its worker, the one
//!    retry loop), chosen once when the auditor is built; they take the sink.
//! 6. **Facade**: `auditor` ([`Auditor`], its builder), [`transaction`]
//!    ([`AuditTransaction`]), [`schema`] and `build` (schema export),
//!    [`retention`] (prune and dedupe), [`partition`] (partition
//!    maintenance on PostgreSQL), [`triggers`] (capture by generated
//!    database triggers).
//!
//! Within the first layer, [`config`] names the context's [`EntryPoint`]
//! (for CAPTURE_*), and only the context's scope ([`context::capture`])
//! reads the configuration. Beside the layers, [`http`] (feature `http`)
//! fills the context from requests; it uses only the first layer.
//! `tests/layers.rs` checks this map against every `crate::` path.
//!
//! [`EntryPoint`]: context::EntryPoint

// Without a backend feature no database can be configured: the write path
// still compiles (for build scripts and macro tests) but cannot run.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(unused, unreachable_code)
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// 1. Model and values.
mod action;
pub mod config;
pub mod context;
mod error;
pub mod json;
mod model;
mod record;
pub mod registry;
mod restore;
// 2. Event.
mod event;
mod outcome;
// 3. Backends.
mod backend;
mod db;
// 4. Sink.
mod sink;
// 5. Transports.
mod transport;
// 6. Facade.
mod auditor;
#[cfg(feature = "build")]
#[cfg_attr(docsrs, doc(cfg(feature = "build")))]
pub mod build;
pub mod history;
pub mod partition;
pub mod retention;
pub mod schema;
pub mod transaction;
pub mod triggers;
// Beside them.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;

pub use transport::outbox;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use transport::redis as broker;

/// Makes a struct an audited model.
///
/// ```
/// use awesome_audit_log::audited;
///
/// #[audited(table = "widget", label = "shop.widget")]
/// pub struct Widget {
///     #[audit(pk)]
///     pub id: i64,
///     #[audit(rename = "title")]
///     pub name: String,
///     #[audit(redact)]
///     pub api_key: String,
///     #[audit(skip)]
///     pub cache: Vec<u8>,
/// }
/// # assert_eq!(WidgetLog::TABLE, "widget_log");
/// ```
///
/// # Container arguments `#[audited(...)]`
/// | argument | default | meaning |
/// |---|---|---|
/// | `table = "..."` | the struct's name in snake_case | the audited table; the log table is `<table>_log`. A plain SQL identifier of at most 59 characters |
/// | `label = "..."` | `<crate>.<struct name in lower case>` | the model label that AUDIT_MODELS / NOT_AUDIT_MODELS name |
/// | `crate = "..."` | `::awesome_audit_log` | path to this crate, for crates that re-export it |
/// | `partition(by = "month")` | none | on PostgreSQL, the log table is created partitioned by range of `created_at`, one partition per `"day"`, `"week"` or `"month"` (UTC), with a DEFAULT partition; kept in shape by [`partition::Maintain`]. MySQL/MariaDB and SQLite create the usual table |
/// | `retention(older_than = "90d", keep_last = 100)` | none | the log's retention policy, run by `Struct::prune(&auditor)` (see [`retention`]): rows older than `older_than` (a whole number of `s`, `m`, `h`, `d` or `w`, more than zero) that are not among the newest `keep_last` (1 or more) of their object go; either rule alone, or both |
/// | `triggers` | off | generate database triggers that log changes made without `log_change` (see [`triggers`]): `Struct::install_triggers(&auditor)`, `Struct::uninstall_triggers`, `Struct::trigger_ddl(dialect)` and the `TRIGGERS_POSTGRES` / `TRIGGERS_MYSQL` / `TRIGGERS_SQLITE` constants; every stored field's type must be one a trigger renders as serde does |
///
/// # Field attributes `#[audit(...)]`
/// | attribute | meaning |
/// |---|---|
/// | `pk` | the primary key (default: the field named `id`); written as text with `Display` into `object_pk`, so it can be neither skipped nor redacted |
/// | `skip` | never stored nor compared (no trait bounds needed) |
/// | `redact` | stored as `"***"`; a change is still recorded, as `{"from": "***", "to": "***"}`. Not on the primary key, marked or the implicit `id`: `object_pk` holds it in clear |
/// | `rename = "..."` | the key in the JSON objects |
/// | `column = "..."` | the field's column in the table, read by the triggers (default: the field's name) |
///
/// Every stored field must implement `serde::Serialize`, `serde::Deserialize`
/// (past versions are read back with it) and `PartialEq`.
/// Values are stored as serde_json writes them: non-finite floats become
/// `null`; `chrono` times as RFC 3339 strings.
///
/// # What it generates
/// - an implementation of [`Audited`] (label, table, fields, primary key as
///   text, JSON snapshot, field-by-field diff) and a registration in
///   [`registry`];
/// - `Struct::log_change(&auditor, before, after)` and
///   `Struct::log_changes(&auditor, pairs)`;
/// - `StructLog`, the typed row of the log table, with
///   `StructLog::for_object(&auditor, &pk)`, `row.diff(&other)` and the
///   constants `TABLE`, `DDL_POSTGRES`, `DDL_MYSQL`, `DDL_SQLITE` (what
///   creates the log table and its indexes: statements joined by `;\n`);
/// - `StructField`, an enum of the stored fields ([`AuditField`]);
/// - the read side: `Struct::history(&auditor, &pk)`, `Struct::as_of`,
///   `Struct::as_of_all` and `Struct::restore` (see [`history`]);
/// - `Struct::prune(&auditor)`, which deletes what the retention policy lets
///   go, in batches ([`Error::NoRetentionRule`] without a policy; see
///   [`retention`]).
///
/// # Rejected at compile time
/// ```compile_fail
/// #[awesome_audit_log::audited]
/// enum NotAStruct { A, B }
/// ```
/// ```compile_fail
/// #[awesome_audit_log::audited]
/// struct NoKey { name: String }
/// ```
/// ```compile_fail
/// #[awesome_audit_log::audited(table = "widget; drop table x")]
/// struct Widget { id: i64 }
/// ```
/// ```compile_fail
/// #[awesome_audit_log::audited]
/// struct Token { #[audit(pk, redact)] secret: String }
/// ```
/// ```compile_fail
/// #[awesome_audit_log::audited]
/// struct Token { #[audit(redact)] id: String }
/// ```
/// ```compile_fail
/// #[awesome_audit_log::audited(retention(older_than = "3 months"))]
/// struct Widget { id: i64 }
/// ```
/// ```compile_fail
/// struct NotSerializable;
/// #[awesome_audit_log::audited]
/// struct Widget { id: i64, bad: NotSerializable }
/// ```
pub use awesome_audit_log_macros::audited;

pub use action::{Action, UnknownAction};
pub use auditor::{Auditor, AuditorBuilder};
pub use awesome_audit_log_codegen::ddl::Dialect;
pub use config::{AuditConfig, ConfigError};
pub use db::{Database, UnsupportedScheme};
pub use error::{Error, SnapshotError};
pub use json::REDACTED;
pub use model::{AuditField, AuditKey, AuditValue, Audited, FieldInfo, ModelInfo};
pub use outcome::{BatchOutcome, LogOutcome};
pub use record::{LogRecord, LogRow};
pub use sink::AuditStats;
pub use transaction::{AuditDatabase, AuditTransaction};

/// The `chrono` this crate uses (`created_at` is a `chrono::DateTime<Utc>`).
pub use chrono;
/// The `serde_json` this crate uses (`before`, `after`, `changes` are `serde_json::Value`s).
pub use serde_json;

/// Items the generated code names. Not public API: no stability guarantees.
#[doc(hidden)]
pub mod __private {
    pub use crate::Dialect;
    pub use crate::history::{
        AsOf, AsOfAll, At, Diff, History, Unrestorable, UnrestorableField, as_of, as_of_all,
        restore,
    };
    pub use crate::model::{DiffVisitor, FieldVisitor, differs, differs_redacted, pk_to_string};
    pub use crate::registry::Registration;
    pub use crate::restore::Restoring;
    pub use crate::retention::{Prune, PruneReport, Retention};
    pub use crate::triggers::{
        Render, Stored, TriggerField, TriggerModel, TriggerOutcome, install as install_triggers,
        uninstall as uninstall_triggers,
    };
    pub use crate::{
        Action, AuditDatabase, AuditField, AuditTransaction, Audited, Auditor, BatchOutcome, Error,
        FieldInfo, LogOutcome, LogRecord, LogRow, ModelInfo, SnapshotError,
    };
    pub use awesome_audit_log_codegen::partition::PartitionBy;
    pub use chrono::{DateTime, Utc};
    pub use inventory;
    pub use serde;
    pub use serde_json::Map;
    pub use serde_json::Value;
}

pub mod guide;
