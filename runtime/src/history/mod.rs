//! Reading the log back: one object's history with filters and keyset
//! pages, its state at any moment, every object's state at a moment,
//! diffs between any two versions, restores, and what one request,
//! command or job did across every model.
//!
//! `#[audited]` gives each model typed entry points to all of it:
//!
//! | generated | runtime |
//! |---|---|
//! | `Widget::history(&auditor, &pk)` | [`History`] (filters, [`Page`], [`Cursor`], stream) |
//! | `Widget::as_of(&auditor, &pk, at)` | [`as_of`] → [`AsOf`] |
//! | `Widget::as_of_all(&auditor, at)` | [`as_of_all`] → [`AsOfAll`] |
//! | `Widget::restore(&auditor, &version, current)` | [`restore()`] |
//! | `WidgetLog::diff(&self, &other)` | [`Diff`] ([`FieldChange`], [`PatchOp`]) |
//! | `WidgetField::Qty` | [`AuditField`](crate::AuditField) |
//!
//! and [`AuditLog`] reads across every registered model.
//!
//! Every filter runs in SQL on every backend. The log tables this library
//! creates have the indexes these reads need: `(object_pk, created_at,
//! id)`, `created_at`, `(user_id, created_at)` and `correlation_id`.
//! Tables made by the Django original are read the same way (without the
//! indexes until they are added; `correlation_id` is `None` there).
//!
//! The log is read from the audit database (DATABASE_ALIAS), or from
//! `default` where that alias is missing and FALLBACK_TO_DEFAULT applies.
//! What is read is untrusted: a row that cannot be decoded is an
//! [`Error::Decode`](crate::Error::Decode) naming its table and column.
//!
//! ```
//! use awesome_audit_log::history::{AsOf, At};
//! use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
//!
//! #[audited(table = "widget")]
//! #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
//! struct Widget { id: i64, name: String, qty: i32 }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
//! let v1 = Widget { id: 1, name: "bolt".into(), qty: 1 };
//! let v2 = Widget { qty: 3, ..v1.clone() };
//! let _ = Widget::log_change(&auditor, None, Some(&v1)).await?;
//! let _ = Widget::log_change(&auditor, Some(&v1), Some(&v2)).await?;
//! let _ = Widget::log_change(&auditor, Some(&v2), None).await?;
//!
//! let rows = Widget::history(&auditor, &1).all().await?;
//! assert_eq!(rows.len(), 3);
//!
//! // The state just after the first row, and after the last one.
//! let first = Widget::as_of(&auditor, &1, At::row(rows[0].id)).await?;
//! assert_eq!(first.value(), Some(&v1));
//! assert!(matches!(Widget::as_of(&auditor, &1, At::row(rows[2].id)).await?, AsOf::Deleted { .. }));
//!
//! // Between the first and the second version, and as a JSON Patch.
//! let diff = rows[0].diff(&rows[1]);
//! assert_eq!(diff.field(WidgetField::Qty).unwrap().to_as::<i32>()?, Some(3));
//!
//! // Bring the deleted object back: it does not exist now (`None`).
//! let restored = Widget::restore(&auditor, &rows[2], None).await?;
//! assert_eq!(restored, v2);
//! # Ok(()) }
//! ```

mod across;
mod as_of;
mod diff;
mod query;
mod restore;

pub use self::across::{AuditLog, ModelRecord};
#[doc(hidden)]
pub use self::as_of::as_of_statement;
pub use self::as_of::{AsOf, AsOfAll, At, Partial, as_of, as_of_all};
pub use self::diff::{Diff, FieldChange, PatchOp};
pub use self::query::{Cursor, History, InvalidCursor, Page};
pub use self::restore::restore;
#[doc(hidden)]
pub use crate::backend::Param;
pub use crate::restore::{Unrestorable, UnrestorableField};
