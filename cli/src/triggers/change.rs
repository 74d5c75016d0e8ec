//! `triggers install` and `triggers uninstall`: what each table needs,
//! printed, confirmed as `schema apply` is (y/N on a terminal, `--yes`
//! without one), then done through the runtime where a model is known,
//! and checked in the catalog afterwards.

use std::io::Write;

use awesome_audit_log::triggers::{self, TriggerOutcome};
use awesome_audit_log::{AuditConfig, Auditor, Dialect};
use awesome_audit_log_codegen::trigger::{TriggerModel, install_statements, uninstall_statements};
use sqlx::{AssertSqlSafe, Executor};

use super::expected::{State, assess};
use super::{Item, TriggerArgs, catalog, output};
use crate::connect::{Db, on_pool};
use crate::error::Error;
use crate::exit::Exit;
use crate::inspect::Found;
use crate::prompt;
use crate::survey::Survey;

/// What a table needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing: as it should be.
    Nothing,
    /// Install (or replace) the model's triggers.
    Install,
    /// The configuration leaves the model unaudited: remove its triggers
    /// (what the runtime's install does then).
    RemoveUnaudited,
    /// Remove the triggers.
    Uninstall,
}

/// What became of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Nothing to do.
    Unchanged,
    /// Dry run, or not confirmed: nothing was run.
    Planned,
    /// The triggers are installed, as this version installs them.
    Installed,
    /// The model is not audited: its triggers were removed.
    Removed,
    /// The triggers were removed.
    Uninstalled,
    /// The statements failed, or the catalog does not show what they
    /// should have done.
    Failed(String),
}

impl Outcome {
    /// Its name in `--json`.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Outcome::Unchanged => "unchanged",
            Outcome::Planned => "planned",
            Outcome::Installed => "installed",
            Outcome::Removed => "removed",
            Outcome::Uninstalled => "uninstalled",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// One table's change.
#[derive(Debug)]
pub(crate) struct Change<'i, 'a> {
    /// The table.
    pub item: &'i Item<'a>,
    /// What it needs.
    pub action: Action,
    /// The statements that do it (as the runtime runs them).
    pub statements: Vec<String>,
    /// Whether the log table is missing (the installation creates it first).
    pub creates_log_table: bool,
    /// What became of it.
    pub outcome: Outcome,
}

/// Which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// `triggers install`: the embedded models declared with triggers.
    Install,
    /// `triggers uninstall`: every table that has any of our objects.
    Uninstall,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Install => "triggers install",
            Command::Uninstall => "triggers uninstall",
        }
    }
}

/// Runs `command` on the items: plans, prints, asks, changes, reports.
pub(crate) async fn run(
    survey: &Survey,
    items: &[Item<'_>],
    config: &AuditConfig,
    command: Command,
    args: &TriggerArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let dialect = survey.dialect();
    let changes = items
        .iter()
        .filter_map(|item| {
            let (action, statements) = plan(command, dialect, item)?;
            Some(Change {
                item,
                creates_log_table: action == Action::Install
                    && matches!(item.checked.found, Some(Found::Missing)),
                action,
                statements,
                outcome: Outcome::Unchanged,
            })
        })
        .collect();
    apply(survey, changes, config, command.name(), args, json, out).await
}

/// What `command` does to `item`, and with which statements; `None` for a
/// table it does not list (`install` lists the models with triggers only).
fn plan(command: Command, dialect: Dialect, item: &Item<'_>) -> Option<(Action, Vec<String>)> {
    let nothing = (Action::Nothing, Vec::new());
    match command {
        Command::Install => {
            let spec = item.spec?;
            Some(match (item.wanted, item.state) {
                (Some(false), _) if item.installed.is_empty() => nothing,
                (Some(false), _) => (
                    Action::RemoveUnaudited,
                    uninstall_statements(dialect, spec, &item.options),
                ),
                (_, State::Current) => nothing,
                _ => (
                    Action::Install,
                    install_statements(dialect, spec, &item.options),
                ),
            })
        }
        Command::Uninstall if item.installed.is_empty() => Some(nothing),
        Command::Uninstall => {
            let by_name = TriggerModel::named(&item.table, &item.checked.target.name);
            let spec = item.spec.unwrap_or(&by_name);
            Some((
                Action::Uninstall,
                uninstall_statements(dialect, spec, &item.options),
            ))
        }
    }
}

/// Prints the changes, asks, runs them, prints what became of them.
async fn apply(
    survey: &Survey,
    mut changes: Vec<Change<'_, '_>>,
    config: &AuditConfig,
    command: &'static str,
    args: &TriggerArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let dialect = survey.dialect();
    let to_run = changes
        .iter()
        .filter(|change| change.action != Action::Nothing)
        .count();
    for change in &mut changes {
        if change.action != Action::Nothing {
            change.outcome = Outcome::Planned;
        }
    }
    let plan = prompt::Plan {
        command,
        question: format!("Change the triggers of {to_run} table(s)?"),
        to_run,
        dry_run: args.dry_run,
        yes: args.yes,
        json,
    };
    if let Some(exit) = prompt::confirm_plan(
        &plan,
        out,
        &|out| output::plan(out, dialect, &changes),
        &|out| output::changed(out, json, survey, &changes),
    )? {
        return Ok(exit);
    }
    let auditor = runtime_auditor(survey, config)?;
    for change in &mut changes {
        if change.action != Action::Nothing {
            change.outcome = run_one(survey, &auditor, change).await?;
        }
    }
    output::changed(out, json, survey, &changes)?;
    let failed = changes
        .iter()
        .any(|change| matches!(change.outcome, Outcome::Failed(_)));
    Ok(Exit::from_ok(!failed))
}

/// The runtime's auditor on the tool's database, with what the
/// installation follows of the application's configuration: ENABLED,
/// AUDIT_MODELS, NOT_AUDIT_MODELS, LOG_UNCHANGED_UPDATES, and PG_SCHEMA as
/// the tool takes it.
fn runtime_auditor(survey: &Survey, config: &AuditConfig) -> Result<Auditor, Error> {
    let mut settings = AuditConfig::default();
    settings.enabled = config.enabled;
    settings.audit_models = config.audit_models.clone();
    settings.not_audit_models = config.not_audit_models.clone();
    settings.log_unchanged_updates = config.log_unchanged_updates;
    settings.pg_schema = survey.place.schema.clone();
    Auditor::builder(settings)
        .database("default", survey.db.database())
        .build()
        .map_err(|e| Error::Auditor(e.to_string()))
}

/// Runs one change and reads the catalog again.
async fn run_one(
    survey: &Survey,
    auditor: &Auditor,
    change: &Change<'_, '_>,
) -> Result<Outcome, Error> {
    let item = change.item;
    let done = match (change.action, item.model) {
        (Action::Install | Action::RemoveUnaudited, Some(model)) => {
            triggers::install(auditor, model)
                .await
                .map(|outcome| match outcome {
                    TriggerOutcome::NotAudited => Outcome::Removed,
                    _ => Outcome::Installed,
                })
        }
        // The statements printed are the ones run, embedded or not (those
        // `triggers::uninstall` would run for the model).
        (Action::Uninstall, _) => {
            return match execute(&survey.db, &change.statements).await {
                Ok(()) => verify(survey, change, Outcome::Uninstalled).await,
                Err(e) => Ok(Outcome::Failed(e.to_string())),
            };
        }
        _ => return Ok(Outcome::Unchanged),
    };
    match done {
        Ok(outcome) => verify(survey, change, outcome).await,
        Err(e) => Ok(Outcome::Failed(e.to_string())),
    }
}

/// Runs `statements` in order in one transaction (MySQL commits each DDL
/// statement of its own accord).
async fn execute(db: &Db, statements: &[String]) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| {
        let mut tx = pool.begin().await?;
        for statement in statements {
            (&mut *tx).execute(AssertSqlSafe(statement.clone())).await?;
        }
        tx.commit().await
    })
}

/// `outcome` when the catalog now shows what it should: the triggers as
/// this version installs them after an installation, none after a removal.
async fn verify(
    survey: &Survey,
    change: &Change<'_, '_>,
    outcome: Outcome,
) -> Result<Outcome, Error> {
    let item = change.item;
    let installed =
        catalog::installed(&survey.db, &survey.place, &item.table, &item.expected).await?;
    let state = assess(&item.expected, &installed, item.wanted);
    let ok = match outcome {
        Outcome::Installed => matches!(state, State::Current | State::Installed),
        _ => installed.is_empty(),
    };
    Ok(if ok {
        outcome
    } else {
        Outcome::Failed(format!(
            "the statements ran, but the table's triggers are {}",
            state.name()
        ))
    })
}
