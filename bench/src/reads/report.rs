//! The read results: median and 95th percentile latency per (size, read),
//! the ratio of each median to the reference table's median over the same
//! stretch of time, and the plans.

use std::collections::BTreeMap;
use std::time::Duration;

use awesome_audit_log::chrono::Utc;
use serde::Serialize;

use super::Read;
use super::layout::Layout;
use crate::cli::BackendKind;
use crate::report::{median, percentile};

/// Which log table a read went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Side {
    /// `widget_log`, at the size being measured.
    Grown,
    /// `widget_ref_log`, at the first size throughout.
    Reference,
}

/// One timed read, with `widget_log` at `size` rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadSample {
    pub(crate) size: i64,
    pub(crate) read: Read,
    pub(crate) side: Side,
    pub(crate) elapsed: Duration,
}

/// The plan of one single-object read at one size.
#[derive(Debug, Clone)]
pub(crate) struct PlanRecord {
    pub(crate) size: i64,
    pub(crate) read: Read,
    pub(crate) plan: Vec<String>,
    pub(crate) uses_index: bool,
}

/// One line of the results: a read with `widget_log` at a size.
#[derive(Debug, Serialize)]
pub(crate) struct ReadRow {
    backend: &'static str,
    size: i64,
    read: &'static str,
    /// Timed reads of `widget_log` (as many of the reference).
    reads: usize,
    /// Log rows each read returns (as_of_all: objects).
    rows: usize,
    rows_per_object: i64,
    /// `widget_log` with its indexes, as the database counts it.
    table_bytes: i64,
    median_us: f64,
    p95_us: f64,
    /// The same read of `widget_ref_log` (at `reference_size` rows), timed
    /// alongside.
    reference_median_us: f64,
    reference_p95_us: f64,
    reference_size: i64,
    /// `median_us / reference_median_us`.
    ratio: f64,
    /// `median_us` over the median of `widget_log` at the first size,
    /// measured earlier (so it moves with the machine, `ratio` does not).
    ratio_vs_first_size: f64,
    /// Single-object reads: whether the plan reads through the object index.
    plan_uses_object_index: Option<bool>,
    plan: Vec<String>,
    server_version: String,
    crate_version: &'static str,
    date: String,
    #[serde(skip)]
    single_object: bool,
}

/// The results of a run on one backend.
#[derive(Debug)]
pub(crate) struct ReadReport {
    pub(crate) rows: Vec<ReadRow>,
    backend: &'static str,
}

/// The 95th percentile (nearest rank).
fn p95(values: Vec<f64>) -> f64 {
    percentile(values, 95)
}

pub(crate) fn summarize(
    backend: BackendKind,
    server_version: &str,
    layout: &Layout,
    page: u64,
    samples: &[ReadSample],
    plans: Vec<PlanRecord>,
    table_sizes: &[(i64, i64)],
) -> ReadReport {
    let mut by_key: BTreeMap<(i64, Read, Side), Vec<f64>> = BTreeMap::new();
    for s in samples {
        by_key
            .entry((s.size, s.read, s.side))
            .or_default()
            .push(s.elapsed.as_secs_f64() * 1e6);
    }
    let mut plans: BTreeMap<(i64, Read), PlanRecord> = plans
        .into_iter()
        .map(|record| ((record.size, record.read), record))
        .collect();
    let first_size = layout.stages[0].to;
    let per_object = layout.rows_per_object;
    let date = Utc::now().format("%Y-%m-%d").to_string();
    let mut rows = Vec::new();
    for stage in &layout.stages {
        let size = stage.to;
        for read in Read::ALL {
            let (Some(grown), Some(reference)) = (
                by_key.get(&(size, read, Side::Grown)),
                by_key.get(&(size, read, Side::Reference)),
            ) else {
                continue;
            };
            let median_us = median(grown.clone());
            let reference_median_us = median(reference.clone());
            let first = by_key
                .get(&(first_size, read, Side::Grown))
                .map_or(f64::NAN, |first| median(first.clone()));
            let plan = plans.remove(&(size, read));
            rows.push(ReadRow {
                backend: backend.name(),
                size,
                read: read.name(),
                reads: grown.len(),
                rows: match read {
                    Read::HistoryAll => per_object as usize,
                    Read::HistoryPage => page.min(per_object as u64) as usize,
                    Read::AsOf => 1,
                    Read::AsOfAll => layout.as_of_all_counts(size, size / 2).0,
                },
                rows_per_object: per_object,
                table_bytes: table_sizes
                    .iter()
                    .find(|(rows, _)| *rows == size)
                    .map_or(0, |(_, bytes)| *bytes),
                median_us,
                p95_us: p95(grown.clone()),
                reference_median_us,
                reference_p95_us: p95(reference.clone()),
                reference_size: first_size,
                ratio: median_us / reference_median_us,
                ratio_vs_first_size: median_us / first,
                plan_uses_object_index: plan.as_ref().map(|p| p.uses_index),
                plan: plan.map(|p| p.plan).unwrap_or_default(),
                server_version: server_version.to_owned(),
                crate_version: env!("CARGO_PKG_VERSION"),
                date: date.clone(),
                single_object: read.single_object(),
            });
        }
    }
    ReadReport {
        rows,
        backend: backend.name(),
    }
}

impl ReadReport {
    pub(crate) fn print(&self) {
        let reference = self.rows.first().map_or(0, |row| row.reference_size);
        println!(
            "\n{}: widget_log at each size, and widget_ref_log at {reference} rows \
             read alongside (ref); ratio = median / ref median",
            self.backend
        );
        println!(
            "{:>9} {:<13} {:>6} {:>6} {:>11} {:>11} {:>11} {:>7} {:>6}",
            "size", "read", "reads", "rows", "median µs", "p95 µs", "ref µs", "ratio", "index"
        );
        for row in &self.rows {
            println!(
                "{:>9} {:<13} {:>6} {:>6} {:>11.1} {:>11.1} {:>11.1} {:>7.2} {:>6}",
                row.size,
                row.read,
                row.reads,
                row.rows,
                row.median_us,
                row.p95_us,
                row.reference_median_us,
                row.ratio,
                match row.plan_uses_object_index {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "-",
                }
            );
        }
    }

    /// What the run failed: a single-object read's plan without the object
    /// index (exit code 3), or its ratio at `max_ratio` or above (4).
    pub(crate) fn failures(&self, max_ratio: Option<f64>) -> Vec<(u8, String)> {
        let mut failures = Vec::new();
        for row in &self.rows {
            if row.plan_uses_object_index == Some(false) {
                failures.push((
                    3,
                    format!(
                        "{} at {} rows does not read through the object index",
                        row.read, row.size
                    ),
                ));
            }
            if let Some(max) = max_ratio
                && row.single_object
                && row.ratio >= max
            {
                failures.push((
                    4,
                    format!(
                        "{} at {} rows: median {:.2}x the median at {} rows (limit {max:.2}x)",
                        row.read, row.size, row.ratio, row.reference_size
                    ),
                ));
            }
        }
        failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p95_is_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(p95(values), 95.0);
        assert_eq!(p95(vec![3.0, 1.0, 2.0]), 3.0);
        assert_eq!(p95(vec![7.0]), 7.0);
    }
}
