//! How a retention run deletes: in batches of a bounded size, each its own
//! short statement, with a pause between them, until no matching row is
//! left; or, for a dry run, by counting. Shared by [`Prune`](super::Prune)
//! and [`Dedupe`](super::Dedupe).

use std::time::{Duration, Instant};

use super::report::{PruneProgress, PruneReport};
use super::target::LogTable;
use crate::backend::Sweep;
use crate::{Auditor, Error};

/// Rows per batch unless set.
pub(super) const DEFAULT_BATCH_SIZE: u64 = 1_000;
/// The pause between two batches unless set.
pub(super) const DEFAULT_PAUSE: Duration = Duration::from_millis(100);

/// The options every retention run has.
#[derive(Debug, Clone)]
pub(super) struct Batches {
    pub(super) batch_size: u64,
    pub(super) pause: Duration,
    pub(super) dry_run: bool,
    pub(super) count_first: bool,
}

impl Default for Batches {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH_SIZE,
            pause: DEFAULT_PAUSE,
            dry_run: false,
            count_first: true,
        }
    }
}

/// The builder methods of the options in [`Batches`], for a builder with
/// a `batches` field.
macro_rules! batch_options {
    () => {
        /// At most `rows` rows per batch (default 1,000; 0 counts as 1):
        /// each batch is one `DELETE` statement, its own transaction,
        /// holding its row locks only while it runs.
        pub fn batch_size(mut self, rows: u64) -> Self {
            self.batches.batch_size = rows.max(1);
            self
        }

        /// The pause between two batches (default 100 ms), in which
        /// writers have the table to themselves.
        pub fn pause(mut self, pause: ::std::time::Duration) -> Self {
            self.batches.pause = pause;
            self
        }

        /// With `true`, counts the rows that would be deleted and deletes
        /// none ([`PruneReport::rows`](crate::retention::PruneReport::rows)).
        pub fn dry_run(mut self, dry_run: bool) -> Self {
            self.batches.dry_run = dry_run;
            self
        }

        /// With `false`, the rows are not counted before the first batch
        /// (a count reads every matching row, and keeping the newest rows
        /// of each object ranks the whole table), so
        /// [`PruneProgress::total`](crate::retention::PruneProgress::total)
        /// is `None`. Default `true`; a dry run always counts.
        pub fn count_first(mut self, count: bool) -> Self {
            self.batches.count_first = count;
            self
        }
    };
}
pub(super) use batch_options;

impl Batches {
    /// Runs `sweep` on `table` in the audit database (the one history is
    /// read from), calling `progress` once the rows are counted and after
    /// each batch. `sweep` is `None` when no row can match (a cutoff before
    /// any row a database holds): the table is still checked.
    pub(super) async fn run(
        &self,
        auditor: &Auditor,
        table: &LogTable,
        sweep: Option<Sweep>,
        mut progress: impl FnMut(&PruneProgress),
    ) -> Result<PruneReport, Error> {
        let began = Instant::now();
        let sink = &auditor.sink;
        let index = sink.read_index()?;
        let log_table = table.name();
        let mut report = PruneReport {
            table: log_table.to_owned(),
            rows: 0,
            dry_run: self.dry_run,
            batches: 0,
            longest_batch: Duration::ZERO,
            elapsed: Duration::ZERO,
        };
        let exists = table.exists(sink, index).await?;
        let Some(sweep) = sweep.filter(|_| exists) else {
            report.elapsed = began.elapsed();
            return Ok(report);
        };
        let total = if self.dry_run || self.count_first {
            Some(sink.sweep_count(index, log_table, &sweep).await?)
        } else {
            None
        };
        let mut now = PruneProgress {
            batches: 0,
            deleted: 0,
            total,
        };
        progress(&now);
        if self.dry_run {
            report.rows = total.unwrap_or_default();
            report.elapsed = began.elapsed();
            return Ok(report);
        }
        loop {
            let batch = Instant::now();
            let deleted = sink
                .sweep_batch(index, log_table, &sweep, self.batch_size)
                .await?;
            report.longest_batch = report.longest_batch.max(batch.elapsed());
            report.batches += 1;
            report.rows += deleted;
            now.batches = report.batches;
            now.deleted = report.rows;
            progress(&now);
            if deleted < self.batch_size {
                break;
            }
            tokio::time::sleep(self.pause).await;
        }
        report.elapsed = began.elapsed();
        tracing::info!(
            table = log_table,
            rows = report.rows,
            batches = report.batches,
            longest_batch_ms = report.longest_batch.as_millis(),
            elapsed_ms = report.elapsed.as_millis(),
            "audit log rows deleted"
        );
        Ok(report)
    }
}
