//! The generated code alone: snapshot and diff of a 10-field `#[audited]`
//! struct against the reflective way (both values to `serde_json::Value`,
//! then compare the maps), with the heap allocations of each counted by a
//! counting global allocator.
//!
//! ```text
//! cargo bench -p awesome-audit-log-bench --bench snapshot
//! ```

use std::alloc::System;
use std::hint::black_box;

use awesome_audit_log::audited;
use awesome_audit_log::chrono::{DateTime, TimeZone, Utc};
use awesome_audit_log::json::{diff, snapshot};
use criterion::Criterion;
use serde::Serialize;
use serde_json::{Map, Value, json};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// A 10-field model, typical of an application table.
#[audited(table = "order_line", label = "bench.orderline")]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderLine {
    /// Primary key.
    pub id: i64,
    /// The order it belongs to.
    pub order_id: i64,
    /// Stock keeping unit.
    pub sku: String,
    /// Free text.
    pub description: String,
    /// Quantity ordered: the field the "one changed" case changes.
    pub qty: i32,
    /// Price per unit.
    pub unit_price: f64,
    /// Discount rate.
    pub discount: f64,
    /// Whether the line is active.
    pub active: bool,
    /// Labels.
    pub tags: Vec<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

fn sample() -> OrderLine {
    OrderLine {
        id: 4_211,
        order_id: 981,
        sku: "WID-0042-BLUE".to_owned(),
        description: "Blue widget, 42 mm, boxed \"deluxe\" edition".to_owned(),
        qty: 3,
        unit_price: 19.95,
        discount: 0.1,
        active: true,
        tags: vec!["blue".to_owned(), "boxed".to_owned()],
        updated_at: Utc
            .with_ymd_and_hms(2025, 3, 14, 15, 9, 26)
            .single()
            .unwrap_or_default(),
    }
}

/// The reflective snapshot: the value to a `serde_json::Value`, then text.
fn reflective_snapshot<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// The reflective diff: both values to `serde_json::Value`, compare the
/// maps key by key, and write `{"key": {"from": old, "to": new}}` of the
/// keys that differ; `None` when none does.
fn reflective_diff<T: Serialize>(before: &T, after: &T) -> Option<String> {
    let (Ok(Value::Object(mut before)), Ok(Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return None;
    };
    let mut changes = Map::new();
    for (key, new) in after {
        let old = before.remove(&key).unwrap_or(Value::Null);
        if old != new {
            changes.insert(key, json!({"from": old, "to": new}));
        }
    }
    (!changes.is_empty()).then(|| Value::Object(changes).to_string())
}

/// Allocations of one call of `f` (after a warm-up call).
fn allocations<R>(mut f: impl FnMut() -> R) -> stats_alloc::Stats {
    drop(black_box(f()));
    let region = Region::new(GLOBAL);
    let result = black_box(f());
    let stats = region.change();
    drop(result);
    stats
}

fn report_allocations(old: &OrderLine, changed: &OrderLine, same: &OrderLine) {
    let cases: [(&str, stats_alloc::Stats); 6] = [
        (
            "snapshot/generated",
            allocations(|| snapshot(black_box(old))),
        ),
        (
            "snapshot/reflective",
            allocations(|| reflective_snapshot(black_box(old))),
        ),
        (
            "diff_one_changed/generated",
            allocations(|| diff(black_box(old), black_box(changed))),
        ),
        (
            "diff_one_changed/reflective",
            allocations(|| reflective_diff(black_box(old), black_box(changed))),
        ),
        (
            "diff_none_changed/generated",
            allocations(|| diff(black_box(old), black_box(same))),
        ),
        (
            "diff_none_changed/reflective",
            allocations(|| reflective_diff(black_box(old), black_box(same))),
        ),
    ];
    println!("heap allocations per call (counting global allocator)");
    println!(
        "{:<30} {:>7} {:>9} {:>7}",
        "case", "allocs", "reallocs", "bytes"
    );
    for (name, stats) in &cases {
        println!(
            "{name:<30} {:>7} {:>9} {:>7}",
            stats.allocations, stats.reallocations, stats.bytes_allocated
        );
    }
    println!();
    // The promise: a diff of equal values allocates nothing.
    assert_eq!(
        cases[4].1.allocations + cases[4].1.reallocations,
        0,
        "the generated diff allocated although no field changed"
    );
}

fn main() {
    let old = sample();
    let changed = OrderLine {
        qty: 4,
        ..old.clone()
    };
    let same = old.clone();

    // Both ways agree on what changed.
    let generated: Option<Value> = diff(&old, &changed)
        .ok()
        .flatten()
        .and_then(|s| serde_json::from_str(&s).ok());
    let reflective: Option<Value> =
        reflective_diff(&old, &changed).and_then(|s| serde_json::from_str(&s).ok());
    assert_eq!(generated, reflective);
    assert_eq!(generated, Some(json!({"qty": {"from": 3, "to": 4}})));
    assert!(matches!(diff(&old, &same), Ok(None)));
    assert!(reflective_diff(&old, &same).is_none());

    report_allocations(&old, &changed, &same);

    let mut c = Criterion::default().configure_from_args();
    {
        let mut group = c.benchmark_group("snapshot");
        group.bench_function("generated", |b| b.iter(|| snapshot(black_box(&old))));
        group.bench_function("reflective", |b| {
            b.iter(|| reflective_snapshot(black_box(&old)))
        });
        group.finish();
    }
    for (name, after) in [("diff_one_changed", &changed), ("diff_none_changed", &same)] {
        let mut group = c.benchmark_group(name);
        group.bench_function("generated", |b| {
            b.iter(|| diff(black_box(&old), black_box(after)))
        });
        group.bench_function("reflective", |b| {
            b.iter(|| reflective_diff(black_box(&old), black_box(after)))
        });
        group.finish();
    }
    c.final_summary();
}
