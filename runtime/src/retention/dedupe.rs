//! [`Dedupe`]: deleting the update rows that record no change.

use super::batches::{Batches, batch_options};
use super::report::{PruneProgress, PruneReport};
use super::target::LogTable;
use crate::backend::Sweep;
use crate::{Audited, Auditor, Error, ModelInfo};

/// A dedupe of one log table, built then [`run`](Self::run): deletes the
/// `update` rows whose `changes` are empty (SQL NULL, JSON `null` or `{}`),
/// which the Django original writes for every save, changed or not. Inserts
/// and deletes are kept whatever their `changes`, and so is text that is
/// not JSON. Runs in batches like a [`Prune`](super::Prune), on the same
/// database, on log tables only.
///
/// ```
/// use awesome_audit_log::retention::Dedupe;
/// use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
///
/// #[audited(table = "widget")]
/// struct Widget { id: i64, qty: i32 }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let auditor = Auditor::builder(AuditConfig::default()).database("default", pool.clone()).build()?;
/// let w = Widget { id: 1, qty: 2 };
/// let _ = Widget::log_change(&auditor, None, Some(&w)).await?;
/// // Saves that changed nothing, as the original logs them.
/// for _ in 0..3 {
///     sqlx::query("INSERT INTO widget_log (action, object_pk, changes, created_at) \
///                  VALUES ('update', '1', '{}', '2026-01-02 10:00:00.000000+00:00')")
///         .execute(&pool)
///         .await?;
/// }
///
/// let report = Dedupe::model::<Widget>(&auditor).run(|_| {}).await?;
/// assert_eq!(report.rows, 3);
/// assert_eq!(Widget::history(&auditor, &1).all().await?.len(), 1);
/// # Ok(()) }
/// ```
#[must_use = "a dedupe deletes nothing until it is run"]
#[derive(Debug, Clone)]
pub struct Dedupe<'a> {
    auditor: &'a Auditor,
    table: LogTable,
    batches: Batches,
}

impl<'a> Dedupe<'a> {
    /// A dedupe of the log table named `log_table` (in PG_SCHEMA on
    /// PostgreSQL). The table must exist and be a log table.
    pub fn table(auditor: &'a Auditor, log_table: impl Into<String>) -> Self {
        Self {
            auditor,
            table: LogTable::Named(log_table.into()),
            batches: Batches::default(),
        }
    }

    /// A dedupe of `M`'s log table. A log table that does not exist yet has
    /// nothing to dedupe.
    pub fn model<M: Audited>(auditor: &'a Auditor) -> Self {
        Self::for_model(auditor, M::MODEL)
    }

    /// [`Dedupe::model`] for a model known by its [`ModelInfo`], such as
    /// one of [`registry::models`](crate::registry::models).
    pub fn for_model(auditor: &'a Auditor, model: &'static ModelInfo) -> Self {
        Self {
            auditor,
            table: LogTable::Model(model.log_table()),
            batches: Batches::default(),
        }
    }

    batch_options!();

    /// Runs the dedupe, calling `progress` once the empty updates are
    /// counted and after every batch.
    pub async fn run(self, progress: impl FnMut(&PruneProgress)) -> Result<PruneReport, Error> {
        let sweep = Sweep {
            empty_updates: true,
            ..Sweep::default()
        };
        self.batches
            .run(self.auditor, &self.table, Some(sweep), progress)
            .await
    }
}
