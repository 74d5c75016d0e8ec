//! Partitioned log tables on PostgreSQL: rotation by whole partitions.
//!
//! `#[audited(partition(by = "month"))]` (or `"day"`, `"week"`) makes the
//! model's log table, when this library creates it on PostgreSQL, a table
//! partitioned by range of `created_at`, with a DEFAULT partition and the
//! partitions of the current and the next interval (see
//! [`awesome_audit_log_codegen::partition`] for its keys). MySQL/MariaDB
//! and SQLite create the usual table; the guide's operations chapter says
//! why. An exported migration file ([`schema::export`](crate::schema::export))
//! creates the partitioned table with its DEFAULT partition only: a first
//! [`Maintain`] run after migrating creates the interval partitions.
//!
//! [`Maintain`] keeps such a table in shape: it creates the partitions of
//! the coming intervals ahead of time, and takes the partitions past
//! retention off the table whole, dropping them or moving them to an
//! archive schema. No row is deleted one by one: each step is one short
//! transaction that changes the catalog only.
//!
//! ```no_run
//! use std::time::Duration;
//! use awesome_audit_log::partition::{Expiry, Maintain};
//! use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
//!
//! #[audited(table = "payment", partition(by = "month"), retention(older_than = "365d"))]
//! struct Payment { id: i64 }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Database::connect("postgres://postgres@127.0.0.1:5432/app").await?;
//! let auditor = Auditor::builder(AuditConfig::default()).database("default", db).build()?;
//!
//! // The model's interval and retention, three partitions ahead.
//! let report = Maintain::model::<Payment>(&auditor).ahead(3).run().await?;
//! println!("created {:?}, dropped {:?}", report.created, report.expired);
//!
//! // Any partitioned log table, its old partitions kept in another schema.
//! let report = Maintain::table(&auditor, "gadget_log")
//!     .older_than(Duration::from_secs(90 * 86_400))
//!     .archive("audit_archive")
//!     .dry_run(true)
//!     .run()
//!     .await?;
//! assert_eq!(report.expiry, Expiry::Archived);
//! # Ok(()) }
//! ```
//!
//! # Locks
//! Every step runs in its own transaction with a `lock_timeout` (default
//! 5 s); a step that times out is tried again, three times, then the run
//! fails with the partitions done so far done.
//!
//! | step | statements | locks |
//! |---|---|---|
//! | create | `CREATE TABLE … PARTITION OF … FOR VALUES FROM … TO …` | ACCESS EXCLUSIVE on the parent and the DEFAULT partition, which is scanned for rows of the new interval (it is empty when maintenance runs ahead of time) |
//! | create, rows in DEFAULT | the DEFAULT partition's rows of the interval moved into a temporary table, the partition created, the rows inserted back | as above, for as long as the move takes |
//! | drop | `ALTER TABLE … DETACH PARTITION …`, `DROP TABLE …` | ACCESS EXCLUSIVE on the parent and the partition, for a catalog change |
//! | archive | `ALTER TABLE … DETACH PARTITION …`, `ALTER TABLE … SET SCHEMA …` | the same |
//!
//! `DETACH PARTITION … CONCURRENTLY` would leave writers alone, but
//! PostgreSQL refuses it on a table with a DEFAULT partition (and inside a
//! transaction block); the DEFAULT partition is what guarantees that no
//! row is ever refused for lack of a partition, so the detach takes the
//! short exclusive lock instead. A writer waits for a step at most the
//! lock timeout plus the catalog change.

// Without PostgreSQL, a run is refused before any plan is made.
#![cfg_attr(not(feature = "postgres"), allow(dead_code))]

mod convert;
mod plan;
#[cfg(feature = "postgres")]
mod postgres;
mod report;
mod run;

use std::time::Duration;

use chrono::{DateTime, Utc};

pub use self::convert::{Convert, ConvertReport};
pub use self::report::{Expiry, MaintainReport, PartitionChange};
pub use awesome_audit_log_codegen::partition::PartitionBy;

use crate::{Audited, Auditor, Error, ModelInfo};

/// The partitions created ahead of the current interval unless set.
pub const DEFAULT_AHEAD: u32 = 3;

/// The lock timeout of each step unless set.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// A maintenance run of one partitioned log table (see the
/// [module](self)): built with [`Maintain::model`], [`Maintain::for_model`]
/// or [`Maintain::table`], started with [`Maintain::run`].
#[derive(Debug, Clone)]
#[must_use = "a maintenance run does nothing until `run` is awaited"]
pub struct Maintain<'a> {
    auditor: &'a Auditor,
    log_table: String,
    by: Option<PartitionBy>,
    ahead: u32,
    cutoff: Cutoff,
    archive: Option<String>,
    dry_run: bool,
    lock_timeout: Duration,
}

/// Which partitions are past retention.
#[derive(Debug, Clone, Copy)]
enum Cutoff {
    None,
    OlderThan(Duration),
    Before(DateTime<Utc>),
}

impl<'a> Maintain<'a> {
    /// The log table of model `M`, with its interval
    /// (`partition(by = ...)`) and its retention (`retention(older_than =
    /// ...)`), both of which the builder's methods override.
    pub fn model<M: Audited>(auditor: &'a Auditor) -> Self {
        Self::for_model(auditor, M::MODEL)
    }

    /// The log table of `model` (from the [registry](crate::registry)), as
    /// [`Maintain::model`].
    pub fn for_model(auditor: &'a Auditor, model: &'static ModelInfo) -> Self {
        let mut run = Self::table(auditor, model.log_table());
        run.by = model.partition().or(run.by);
        if let Some(age) = model.retention().and_then(|policy| policy.older_than) {
            run.cutoff = Cutoff::OlderThan(age);
        }
        run
    }

    /// The log table `log_table`. Its interval is the one of the model
    /// whose log table it is, if one is linked in; else [`Maintain::by`],
    /// else the one its newest partition covers. Without a retention rule
    /// nothing is dropped.
    pub fn table(auditor: &'a Auditor, log_table: impl Into<String>) -> Self {
        let log_table = log_table.into();
        let by = crate::registry::models()
            .into_iter()
            .find(|model| model.log_table() == log_table)
            .and_then(ModelInfo::partition);
        Self {
            auditor,
            log_table,
            by,
            ahead: DEFAULT_AHEAD,
            cutoff: Cutoff::None,
            archive: None,
            dry_run: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// The interval of the partitions to create.
    pub fn by(mut self, by: PartitionBy) -> Self {
        self.by = Some(by);
        self
    }

    /// How many intervals after the current one get their partition now
    /// (default [`DEFAULT_AHEAD`]); the current one always does.
    pub fn ahead(mut self, intervals: u32) -> Self {
        self.ahead = intervals;
        self
    }

    /// Partitions whose every row is older than `age` are taken off.
    pub fn older_than(mut self, age: Duration) -> Self {
        self.cutoff = Cutoff::OlderThan(age);
        self
    }

    /// Partitions whose every row is older than `at` are taken off.
    pub fn before(mut self, at: DateTime<Utc>) -> Self {
        self.cutoff = Cutoff::Before(at);
        self
    }

    /// Partitions past retention are moved to `schema` (created if
    /// missing) rather than dropped. `schema` must be a plain identifier.
    pub fn archive(mut self, schema: impl Into<String>) -> Self {
        self.archive = Some(schema.into());
        self
    }

    /// With `true`, reports what the run would do and changes nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// How long each step waits for its locks (default
    /// [`DEFAULT_LOCK_TIMEOUT`]; at least a millisecond).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The instant partitions must end by to be taken off, at `now`.
    fn cutoff(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.cutoff {
            Cutoff::None => None,
            Cutoff::Before(at) => Some(at),
            Cutoff::OlderThan(age) => Some(
                chrono::Duration::from_std(age)
                    .ok()
                    .and_then(|age| now.checked_sub_signed(age))
                    .unwrap_or(DateTime::<Utc>::MIN_UTC),
            ),
        }
    }

    /// Runs the maintenance in the audit database (DATABASE_ALIAS, or
    /// `default` where FALLBACK_TO_DEFAULT applies): creates the missing
    /// partitions, then takes off those past retention, and reports what
    /// it did. [`Error::PartitionsUnsupported`] on MySQL/MariaDB and
    /// SQLite, [`Error::NotPartitioned`] for a table that is not a log
    /// table partitioned by `created_at`; nothing is changed then.
    pub async fn run(self) -> Result<MaintainReport, Error> {
        run::run(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send<T: Send>(_: T) {}

    #[test]
    fn runs_are_send() {
        let _ = |auditor: &Auditor| send(Maintain::table(auditor, "widget_log").run());
    }
}
