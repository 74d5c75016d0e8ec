//! The results: medians over the repetitions per (mode, phase), as a table
//! and as the rows of the JSON output.

use std::collections::BTreeMap;

use awesome_audit_log::chrono::Utc;
use serde::Serialize;

use crate::cli::BackendKind;
use crate::modes::{LABELS, Label, Phase};
use crate::timing::Sample;

/// One line of the results: a (mode, phase) over all repetitions.
#[derive(Debug, Serialize)]
pub(crate) struct ResultRow {
    backend: &'static str,
    mode: &'static str,
    /// The mode `ratio_vs_none` and `cpu_extra_us_per_op` compare with.
    baseline: &'static str,
    phase: &'static str,
    n: usize,
    reps: usize,
    /// Writes per transaction of the grouped modes (`none_tx`,
    /// `trigger_tx`, `trigger_capture`).
    per_tx: usize,
    /// Median over the repetitions.
    ops_per_sec: f64,
    /// Median over the repetitions of elapsed / elapsed of the baseline in the same repetition.
    ratio_vs_none: Option<f64>,
    /// Median CPU time of this process (all threads) per operation.
    cpu_us_per_op: f64,
    /// Median over the repetitions of cpu_us_per_op minus the baseline's.
    cpu_extra_us_per_op: Option<f64>,
    /// The generated triggers' modes: the hand-written reference trigger
    /// of the same grouping, which `ratio_vs_reference` compares with.
    reference: Option<&'static str>,
    /// Median over the repetitions of elapsed / elapsed of the reference
    /// in the same repetition.
    ratio_vs_reference: Option<f64>,
    log_rows: usize,
    server_version: String,
    crate_version: &'static str,
    date: String,
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        len if len % 2 == 1 => values[len / 2],
        len => (values[len / 2 - 1] + values[len / 2]) / 2.0,
    }
}

/// The `pct`-th percentile (nearest rank) of `values`.
pub(crate) fn percentile(mut values: Vec<f64>, pct: usize) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        len => values[((len * pct).div_ceil(100)).max(1) - 1],
    }
}

pub(crate) fn summarize(
    samples: &[Sample],
    backend: BackendKind,
    n: usize,
    reps: usize,
    per_tx: usize,
    server_version: &str,
) -> Vec<ResultRow> {
    let mut by_key: BTreeMap<(&str, &str, usize), &Sample> = BTreeMap::new();
    for s in samples {
        by_key.insert((s.label, s.phase, s.rep), s);
    }
    let date = Utc::now().format("%Y-%m-%d").to_string();
    let mut rows = Vec::new();
    for Label {
        name: label,
        baseline,
        reference,
    } in LABELS
    {
        for phase in Phase::ALL.map(Phase::name) {
            let mine: Vec<&Sample> = (0..reps)
                .filter_map(|rep| by_key.get(&(label, phase, rep)).copied())
                .collect();
            if mine.is_empty() {
                continue;
            }
            let paired = |other: &str| -> Vec<(&Sample, &Sample)> {
                mine.iter()
                    .filter_map(|s| by_key.get(&(other, phase, s.rep)).map(|b| (*s, *b)))
                    .collect()
            };
            let elapsed_ratio = |pairs: &[(&Sample, &Sample)]| {
                (!pairs.is_empty()).then(|| {
                    median(
                        pairs
                            .iter()
                            .map(|(s, b)| s.elapsed.as_secs_f64() / b.elapsed.as_secs_f64())
                            .collect(),
                    )
                })
            };
            let pairs = paired(baseline);
            let per_op_us = |s: &Sample| s.cpu.as_secs_f64() * 1e6 / s.ops as f64;
            let ratio = elapsed_ratio(&pairs);
            let ratio_vs_reference = reference.and_then(|r| elapsed_ratio(&paired(r)));
            let cpu_extra = (!pairs.is_empty()).then(|| {
                median(
                    pairs
                        .iter()
                        .map(|(s, b)| per_op_us(s) - per_op_us(b))
                        .collect(),
                )
            });
            // What `widget_log` held after the mode (checked in `run_mode`).
            let log_rows = if label == baseline { 0 } else { 3 * n };
            rows.push(ResultRow {
                backend: backend.name(),
                mode: label,
                baseline,
                phase,
                n,
                reps: mine.len(),
                per_tx,
                ops_per_sec: median(
                    mine.iter()
                        .map(|s| s.ops as f64 / s.elapsed.as_secs_f64())
                        .collect(),
                ),
                ratio_vs_none: ratio,
                cpu_us_per_op: median(mine.iter().map(|s| per_op_us(s)).collect()),
                cpu_extra_us_per_op: cpu_extra,
                reference,
                ratio_vs_reference,
                log_rows,
                server_version: server_version.to_owned(),
                crate_version: env!("CARGO_PKG_VERSION"),
                date: date.clone(),
            });
        }
    }
    rows
}

pub(crate) fn print_table(rows: &[ResultRow]) {
    println!(
        "{:<26} {:<7} {:>10} {:>8} {:>8} {:>10} {:>10} {:>9}",
        "mode", "phase", "ops/s", "ratio", "vs ref", "cpu µs/op", "+cpu µs", "log rows"
    );
    let opt = |v: Option<f64>, digits: usize| {
        v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
    };
    for row in rows {
        println!(
            "{:<26} {:<7} {:>10.0} {:>8} {:>8} {:>10.1} {:>10} {:>9}",
            row.mode,
            row.phase,
            row.ops_per_sec,
            opt(row.ratio_vs_none, 2),
            opt(row.ratio_vs_reference, 2),
            row.cpu_us_per_op,
            opt(row.cpu_extra_us_per_op, 1),
            row.log_rows
        );
    }
}
