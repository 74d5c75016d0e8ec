//! What `prune` and `dedupe` print: a line per table (rows deleted, or
//! why it was skipped), or with `--json` one array with an object per
//! table holding the runtime's [`PruneReport`].

use std::io::{self, Write};

use awesome_audit_log::retention::PruneReport;
use serde::Serialize;

use crate::output::{TableJson, json_line, no_tables};
use crate::prune::rules::{Rule, Skip};
use crate::survey::{Checked, Survey};

/// What became of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// To run.
    Planned,
    /// Left alone: why.
    Skipped(Skip),
    /// Not confirmed: nothing was deleted.
    Declined,
    /// Run (or counted, for a dry run).
    Done(PruneReport),
    /// The run failed; the batches before the failure stay deleted.
    Failed(String),
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Planned => "planned",
            Outcome::Skipped(_) => "skipped",
            Outcome::Declined => "declined",
            Outcome::Done(report) if report.dry_run => "dry_run",
            Outcome::Done(_) => "done",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// One table of a run.
#[derive(Debug, Clone)]
pub(crate) struct Item<'a> {
    /// The table.
    pub checked: &'a Checked,
    /// What it is run with (`None`: skipped).
    pub rule: Option<Rule>,
    /// What became of it.
    pub outcome: Outcome,
}

#[derive(Debug, Serialize)]
struct ItemJson<'a> {
    #[serde(flatten)]
    table: TableJson<'a>,
    status: &'static str,
    rule: Option<Rule>,
    reason: Option<String>,
    report: Option<&'a PruneReport>,
    error: Option<&'a str>,
}

/// The rows each table would lose, before asking (on stderr).
pub(crate) fn counted(
    out: &mut dyn Write,
    counted: &[(&str, Result<u64, String>)],
) -> io::Result<()> {
    for (table, rows) in counted {
        match rows {
            Ok(rows) => writeln!(out, "{table}: {rows} row(s) to delete")?,
            Err(error) => writeln!(out, "{table}: could not count: {error}")?,
        }
    }
    Ok(())
}

/// The result: a line per table, or the JSON array.
pub(crate) fn finished(
    out: &mut dyn Write,
    json: bool,
    survey: &Survey,
    items: &[Item<'_>],
) -> io::Result<()> {
    if json {
        let rows: Vec<ItemJson<'_>> = items
            .iter()
            .map(|item| ItemJson {
                table: TableJson::new(survey, item.checked),
                status: item.outcome.name(),
                rule: item.rule,
                reason: match &item.outcome {
                    Outcome::Skipped(skip) => Some(skip.reason()),
                    _ => None,
                },
                report: match &item.outcome {
                    Outcome::Done(report) => Some(report),
                    _ => None,
                },
                error: match &item.outcome {
                    Outcome::Failed(error) => Some(error),
                    _ => None,
                },
            })
            .collect();
        return json_line(out, &rows);
    }
    if items.is_empty() {
        return no_tables(out);
    }
    let mut dry_run = false;
    for item in items {
        let name = &item.checked.target.name;
        let rule = item.rule.map(|rule| rule.describe()).unwrap_or_default();
        match &item.outcome {
            Outcome::Skipped(skip) => writeln!(out, "{name}: skipped: {}", skip.reason())?,
            Outcome::Planned | Outcome::Declined => writeln!(out, "{name}: nothing deleted")?,
            Outcome::Done(report) if report.dry_run => {
                dry_run = true;
                writeln!(
                    out,
                    "{name}: {} row(s) would be deleted: {rule}",
                    report.rows
                )?;
            }
            Outcome::Done(report) => writeln!(
                out,
                "{name}: {} row(s) deleted in {} batch(es) ({:.1?}, the longest batch {:.1?}): {rule}",
                report.rows, report.batches, report.elapsed, report.longest_batch
            )?,
            Outcome::Failed(error) => writeln!(out, "{name}: failed: {error}")?,
        }
    }
    if dry_run {
        writeln!(out, "dry run: nothing was deleted")?;
    }
    Ok(())
}
