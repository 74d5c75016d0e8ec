//! [`Prune`]: deleting the rows of a log table that are older than a
//! duration or an instant, or beyond the newest rows of their object.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::batches::{Batches, batch_options};
use super::report::{PruneProgress, PruneReport};
use super::target::LogTable;
use crate::backend::Sweep;
use crate::model::Retention;
use crate::{Audited, Auditor, Error, ModelInfo};

/// A prune of one log table, built then [`run`](Self::run): the rows that
/// every rule given lets go are deleted, in batches with a pause between
/// them, until none is left.
///
/// - [`older_than`](Self::older_than) (or [`before`](Self::before)): rows
///   logged longer ago than that (by `created_at`);
/// - [`keep_last`](Self::keep_last): rows that are not among the newest N
///   of their object (by `created_at`, then `id`).
///
/// Given both, a row goes when it is old *and* not among its object's
/// newest N: every object keeps at least N rows, however old.
/// [`Prune::model`] starts from the model's policy
/// (`#[audited(retention(...))]`); a prune without any rule is
/// [`Error::NoRetentionRule`].
///
/// Rows are read and deleted in the audit database (DATABASE_ALIAS, or
/// `default` where FALLBACK_TO_DEFAULT applies), as history is read. Only
/// log tables are touched: a table named with [`Prune::table`] must have
/// every column of a log table ([`Error::NotALogTable`] otherwise, before
/// anything is deleted).
///
/// ```
/// use std::time::Duration;
/// use awesome_audit_log::retention::Prune;
/// use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
///
/// #[audited(table = "widget")]
/// #[derive(Clone)]
/// struct Widget { id: i64, qty: i32 }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
/// let mut w = Widget { id: 1, qty: 0 };
/// let _ = Widget::log_change(&auditor, None, Some(&w)).await?;
/// for qty in 1..5 {
///     let old = w.clone();
///     w.qty = qty;
///     let _ = Widget::log_change(&auditor, Some(&old), Some(&w)).await?;
/// }
///
/// // What would go: all but the newest two rows of each widget.
/// let dry = Prune::table(&auditor, "widget_log").keep_last(2).dry_run(true).run(|_| {}).await?;
/// assert_eq!((dry.rows, dry.batches), (3, 0));
///
/// let mut seen = Vec::new();
/// let report = Prune::model::<Widget>(&auditor)
///     .keep_last(2)
///     .batch_size(2)
///     .pause(Duration::from_millis(10))
///     .run(|progress| seen.push((progress.batches, progress.deleted, progress.total)))
///     .await?;
/// assert_eq!((report.rows, report.batches), (3, 2));
/// assert_eq!(seen, [(0, 0, Some(3)), (1, 2, Some(3)), (2, 3, Some(3))]);
/// assert_eq!(Widget::history(&auditor, &1).all().await?.len(), 2);
///
/// // Nothing is older than 90 days.
/// let report = Prune::model::<Widget>(&auditor).older_than(Duration::from_secs(90 * 86_400)).run(|_| {}).await?;
/// assert_eq!(report.rows, 0);
/// # Ok(()) }
/// ```
#[must_use = "a prune deletes nothing until it is run"]
#[derive(Debug, Clone)]
pub struct Prune<'a> {
    auditor: &'a Auditor,
    table: LogTable,
    older_than: Option<Duration>,
    before: Option<DateTime<Utc>>,
    /// What `older_than` counts back from; the run's start when `None`.
    now: Option<DateTime<Utc>>,
    keep_last: Option<u64>,
    batches: Batches,
}

impl<'a> Prune<'a> {
    /// A prune of the log table named `log_table` (in PG_SCHEMA on
    /// PostgreSQL), with no rule yet: for tables no model of this binary
    /// describes, such as those another service writes. The table must
    /// exist and be a log table.
    pub fn table(auditor: &'a Auditor, log_table: impl Into<String>) -> Self {
        Self::with(auditor, LogTable::Named(log_table.into()))
    }

    /// A prune of `M`'s log table, with `M`'s retention policy
    /// ([`ModelInfo::retention`](crate::ModelInfo::retention)) if it has
    /// one. The rules set afterwards replace the policy's. A log table
    /// that does not exist yet has nothing to prune.
    pub fn model<M: Audited>(auditor: &'a Auditor) -> Self {
        Self::for_model(auditor, M::MODEL)
    }

    /// [`Prune::model`] for a model known by its [`ModelInfo`], such as
    /// one of [`registry::models`](crate::registry::models).
    pub fn for_model(auditor: &'a Auditor, model: &'static ModelInfo) -> Self {
        let prune = Self::with(auditor, LogTable::Model(model.log_table()));
        match model.retention() {
            Some(policy) => prune.retention(policy),
            None => prune,
        }
    }

    fn with(auditor: &'a Auditor, table: LogTable) -> Self {
        Self {
            auditor,
            table,
            older_than: None,
            before: None,
            now: None,
            keep_last: None,
            batches: Batches::default(),
        }
    }

    /// The rules of `policy`, in place of those set so far.
    pub fn retention(mut self, policy: Retention) -> Self {
        self.older_than = policy.older_than;
        self.keep_last = policy.keep_last;
        self.before = None;
        self
    }

    /// Only rows logged longer than `age` before the run starts.
    pub fn older_than(mut self, age: Duration) -> Self {
        self.older_than = Some(age);
        self
    }

    /// Counts [`older_than`](Self::older_than) back from `now` rather than
    /// from the moment the run starts: a dry run that counts and the run
    /// that deletes then cut at the same instant.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
    /// use awesome_audit_log::chrono::Utc;
    /// use awesome_audit_log::retention::Prune;
    /// # #[audited(table = "widget")]
    /// # struct Widget { id: i64 }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
    /// let _ = Widget::log_change(&auditor, None, Some(&Widget { id: 1 })).await?;
    /// let hour = Duration::from_secs(60 * 60);
    ///
    /// // Counted from now, the row is not an hour old.
    /// let rule = || Prune::model::<Widget>(&auditor).older_than(hour);
    /// assert_eq!(rule().dry_run(true).run(|_| {}).await?.rows, 0);
    ///
    /// // Counted from two hours on, it is: the count and the delete agree.
    /// let later = Utc::now() + 2 * hour;
    /// let counted = rule().counting_from(later).dry_run(true).run(|_| {}).await?.rows;
    /// let deleted = rule().counting_from(later).run(|_| {}).await?.rows;
    /// assert_eq!((counted, deleted), (1, 1));
    /// # Ok(()) }
    /// ```
    pub fn counting_from(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Only rows logged before `at` (with [`older_than`](Self::older_than)
    /// too: before the earlier of the two).
    pub fn before(mut self, at: DateTime<Utc>) -> Self {
        self.before = Some(at);
        self
    }

    /// Only rows that are not among the newest `rows` of their object: each
    /// object keeps `rows` rows. 0 keeps no row in particular, which leaves
    /// the other rules to decide (and is no rule on its own).
    pub fn keep_last(mut self, rows: u64) -> Self {
        self.keep_last = Some(rows);
        self
    }

    batch_options!();

    /// Runs the prune, calling `progress` once the matching rows are
    /// counted and after every batch. The cutoff of
    /// [`older_than`](Self::older_than) is taken when the run starts, so
    /// rows logged while it runs are never old. On an error, the batches
    /// before it stay deleted (`progress` saw them).
    pub async fn run(self, progress: impl FnMut(&PruneProgress)) -> Result<PruneReport, Error> {
        let keep_last = self.keep_last.filter(|rows| *rows > 0);
        if self.older_than.is_none() && self.before.is_none() && keep_last.is_none() {
            return Err(Error::NoRetentionRule {
                table: self.table.name().chars().take(64).collect(),
            });
        }
        let mut cutoff = self.before;
        if let Some(age) = self.older_than {
            let by_age = TimeDelta::from_std(age)
                .ok()
                .and_then(|age| self.now.unwrap_or_else(Utc::now).checked_sub_signed(age))
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            cutoff = Some(cutoff.map_or(by_age, |before| before.min(by_age)));
        }
        // A cutoff before any time a database stores matches no row.
        let sweep = cutoff.is_none_or(|at| at >= earliest()).then_some(Sweep {
            before: cutoff,
            keep_last,
            empty_updates: false,
        });
        self.batches
            .run(self.auditor, &self.table, sweep, progress)
            .await
    }
}

/// The earliest time every database stores (MySQL's `DATETIME` starts in
/// the year 1000): no log row is older.
fn earliest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(1000, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map_or(DateTime::<Utc>::MIN_UTC, |at| at.and_utc())
}
