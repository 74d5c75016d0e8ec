//! Retention: deleting old log rows, in batches, by a policy set on the
//! model or by rules given at run time; and deleting the update rows that
//! record no change.
//!
//! | what | from code |
//! |---|---|
//! | a model's policy, `#[audited(retention(older_than = "90d", keep_last = 100))]` | `Widget::prune(&auditor)`, or [`Prune::model`] / [`Prune::for_model`] with other options |
//! | explicit rules on any log table | [`Prune::table`]`(&auditor, "widget_log").older_than(..).keep_last(..)` |
//! | update rows with empty `changes` | [`Dedupe::table`], [`Dedupe::model`], [`Dedupe::for_model`] |
//!
//! A row goes when every rule given lets it go: it is older than
//! `older_than` (by `created_at`, the event time) and not among the newest
//! `keep_last` rows of its object. Deletes run in batches of `batch_size`
//! rows (default 1,000), each one statement and its own short transaction,
//! with a `pause` (default 100 ms) between them, until no matching row is
//! left; a `dry_run` only counts. A progress callback sees every batch
//! ([`PruneProgress`]); the run ends with a [`PruneReport`]. A batch that
//! loses a race with a lock (a lock timeout, a deadlock, a busy SQLite) is
//! tried again, three times within a second, as reads are.
//!
//! Only log tables are touched. A model's log table is known; a table named
//! at run time must be named like a log table (a plain identifier ending
//! in `_log`) and have every column of one (the fifteen of the Django
//! original's tables, which are pruned like ours), or the run is
//! [`Error::NotALogTable`](crate::Error::NotALogTable) before any row is
//! read. The registry of managed tables (`awesome_audit_log_tables`) is
//! where tools *find* log tables; it is not required here, since the
//! tables the Django original created are not in it.
//!
//! Rows are deleted in the audit database (DATABASE_ALIAS, or `default`
//! where FALLBACK_TO_DEFAULT applies), the one history is read from.
//!
//! ```
//! use std::time::Duration;
//! use awesome_audit_log::retention::{Dedupe, Prune};
//! use awesome_audit_log::{AuditConfig, Auditor, Database, Error, audited};
//!
//! #[audited(table = "widget", retention(older_than = "90d", keep_last = 2))]
//! #[derive(Clone)]
//! struct Widget { id: i64, qty: i32 }
//!
//! #[audited(table = "gadget")]
//! struct Gadget { id: i64 }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
//! let w = Widget { id: 1, qty: 1 };
//! let _ = Widget::log_change(&auditor, None, Some(&w)).await?;
//!
//! // The model's policy: nothing is 90 days old yet.
//! assert_eq!(Widget::prune(&auditor).await?.rows, 0);
//! // A model without a policy has nothing to go by.
//! assert!(matches!(Gadget::prune(&auditor).await, Err(Error::NoRetentionRule { .. })));
//!
//! // Explicit rules, small batches, a progress line per batch.
//! let report = Prune::table(&auditor, "widget_log")
//!     .older_than(Duration::from_secs(12 * 60 * 60))
//!     .batch_size(500)
//!     .pause(Duration::from_millis(50))
//!     .run(|p| println!("{} batches, {} rows deleted", p.batches, p.deleted))
//!     .await?;
//! assert_eq!(report.rows, 0);
//!
//! assert_eq!(Dedupe::model::<Widget>(&auditor).dry_run(true).run(|_| {}).await?.rows, 0);
//!
//! // Only log tables.
//! let refused = Prune::table(&auditor, "widget").keep_last(1).run(|_| {}).await;
//! assert!(matches!(refused, Err(Error::NotALogTable { .. })));
//! # Ok(()) }
//! ```
//!
//! # Locks and costs
//! Each batch holds the row locks of the rows it deletes, for as long as it
//! runs ([`PruneReport::longest_batch`]); writers go on between batches. On
//! MySQL/MariaDB a batch reads committed rows, so that it locks neither the
//! rows it only looks at nor the gaps new rows go into. On SQLite a batch
//! holds the database's write lock while it runs, as any write does.
//!
//! Pruning by age deletes the oldest rows first, in the order of the
//! `created_at` index of the tables this library creates, so each batch
//! reads only its own rows. Keeping the newest rows of each object ranks the whole table's
//! rows by object in every batch (and in the count): on a large table,
//! prefer larger batches, or prune by age first.

mod batches;
mod dedupe;
mod duration;
mod prune;
mod report;
mod target;

pub use self::dedupe::Dedupe;
pub use self::duration::{InvalidDuration, parse_duration};
pub use self::prune::Prune;
pub use self::report::{PruneProgress, PruneReport};
pub use crate::model::Retention;

#[cfg(test)]
mod tests {
    use super::*;

    fn send<T: Send>(_: T) {}

    /// A run can be spawned on a multi-threaded runtime (a command's
    /// progress bar runs beside it).
    #[test]
    fn runs_are_send() {
        let _ = |auditor: &crate::Auditor| {
            send(Prune::table(auditor, "widget_log").run(|_| {}));
            send(Dedupe::table(auditor, "widget_log").run(|_| {}));
        };
    }
}
