//! What a retention run tells while it runs ([`PruneProgress`]) and once
//! it is done ([`PruneReport`]).

use std::time::Duration;

use serde::{Serialize, Serializer};

/// Where a running prune or dedupe is, handed to its progress callback
/// once the rows to delete are counted (before the first batch), and after
/// every batch.
///
/// ```
/// use awesome_audit_log::retention::PruneProgress;
///
/// /// A line for a terminal: `3 batches, 2500 of 10000 rows`.
/// fn line(progress: &PruneProgress) -> String {
///     match progress.total {
///         Some(total) => format!("{} batches, {} of {total} rows", progress.batches, progress.deleted),
///         None => format!("{} batches, {} rows", progress.batches, progress.deleted),
///     }
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PruneProgress {
    /// The batches run so far.
    pub batches: u64,
    /// The rows deleted so far.
    pub deleted: u64,
    /// How many rows matched when the run began, if they were counted
    /// (always for a dry run; unless turned off with `count_first(false)`
    /// otherwise). Rows logged during the run may add to them.
    pub total: Option<u64>,
}

/// What a prune or a dedupe did.
///
/// ```
/// # use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
/// use awesome_audit_log::retention::Prune;
/// # #[audited(table = "widget")]
/// # struct Widget { id: i64 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
/// let report = Prune::model::<Widget>(&auditor).keep_last(10).run(|_| {}).await?;
/// println!(
///     "{}: {} rows deleted in {} batches ({:?}, the longest batch {:?})",
///     report.table, report.rows, report.batches, report.elapsed, report.longest_batch
/// );
/// # Ok(()) }
/// ```
///
/// It serializes (serde) with these field names, which stay stable: `table`,
/// `rows`, `dry_run`, `batches`, and the two durations as milliseconds
/// (with a fraction, to the microsecond) named `longest_batch_ms` and
/// `elapsed_ms`.
///
/// ```
/// # use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
/// use awesome_audit_log::retention::Prune;
/// # #[audited(table = "widget")]
/// # struct Widget { id: i64 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
/// let report = Prune::model::<Widget>(&auditor).keep_last(10).dry_run(true).run(|_| {}).await?;
/// let json = serde_json::to_value(&report)?;
/// assert_eq!(json["table"], "widget_log");
/// assert_eq!(json["rows"], 0);
/// assert_eq!(json["dry_run"], true);
/// assert!(json["elapsed_ms"].is_f64());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PruneReport {
    /// The log table.
    pub table: String,
    /// The rows deleted; for a dry run, the rows that would be.
    pub rows: u64,
    /// Whether this was a dry run (nothing deleted).
    pub dry_run: bool,
    /// The batches run: one `DELETE` statement each, the last one deleting
    /// fewer rows than a batch holds (none, when the rows filled every
    /// batch). None for a dry run.
    pub batches: u64,
    /// The longest batch took this long: about as long as a writer could
    /// wait for a row lock the run held.
    #[serde(rename = "longest_batch_ms", serialize_with = "milliseconds")]
    pub longest_batch: Duration,
    /// The whole run took this long, pauses included.
    #[serde(rename = "elapsed_ms", serialize_with = "milliseconds")]
    pub elapsed: Duration,
}

/// A duration as milliseconds, to the microsecond.
fn milliseconds<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_micros() as f64 / 1_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_serialize_with_stable_names() {
        let report = PruneReport {
            table: "widget_log".to_owned(),
            rows: 2500,
            dry_run: false,
            batches: 3,
            longest_batch: Duration::from_micros(12_345),
            elapsed: Duration::from_secs(2),
        };
        assert_eq!(
            serde_json::to_value(&report).unwrap(),
            serde_json::json!({
                "table": "widget_log",
                "rows": 2500,
                "dry_run": false,
                "batches": 3,
                "longest_batch_ms": 12.345,
                "elapsed_ms": 2000.0,
            })
        );
        let progress = PruneProgress {
            batches: 1,
            deleted: 1000,
            total: None,
        };
        assert_eq!(
            serde_json::to_value(progress).unwrap(),
            serde_json::json!({ "batches": 1, "deleted": 1000, "total": null })
        );
    }
}
