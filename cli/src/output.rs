//! What the commands print: lines for people, or with `--json` one JSON
//! array of objects (one per table) for scripts. Errors go to stderr either
//! way; stdout holds only the result.

use std::io::{self, Write};

use awesome_audit_log::Dialect;
use serde::Serialize;

use crate::drift::{Drift, Repair, Status};
use crate::survey::{Checked, Survey};
use crate::tables::Sources;

/// One drift, as `--json` shows it.
#[derive(Debug, Serialize)]
struct DriftJson {
    kind: &'static str,
    column: Option<String>,
    message: String,
    repair: Repair,
}

impl From<&Drift> for DriftJson {
    fn from(drift: &Drift) -> Self {
        Self {
            kind: drift.kind(),
            column: drift.column().map(str::to_owned),
            message: drift.message(),
            repair: drift.repair(),
        }
    }
}

/// What every per-table object has: which table, why it is taken.
#[derive(Debug, Serialize)]
pub(crate) struct TableJson<'a> {
    table: &'a str,
    schema: Option<&'a str>,
    #[serde(flatten)]
    sources: Sources,
}

impl<'a> TableJson<'a> {
    pub(crate) fn new(survey: &'a Survey, checked: &'a Checked) -> Self {
        Self {
            table: &checked.target.name,
            schema: survey.place.catalog_schema.as_deref(),
            sources: checked.target.sources,
        }
    }
}

/// `schema check`, one object per table.
#[derive(Debug, Serialize)]
struct CheckJson<'a> {
    #[serde(flatten)]
    table: TableJson<'a>,
    status: &'static str,
    reason: Option<&'a str>,
    drifts: Vec<DriftJson>,
}

/// Writes `value` as JSON on a line of its own.
pub(crate) fn json_line(out: &mut dyn Write, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
    writeln!(out)
}

/// The result of `schema check`.
pub(crate) fn check(out: &mut dyn Write, json: bool, survey: &Survey) -> io::Result<()> {
    if json {
        let tables: Vec<CheckJson<'_>> = survey
            .tables
            .iter()
            .map(|checked| CheckJson {
                table: TableJson::new(survey, checked),
                status: checked.assessment.status.name(),
                reason: match &checked.assessment.status {
                    Status::NotALogTable(reason) => Some(reason),
                    _ => None,
                },
                drifts: checked
                    .assessment
                    .drifts
                    .iter()
                    .map(DriftJson::from)
                    .collect(),
            })
            .collect();
        return json_line(out, &tables);
    }
    if survey.tables.is_empty() {
        return no_tables(out);
    }
    let width = name_width(survey);
    for checked in &survey.tables {
        let status = match &checked.assessment.status {
            Status::NotALogTable(reason) => format!("not a log table: {reason}"),
            Status::Missing => "missing".to_owned(),
            other => other.name().to_owned(),
        };
        writeln!(out, "{:width$}  {status}", checked.target.name)?;
        for drift in &checked.assessment.drifts {
            let tag = match drift.repair() {
                Repair::Automatic => "",
                Repair::Manual => " (to do by hand)",
                Repair::None => " (note)",
            };
            writeln!(out, "  - {}{tag}", drift.message())?;
        }
    }
    let count = |status: &str| {
        survey
            .tables
            .iter()
            .filter(|checked| checked.assessment.status.name() == status)
            .count()
    };
    writeln!(
        out,
        "{} table(s): {} ok, {} drift, {} missing, {} not a log table",
        survey.tables.len(),
        count("ok"),
        count("drift"),
        count("missing"),
        count("not_a_log_table")
    )?;
    if survey.tables.iter().any(|checked| !checked.is_ok()) {
        writeln!(
            out,
            "`awesome-audit-log schema apply --dry-run` shows what would repair them."
        )?;
    }
    Ok(())
}

pub(crate) fn no_tables(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "no log tables: none is registered in awesome_audit_log_tables; name tables with --table to take (and adopt) them"
    )
}

fn name_width(survey: &Survey) -> usize {
    survey
        .tables
        .iter()
        .map(|checked| checked.target.name.len())
        .max()
        .unwrap_or(0)
}

/// One row of `tables`.
#[derive(Debug, Serialize)]
struct ListedJson<'a> {
    #[serde(flatten)]
    table: TableJson<'a>,
    exists: bool,
    rows_estimate: Option<u64>,
}

/// The result of `tables`: `estimates[i]` is `None` for a table that does
/// not exist, `Some(None)` when the database has no estimate yet.
pub(crate) fn tables(
    out: &mut dyn Write,
    json: bool,
    survey: &Survey,
    estimates: &[Option<Option<u64>>],
) -> io::Result<()> {
    if json {
        let rows: Vec<ListedJson<'_>> = survey
            .tables
            .iter()
            .zip(estimates)
            .map(|(checked, estimate)| ListedJson {
                table: TableJson::new(survey, checked),
                exists: estimate.is_some(),
                rows_estimate: estimate.flatten(),
            })
            .collect();
        return json_line(out, &rows);
    }
    if survey.tables.is_empty() {
        return no_tables(out);
    }
    let rows: Vec<[String; 4]> = survey
        .tables
        .iter()
        .zip(estimates)
        .map(|(checked, estimate)| {
            let sources = checked.target.sources;
            let taken = [
                (sources.managed, "managed"),
                (sources.model, "model"),
                (sources.named, "named"),
            ]
            .iter()
            .filter_map(|(on, name)| on.then_some(*name))
            .collect::<Vec<_>>()
            .join(", ");
            [
                checked.target.name.clone(),
                if estimate.is_some() { "yes" } else { "no" }.to_owned(),
                match estimate {
                    Some(Some(rows)) => format!("~{rows}"),
                    Some(None) => "unknown".to_owned(),
                    None => "-".to_owned(),
                },
                taken,
            ]
        })
        .collect();
    let header = [
        "TABLE".to_owned(),
        "EXISTS".to_owned(),
        "ROWS".to_owned(),
        "TAKEN AS".to_owned(),
    ];
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect::<Vec<_>>()
            .join("  ");
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// What `schema apply` did, or would do, with one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing to do.
    Unchanged,
    /// Dry run, or not confirmed: the script was not run.
    Planned,
    /// The script ran and the table now checks OK.
    Repaired,
    /// Left as it is: why.
    Blocked(Vec<String>),
    /// The script failed (rolled back where the database allows), or the
    /// table still differs after it.
    Failed(String),
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Unchanged => "unchanged",
            Outcome::Planned => "planned",
            Outcome::Repaired => "repaired",
            Outcome::Blocked(_) => "blocked",
            Outcome::Failed(_) => "failed",
        }
    }

    /// Whether it leaves the table needing attention.
    pub(crate) fn is_failure(&self) -> bool {
        matches!(self, Outcome::Blocked(_) | Outcome::Failed(_))
    }
}

/// One table of `schema apply`.
#[derive(Debug, Clone)]
pub(crate) struct Applied<'a> {
    /// The table.
    pub checked: &'a Checked,
    /// The script that repairs it (empty when there is nothing to run).
    pub script: Vec<String>,
    /// What became of it.
    pub outcome: Outcome,
}

#[derive(Debug, Serialize)]
struct AppliedJson<'a> {
    #[serde(flatten)]
    table: TableJson<'a>,
    status: &'static str,
    /// Whether the statements are one transaction (not on MySQL/MariaDB).
    transactional: bool,
    statements: &'a [String],
    reasons: &'a [String],
    error: Option<&'a str>,
}

/// The statements `schema apply` is about to run (or would run), table by
/// table, as a script with a comment line per table.
pub(crate) fn plan(out: &mut dyn Write, dialect: Dialect, items: &[Applied<'_>]) -> io::Result<()> {
    if items.is_empty() {
        return no_tables(out);
    }
    for item in items {
        let name = &item.checked.target.name;
        match &item.outcome {
            Outcome::Unchanged => writeln!(out, "-- {name}: ok, nothing to do")?,
            Outcome::Blocked(reasons) => {
                writeln!(out, "-- {name}: left as it is:")?;
                for reason in reasons {
                    writeln!(out, "--   {reason}")?;
                }
            }
            _ => {
                let how = if crate::apply::transactional(dialect) {
                    "in one transaction"
                } else {
                    "not atomic: MySQL/MariaDB commits each DDL statement on its own"
                };
                writeln!(out, "-- {name}: {how}")?;
                for statement in &item.script {
                    writeln!(out, "{statement};")?;
                }
            }
        }
    }
    Ok(())
}

/// The result of `schema apply`: with `--json` every table with its
/// statements and status; else a line per table that was planned, run or
/// left.
pub(crate) fn applied(
    out: &mut dyn Write,
    json: bool,
    survey: &Survey,
    items: &[Applied<'_>],
) -> io::Result<()> {
    if json {
        let rows: Vec<AppliedJson<'_>> = items
            .iter()
            .map(|item| AppliedJson {
                table: TableJson::new(survey, item.checked),
                status: item.outcome.name(),
                transactional: crate::apply::transactional(survey.dialect()),
                statements: &item.script,
                reasons: match &item.outcome {
                    Outcome::Blocked(reasons) => reasons,
                    _ => &[],
                },
                error: match &item.outcome {
                    Outcome::Failed(error) => Some(error),
                    _ => None,
                },
            })
            .collect();
        return json_line(out, &rows);
    }
    for item in items {
        let name = &item.checked.target.name;
        match &item.outcome {
            Outcome::Repaired => writeln!(out, "{name}: repaired")?,
            Outcome::Failed(error) => writeln!(out, "{name}: failed: {error}")?,
            Outcome::Blocked(_) => writeln!(out, "{name}: left as it is (see above)")?,
            Outcome::Unchanged | Outcome::Planned => {}
        }
    }
    Ok(())
}
