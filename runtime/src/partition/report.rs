//! What a maintenance run did (or, in a dry run, would do).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// One partition a run created, dropped or archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartitionChange {
    /// The partition's name.
    pub name: String,
    /// The first instant it holds (`None`: from the beginning of time).
    pub from: Option<DateTime<Utc>>,
    /// The instant its rows end before (`None`: no end).
    pub to: Option<DateTime<Utc>>,
    /// For a created partition, the rows it took over from the DEFAULT
    /// partition; for a dropped or archived one, the rows it held.
    pub rows: u64,
}

/// What happened to the partitions past retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// Detached and dropped.
    Dropped,
    /// Detached and moved to the archive schema.
    Archived,
}

/// The outcome of [`Maintain::run`](super::Maintain::run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MaintainReport {
    /// The log table.
    pub table: String,
    /// Whether nothing was changed (a dry run).
    pub dry_run: bool,
    /// The interval of its partitions.
    pub by: &'static str,
    /// The partitions created, oldest first.
    pub created: Vec<PartitionChange>,
    /// The partitions taken off the table, oldest first.
    pub expired: Vec<PartitionChange>,
    /// What became of them.
    pub expiry: Expiry,
    /// The schema they were moved to, when archived.
    pub archive: Option<String>,
    /// The longest a step held its locks (each step is one short
    /// transaction); zero in a dry run.
    #[serde(serialize_with = "millis")]
    pub longest_step: Duration,
    /// How long the whole run took.
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u128(duration.as_millis())
}
