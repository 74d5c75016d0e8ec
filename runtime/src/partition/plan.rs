//! What a maintenance run does to a partitioned log table, decided from
//! its partitions as the catalog lists them: pure, so that it is tested
//! without a database.

use chrono::{DateTime, Utc};

use awesome_audit_log_codegen::partition::PartitionBy;

use crate::backend::partitions::{Interval, intervals};

/// A partition as the catalog lists it (bounds that are not timestamps,
/// such as `MINVALUE`, are `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Existing {
    pub(super) name: String,
    pub(super) default: bool,
    pub(super) from: Option<DateTime<Utc>>,
    pub(super) to: Option<DateTime<Utc>>,
}

impl Existing {
    /// Whether the partition holds any row of `[from, to)`.
    fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        !self.default
            && self.from.is_none_or(|start| start < to)
            && self.to.is_none_or(|end| end > from)
    }
}

/// The partitions to create, then those to take off the table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Plan {
    /// The intervals from the current one to `ahead` after it that no
    /// partition covers yet, oldest first.
    pub(super) create: Vec<Interval>,
    /// The partitions whose every row is older than the cutoff, oldest
    /// first (never the DEFAULT partition, never one without an upper
    /// bound).
    pub(super) expire: Vec<Existing>,
}

/// The plan for a table with the partitions `existing`, at `now`:
/// partitions for the current interval and `ahead` more, and the
/// partitions that end at or before `cutoff`.
pub(super) fn plan(
    log_table: &str,
    by: PartitionBy,
    existing: &[Existing],
    now: DateTime<Utc>,
    ahead: u32,
    cutoff: Option<DateTime<Utc>>,
) -> Plan {
    let create = intervals(by, log_table, now, ahead.saturating_add(1))
        .into_iter()
        .filter(|interval| {
            !existing.iter().any(|found| {
                found.name == interval.name || found.overlaps(interval.from, interval.to)
            })
        })
        .collect();
    let expire = match cutoff {
        Some(cutoff) => existing
            .iter()
            .filter(|found| !found.default && found.to.is_some_and(|end| end <= cutoff))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    Plan { create, expire }
}

/// The interval `existing` partitions were made with, from the newest
/// one whose bounds are one day, one week (from a Monday) or one month
/// (from the first).
pub(super) fn infer_interval(existing: &[Existing]) -> Option<PartitionBy> {
    existing.iter().rev().find_map(|found| {
        let (from, to) = (found.from?, found.to?);
        PartitionBy::ALL.into_iter().find(|&by| {
            crate::backend::partitions::interval_start(by, from) == from
                && crate::backend::partitions::next_start(by, from) == Some(to)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn part(name: &str, from: Option<&str>, to: Option<&str>) -> Existing {
        Existing {
            name: name.into(),
            default: false,
            from: from.map(at),
            to: to.map(at),
        }
    }

    fn default() -> Existing {
        Existing {
            name: "w_log_default".into(),
            default: true,
            from: None,
            to: None,
        }
    }

    #[test]
    fn creates_what_is_missing_and_expires_what_is_past() {
        let existing = [
            part("w_log_old", None, Some("2026-09-01T00:00:00Z")),
            part(
                "w_log_p20260901",
                Some("2026-09-01T00:00:00Z"),
                Some("2026-10-01T00:00:00Z"),
            ),
            part(
                "w_log_p20261001",
                Some("2026-10-01T00:00:00Z"),
                Some("2026-11-01T00:00:00Z"),
            ),
            part(
                "w_log_p20261101",
                Some("2026-11-01T00:00:00Z"),
                Some("2026-12-01T00:00:00Z"),
            ),
            default(),
        ];
        let plan = plan(
            "w_log",
            PartitionBy::Month,
            &existing,
            at("2026-11-29T05:00:00Z"),
            2,
            Some(at("2026-10-15T00:00:00Z")),
        );
        let names: Vec<_> = plan.create.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["w_log_p20261201", "w_log_p20270101"]);
        let gone: Vec<_> = plan.expire.iter().map(|e| e.name.as_str()).collect();
        // The October partition still holds rows newer than the cutoff.
        assert_eq!(gone, ["w_log_old", "w_log_p20260901"]);
    }

    #[test]
    fn no_cutoff_expires_nothing_and_the_default_stays() {
        let existing = [
            default(),
            part("w_log_x", Some("2020-01-01T00:00:00Z"), None),
        ];
        let plan = plan(
            "w_log",
            PartitionBy::Day,
            &existing,
            at("2026-01-01T00:00:00Z"),
            0,
            None,
        );
        assert!(plan.expire.is_empty());
        // The partition without an upper bound covers every day from 2020.
        assert!(plan.create.is_empty());
        let plan = super::plan(
            "w_log",
            PartitionBy::Day,
            &existing,
            at("2026-01-01T00:00:00Z"),
            0,
            Some(at("2030-01-01T00:00:00Z")),
        );
        assert!(plan.expire.is_empty());
    }

    #[test]
    fn a_converted_table_gets_partitions_after_its_boundary() {
        // `partition convert` attached the old table up to 2026-11-29 10:00.
        let existing = [
            part("w_log_p00000000", None, Some("2026-11-29T10:00:00Z")),
            default(),
        ];
        let plan = plan(
            "w_log",
            PartitionBy::Day,
            &existing,
            at("2026-11-29T12:00:00Z"),
            2,
            None,
        );
        let names: Vec<_> = plan.create.iter().map(|i| i.name.as_str()).collect();
        // Today's interval overlaps the converted partition: it is left to the DEFAULT.
        assert_eq!(names, ["w_log_p20261130", "w_log_p20261201"]);
    }

    #[test]
    fn intervals_are_inferred_from_the_newest_partition() {
        let month = part(
            "a",
            Some("2026-11-01T00:00:00Z"),
            Some("2026-12-01T00:00:00Z"),
        );
        let week = part(
            "b",
            Some("2026-11-23T00:00:00Z"),
            Some("2026-11-30T00:00:00Z"),
        );
        let day = part(
            "c",
            Some("2026-11-23T00:00:00Z"),
            Some("2026-11-24T00:00:00Z"),
        );
        let odd = part(
            "d",
            Some("2026-11-23T06:00:00Z"),
            Some("2026-11-24T00:00:00Z"),
        );
        assert_eq!(
            infer_interval(std::slice::from_ref(&month)),
            Some(PartitionBy::Month)
        );
        assert_eq!(
            infer_interval(&[month.clone(), week]),
            Some(PartitionBy::Week)
        );
        assert_eq!(infer_interval(&[month, day]), Some(PartitionBy::Day));
        assert_eq!(infer_interval(&[odd, default()]), None);
    }
}
