//! The read results: median and 95th percentile latency per (size, read),
//! the ratio of each size's median to the first size's, and the plans.

use std::collections::BTreeMap;
use std::time::Duration;

use awesome_audit_log::chrono::Utc;
use serde::Serialize;

use super::Read;
use super::layout::Layout;
use crate::cli::BackendKind;
use crate::report::median;

/// One timed read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadSample {
    pub(crate) size: i64,
    pub(crate) read: Read,
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

/// One line of the results: a read at a size.
#[derive(Debug, Serialize)]
pub(crate) struct ReadRow {
    backend: &'static str,
    size: i64,
    read: &'static str,
    /// Timed reads.
    reads: usize,
    /// Log rows each read returns (as_of_all: objects).
    rows: usize,
    rows_per_object: i64,
    /// `widget_log` with its indexes, as the database counts it.
    table_bytes: i64,
    median_us: f64,
    p95_us: f64,
    /// This size's median over the first size's median, for the same read.
    ratio_vs_first: f64,
    first_size: i64,
    /// Single-object reads: whether the plan reads through the object index.
    plan_uses_object_index: Option<bool>,
    plan: Vec<String>,
    server_version: String,
    crate_version: &'static str,
    date: String,
    #[serde(skip)]
    single_object: bool,
}

/// The results of a run, and the checks they failed.
#[derive(Debug)]
pub(crate) struct ReadReport {
    pub(crate) rows: Vec<ReadRow>,
    backend: &'static str,
}

/// The 95th percentile (nearest rank).
fn p95(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        len => values[(len * 95).div_ceil(100) - 1],
    }
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
    let mut by_key: BTreeMap<(i64, Read), Vec<f64>> = BTreeMap::new();
    for s in samples {
        by_key
            .entry((s.size, s.read))
            .or_default()
            .push(s.elapsed.as_secs_f64() * 1e6);
    }
    let mut plans: BTreeMap<(i64, Read), PlanRecord> = plans
        .into_iter()
        .map(|record| ((record.size, record.read), record))
        .collect();
    let first_size = layout.stages[0].to;
    let date = Utc::now().format("%Y-%m-%d").to_string();
    let mut rows = Vec::new();
    for stage in &layout.stages {
        let size = stage.to;
        for read in Read::ALL {
            let Some(values) = by_key.get(&(size, read)) else {
                continue;
            };
            let first = by_key.get(&(first_size, read)).map(|v| median(v.clone()));
            let median_us = median(values.clone());
            let plan = plans.remove(&(size, read));
            let per_object = layout.rows_per_object;
            rows.push(ReadRow {
                backend: backend.name(),
                size,
                read: read.name(),
                reads: values.len(),
                rows: match read {
                    Read::HistoryAll => per_object as usize,
                    Read::HistoryPage => page.min(per_object as u64) as usize,
                    Read::AsOf | Read::SelectOne => 1,
                    Read::AsOfAll => layout.as_of_all_counts(size, size / 2).0,
                },
                rows_per_object: per_object,
                table_bytes: table_sizes
                    .iter()
                    .find(|(rows, _)| *rows == size)
                    .map_or(0, |(_, bytes)| *bytes),
                median_us,
                p95_us: p95(values.clone()),
                ratio_vs_first: first.map_or(f64::NAN, |first| median_us / first),
                first_size,
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
        println!("\n{}", self.backend);
        println!(
            "{:>9} {:<13} {:>6} {:>6} {:>11} {:>11} {:>7} {:>6}",
            "size", "read", "reads", "rows", "median µs", "p95 µs", "ratio", "index"
        );
        for row in &self.rows {
            println!(
                "{:>9} {:<13} {:>6} {:>6} {:>11.1} {:>11.1} {:>7.2} {:>6}",
                row.size,
                row.read,
                row.reads,
                row.rows,
                row.median_us,
                row.p95_us,
                row.ratio_vs_first,
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
                && row.ratio_vs_first >= max
            {
                failures.push((
                    4,
                    format!(
                        "{} at {} rows: median {:.2}x the median at {} rows (limit {max:.2}x)",
                        row.read, row.size, row.ratio_vs_first, row.first_size
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
