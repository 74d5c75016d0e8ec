//! `prune` and `dedupe`: the runtime's [`Prune`] and [`Dedupe`] run on
//! each table the survey found, one after the other, with a progress bar
//! per table, after asking (unless `--yes` or `--dry-run`).
//!
//! The deletes are the runtime's: this module chooses each table's rule
//! ([`rules`]), asks, runs and reports. The runtime checks again that each
//! table is a log table before it reads a row.

pub(crate) mod args;
mod output;
pub(crate) mod rules;

use std::io::Write;

use awesome_audit_log::chrono::{DateTime, Utc};
use awesome_audit_log::retention::{Dedupe, Prune, PruneReport};
use awesome_audit_log::{AuditConfig, Auditor, ModelInfo};

use crate::error::Error;
use crate::exit::Exit;
use crate::progress::Progress;
use crate::prompt;
use crate::prune::args::RunArgs;
use crate::prune::output::{Item, Outcome};
use crate::prune::rules::{Job, Rule, Skip, rule_for};
use crate::survey::Survey;

/// Runs `job` on every table of `survey`: exit 1 when a table failed.
pub(crate) async fn run(
    survey: &Survey,
    job: Job<'_>,
    run: &RunArgs,
    models: &[&ModelInfo],
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let mut items: Vec<Item<'_>> = survey
        .tables
        .iter()
        .map(|checked| {
            let rule = rule_for(job, checked, models);
            let outcome = match &rule {
                Ok(_) => Outcome::Planned,
                Err(skip) => Outcome::Skipped(skip.clone()),
            };
            Item {
                checked,
                rule: rule.ok(),
                outcome,
            }
        })
        .collect();
    let runnable = items.iter().filter(|item| item.rule.is_some()).count();
    let unruled = items
        .iter()
        .any(|item| item.outcome == Outcome::Skipped(Skip::NoRule));
    if runnable == 0 && unruled {
        return Err(Error::NoRetentionRule);
    }
    let auditor = auditor(survey)?;
    // One instant `--older-than` counts back from, for the counts shown
    // before asking and for the deletes after.
    let now = Utc::now();
    // The rows counted before asking, per table: the run does not count
    // them again.
    let mut known: Vec<(String, u64)> = Vec::new();
    if runnable > 0 && !run.dry_run && !run.yes {
        prompt::require_terminal(job.name(), "the counts")?;
        let counted = count(&auditor, &items, run, now).await;
        let yes = confirmed(&counted)?;
        known = counted
            .into_iter()
            .filter_map(|(table, rows)| Some((table.to_owned(), rows.ok()?)))
            .collect();
        if !yes {
            eprintln!("nothing was deleted");
            for item in &mut items {
                if item.rule.is_some() {
                    item.outcome = Outcome::Declined;
                }
            }
            output::finished(out, json, survey, &items)?;
            return Ok(Exit::Failure);
        }
    }
    for item in &mut items {
        let Some(rule) = item.rule else { continue };
        let name = item.checked.target.name.as_str();
        let known = known
            .iter()
            .find(|(table, _)| table == name)
            .map(|(_, rows)| *rows);
        let progress = Progress::new(name, known);
        let batches = Batches {
            dry_run: run.dry_run,
            count_first: known.is_none(),
        };
        let result = execute(&auditor, name, rule, run, now, batches, |p| {
            progress.update(p)
        })
        .await;
        progress.finish();
        item.outcome = match result {
            Ok(report) => Outcome::Done(report),
            Err(error) => Outcome::Failed(error.to_string()),
        };
    }
    output::finished(out, json, survey, &items)?;
    let failed = items
        .iter()
        .any(|item| matches!(item.outcome, Outcome::Failed(_)));
    Ok(Exit::from_ok(!failed))
}

/// Shows the rows each runnable table would lose on stderr and asks
/// whether to delete them; with nothing to delete, there is nothing to ask.
fn confirmed(counted: &[(&str, Result<u64, String>)]) -> Result<bool, Error> {
    output::counted(&mut std::io::stderr(), counted)?;
    let rows = counted
        .iter()
        .filter_map(|(_, rows)| rows.as_ref().ok())
        .fold(0_u64, |sum, rows| sum.saturating_add(*rows));
    let failed = counted.iter().any(|(_, rows)| rows.is_err());
    if rows == 0 && !failed {
        return Ok(true);
    }
    let tables = counted.len();
    prompt::confirm(&format!("Delete {rows} row(s) from {tables} table(s)?"))
}

/// The rows each runnable table would lose: a dry run of each.
async fn count<'a>(
    auditor: &Auditor,
    items: &'a [Item<'a>],
    run: &RunArgs,
    now: DateTime<Utc>,
) -> Vec<(&'a str, Result<u64, String>)> {
    let mut counted = Vec::new();
    for item in items {
        let Some(rule) = item.rule else { continue };
        let name = item.checked.target.name.as_str();
        let dry_run = Batches {
            dry_run: true,
            count_first: true,
        };
        let rows = execute(auditor, name, rule, run, now, dry_run, |_| {})
            .await
            .map(|report| report.rows)
            .map_err(|error| error.to_string());
        counted.push((name, rows));
    }
    counted
}

/// How one table's run goes: a dry run or not, counting its rows first
/// or not (they were counted before asking).
#[derive(Debug, Clone, Copy)]
struct Batches {
    dry_run: bool,
    count_first: bool,
}

/// One table's run, by the runtime; `--older-than` counts back from `now`.
async fn execute(
    auditor: &Auditor,
    table: &str,
    rule: Rule,
    run: &RunArgs,
    now: DateTime<Utc>,
    batches: Batches,
    progress: impl FnMut(&awesome_audit_log::retention::PruneProgress),
) -> Result<PruneReport, awesome_audit_log::Error> {
    macro_rules! batches {
        ($builder:expr) => {{
            let mut builder = $builder
                .dry_run(batches.dry_run)
                .count_first(batches.count_first);
            if let Some(rows) = run.batch_size {
                builder = builder.batch_size(rows);
            }
            if let Some(pause) = run.pause {
                builder = builder.pause(pause);
            }
            builder.run(progress).await
        }};
    }
    match rule {
        Rule::Dedupe => batches!(Dedupe::table(auditor, table)),
        Rule::Prune {
            older_than,
            before,
            keep_last,
            ..
        } => {
            let mut prune = Prune::table(auditor, table);
            if let Some(age) = older_than {
                prune = prune.older_than(age);
            }
            prune = prune.counting_from(now);
            if let Some(at) = before {
                prune = prune.before(at);
            }
            if let Some(rows) = keep_last {
                prune = prune.keep_last(rows);
            }
            batches!(prune)
        }
    }
}

/// An auditor on the survey's database, which the runtime's retention runs
/// take: the same pool, in `--schema` on PostgreSQL.
fn auditor(survey: &Survey) -> Result<Auditor, Error> {
    let mut config = AuditConfig::default();
    config.pg_schema = survey.place.schema.clone();
    let database = survey.db.database();
    Auditor::builder(config)
        .database(awesome_audit_log::config::DEFAULT_ALIAS, database)
        .allow_unknown_labels()
        .build()
        .map_err(|error| Error::Auditor(error.to_string()))
}
