//! The prune result: how fast the rows went, and how long the writer
//! waited beside it, against how long it waited alone.

use std::time::Duration;

use awesome_audit_log::chrono::Utc;
use awesome_audit_log::retention::PruneReport;
use serde::Serialize;

use super::writer::Waits;
use crate::cli::PruneArgs;
use crate::report::{median, percentile};

/// One run of the prune benchmark.
#[derive(Debug, Serialize)]
pub(crate) struct PruneRow {
    backend: &'static str,
    /// Rows the table was filled with.
    rows: u64,
    rows_per_object: u64,
    keep_last: Option<u64>,
    batch_size: u64,
    pause_ms: f64,
    /// Rows the prune deleted.
    deleted: u64,
    batches: u64,
    elapsed_s: f64,
    /// `deleted / elapsed_s`, pauses included.
    rows_per_s: f64,
    longest_batch_ms: f64,
    /// The writer's changes, and its waits in ms, alone (before the prune)
    /// and while the prune ran.
    writes_alone: usize,
    wait_alone_median_ms: f64,
    wait_alone_p99_ms: f64,
    wait_alone_max_ms: f64,
    writes_during: usize,
    wait_during_median_ms: f64,
    wait_during_p99_ms: f64,
    wait_during_max_ms: f64,
    /// `wait_during_max_ms / (longest_batch_ms + wait_alone_max_ms)`: at
    /// most about 1 when no writer waits for more than one batch.
    wait_ratio: f64,
    server_version: String,
    crate_version: &'static str,
    date: String,
}

fn ms(d: &Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Median, 99th percentile and maximum of `waits`, in ms.
fn spread(waits: &[Duration]) -> (f64, f64, f64) {
    let values: Vec<f64> = waits.iter().map(ms).collect();
    let max = values.iter().copied().fold(f64::NAN, f64::max);
    (median(values.clone()), percentile(values, 99), max)
}

impl PruneRow {
    pub(crate) fn new(
        args: &PruneArgs,
        version: &str,
        report: &PruneReport,
        waits: &Waits,
    ) -> Self {
        let (alone_median, alone_p99, alone_max) = spread(&waits.alone);
        let (during_median, during_p99, during_max) = spread(&waits.during);
        let elapsed_s = report.elapsed.as_secs_f64();
        let longest_batch_ms = ms(&report.longest_batch);
        PruneRow {
            backend: args.target.backend.name(),
            rows: args.rows,
            rows_per_object: args.rows_per_object,
            keep_last: args.keep_last,
            batch_size: args.batch_size,
            pause_ms: ms(&args.pause),
            deleted: report.rows,
            batches: report.batches,
            elapsed_s,
            rows_per_s: report.rows as f64 / elapsed_s,
            longest_batch_ms,
            writes_alone: waits.alone.len(),
            wait_alone_median_ms: alone_median,
            wait_alone_p99_ms: alone_p99,
            wait_alone_max_ms: alone_max,
            writes_during: waits.during.len(),
            wait_during_median_ms: during_median,
            wait_during_p99_ms: during_p99,
            wait_during_max_ms: during_max,
            wait_ratio: during_max / (longest_batch_ms + alone_max),
            server_version: version.to_owned(),
            crate_version: env!("CARGO_PKG_VERSION"),
            date: Utc::now().format("%Y-%m-%d").to_string(),
        }
    }

    pub(crate) fn print(&self) {
        println!(
            "\n{}: {} rows deleted in {} batches of {} ({:.0} ms pauses) in {:.1} s: {:.0} rows/s; \
             the longest batch {:.1} ms",
            self.backend,
            self.deleted,
            self.batches,
            self.batch_size,
            self.pause_ms,
            self.elapsed_s,
            self.rows_per_s,
            self.longest_batch_ms
        );
        println!(
            "{:<16} {:>7} {:>11} {:>11} {:>11}",
            "writer", "writes", "median ms", "p99 ms", "max ms"
        );
        for (name, writes, median, p99, max) in [
            (
                "alone",
                self.writes_alone,
                self.wait_alone_median_ms,
                self.wait_alone_p99_ms,
                self.wait_alone_max_ms,
            ),
            (
                "during prune",
                self.writes_during,
                self.wait_during_median_ms,
                self.wait_during_p99_ms,
                self.wait_during_max_ms,
            ),
        ] {
            println!("{name:<16} {writes:>7} {median:>11.2} {p99:>11.2} {max:>11.2}");
        }
        println!(
            "longest wait during the prune / (longest batch + longest wait alone) = {:.2}",
            self.wait_ratio
        );
    }

    /// The writer waited `max_ratio` times a batch plus its own longest
    /// wait, or more (exit code 4).
    pub(crate) fn failures(&self, max_ratio: Option<f64>) -> Vec<(u8, String)> {
        match max_ratio {
            Some(max) if self.wait_ratio >= max => vec![(
                4,
                format!(
                    "the writer waited {:.1} ms during the prune: {:.2}x the longest batch \
                     plus its longest wait alone (limit {max:.2}x)",
                    self.wait_during_max_ms, self.wait_ratio
                ),
            )],
            _ => Vec::new(),
        }
    }
}
