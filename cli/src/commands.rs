//! The commands: each takes the survey of the tables (read and compared),
//! prints its result and says how the tool exits.

use std::io::Write;

use crate::apply;
use crate::cli::ApplyArgs;
use crate::drift::Drift;
use crate::error::Error;
use crate::exit::Exit;
use crate::inspect::{self, Found};
use crate::output::{self, Applied, Outcome};
use crate::prompt;
use crate::repair::{self, Planned, Scope};
use crate::survey::Survey;

/// `schema check`: exit 1 unless every table is OK.
pub(crate) fn check(survey: &Survey, json: bool, out: &mut dyn Write) -> Result<Exit, Error> {
    output::check(out, json, survey)?;
    Ok(Exit::from_ok(survey.tables.iter().all(|t| t.is_ok())))
}

/// `tables`: which exist, about how many rows each has.
pub(crate) async fn tables(
    survey: &Survey,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let mut estimates = Vec::with_capacity(survey.tables.len());
    for checked in &survey.tables {
        estimates.push(match &checked.found {
            Some(Found::Table(_)) => {
                Some(inspect::row_estimate(&survey.db, &survey.place, &checked.target.name).await?)
            }
            _ => None,
        });
    }
    output::tables(out, json, survey, &estimates)?;
    Ok(Exit::Success)
}

/// `schema apply`: plan, print, confirm, run each table's script, check
/// the table again.
pub(crate) async fn apply(
    survey: &Survey,
    args: &ApplyArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let dialect = survey.dialect();
    let scope = Scope {
        dialect,
        place: &survey.place,
        registry_exists: survey.registry_exists,
    };
    let mut plans = Vec::with_capacity(survey.tables.len());
    for checked in &survey.tables {
        let info = match &checked.found {
            Some(Found::Table(info)) => Some(info),
            _ => None,
        };
        let sources = checked.target.sources;
        let planned = repair::plan(
            scope,
            &checked.target.name,
            &checked.assessment,
            info,
            sources.managed || sources.model,
        );
        plans.push(planned);
    }
    let mut items: Vec<Applied<'_>> = survey
        .tables
        .iter()
        .zip(&plans)
        .map(|(checked, planned)| match planned {
            Planned::Nothing => Applied {
                checked,
                script: Vec::new(),
                outcome: Outcome::Unchanged,
            },
            Planned::Blocked(reasons) => Applied {
                checked,
                script: Vec::new(),
                outcome: Outcome::Blocked(reasons.clone()),
            },
            Planned::Repair(plan) => Applied {
                checked,
                script: apply::script(dialect, plan, args.lock_timeout),
                outcome: Outcome::Planned,
            },
        })
        .collect();
    let to_run = items
        .iter()
        .filter(|item| item.outcome == Outcome::Planned)
        .count();
    let plan = prompt::Plan {
        command: "schema apply",
        question: format!("Apply these changes to {to_run} table(s)?"),
        to_run,
        dry_run: args.dry_run,
        yes: args.yes,
        json,
    };
    if let Some(exit) = prompt::confirm_plan(
        &plan,
        out,
        &|out| output::plan(out, dialect, &items),
        &|out| output::applied(out, json, survey, &items),
    )? {
        return Ok(exit);
    }
    let mut outcomes = Vec::with_capacity(items.len());
    for (item, planned) in items.iter().zip(&plans) {
        let Planned::Repair(plan) = planned else {
            outcomes.push(item.outcome.clone());
            continue;
        };
        let outcome = match apply::run(&survey.db, plan, &item.script).await {
            Err(failed) => Outcome::Failed(failed.to_string()),
            Ok(()) => verify(survey, item).await?,
        };
        outcomes.push(outcome);
    }
    for (item, outcome) in items.iter_mut().zip(outcomes) {
        item.outcome = outcome;
    }
    output::applied(out, json, survey, &items)?;
    let failed = items.iter().any(|item| item.outcome.is_failure());
    if !failed && !apply::transactional(dialect) && to_run > 0 && !json {
        writeln!(
            out,
            "(MySQL/MariaDB: each DDL statement committed on its own)"
        )?;
    }
    Ok(Exit::from_ok(!failed))
}

/// Reads the table again after its script ran: repaired only when it now
/// checks OK.
async fn verify(survey: &Survey, item: &Applied<'_>) -> Result<Outcome, Error> {
    let again = survey.recheck(item.checked.target.clone()).await?;
    if again.is_ok() {
        return Ok(Outcome::Repaired);
    }
    let left: Vec<String> = again
        .assessment
        .drifts
        .iter()
        .filter(|drift| !drift.is_note())
        .map(Drift::message)
        .collect();
    Ok(Outcome::Failed(format!(
        "the statements ran, but the table is still {}: {}",
        again.assessment.status.name(),
        left.join("; ")
    )))
}
