//! `triggers …`: the database triggers of the models declared
//! `#[audited(triggers)]`. `status` reads the catalog for our objects on
//! each table the tool takes (named as the codegen names them: `<table>_audit…`)
//! and, for an embedded model, compares them with what this version
//! installs; `install` goes through the runtime's
//! [`triggers::install`](awesome_audit_log::triggers::install), so it does
//! what the library does, and `uninstall` runs the statements it prints,
//! the library's `uninstall_statements` of the table (what
//! [`triggers::uninstall`](awesome_audit_log::triggers::uninstall) runs).
//!
//! The table a log table's triggers are on is its name without `_log`
//! (the one naming rule of log tables).

mod catalog;
mod change;
mod expected;
mod output;

use std::io::Write;

use awesome_audit_log::{AuditConfig, ModelInfo};
use awesome_audit_log_codegen::ddl::CORRELATION_ID;
use awesome_audit_log_codegen::ident::LOG_SUFFIX;
use awesome_audit_log_codegen::trigger::{TriggerModel, TriggerOptions};
use clap::{Args, Subcommand};

use self::change::Command;
use self::expected::{Expected, Installed, State, Wanted, assess, by_name, generated};
use crate::error::Error;
use crate::exit::Exit;
use crate::inspect::Found;
use crate::survey::{Checked, Survey};

/// `triggers …`: the database triggers of `#[audited(triggers)]` models.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum TriggersCommand {
    /// Which audit triggers each table has and, for the models the binary
    /// embeds, whether they are this version's; exit 1 when one is
    /// missing, partly installed, outdated or unexpected.
    Status,
    /// Installs the triggers of the embedded models declared
    /// `#[audited(triggers)]` where they are missing or outdated (the
    /// standalone tool knows no model: embed it, or apply the schema
    /// export's triggers files); asks first.
    Install(TriggerArgs),
    /// Removes the audit triggers (and on PostgreSQL their function) from
    /// the tables the tool takes; asks first.
    Uninstall(TriggerArgs),
}

/// The options of `triggers install` and `triggers uninstall`.
#[derive(Debug, Clone, Default, Args)]
pub struct TriggerArgs {
    /// Print the statements and stop; nothing is changed.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask: required when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// One table the commands look at.
#[derive(Debug)]
pub(crate) struct Item<'a> {
    /// Its log table, as surveyed.
    pub checked: &'a Checked,
    /// The table the triggers are on.
    pub table: String,
    /// The embedded model logged into that log table (the one with
    /// triggers, when several are).
    pub model: Option<&'a ModelInfo>,
    /// What its triggers are generated from.
    pub spec: Option<&'static TriggerModel<'static>>,
    /// Whether it should have triggers: declared with them and audited by
    /// the configuration; `None` without a model.
    pub wanted: Wanted,
    /// What the installation writes, as [`TriggerOptions`].
    pub options: TriggerOptions<'a>,
    /// Our objects on the table, with this version's definitions when known.
    pub expected: Vec<Expected>,
    /// Those the catalog has.
    pub installed: Vec<Installed>,
    /// Where they stand.
    pub state: State,
}

/// Runs `command` on the survey's tables, with `models` (embedded) and the
/// application's `config`.
pub(crate) async fn run(
    survey: &Survey,
    command: &TriggersCommand,
    models: &[&ModelInfo],
    config: &AuditConfig,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let items = items(survey, models, config).await?;
    match command {
        TriggersCommand::Status => {
            output::status(out, json, survey, &items)?;
            Ok(Exit::from_ok(!items.iter().any(|i| i.state.is_problem())))
        }
        TriggersCommand::Install(args) => {
            if !items.iter().any(|item| item.spec.is_some()) {
                return Err(Error::NoTriggerModels {
                    standalone: models.is_empty(),
                });
            }
            change::run(survey, &items, config, Command::Install, args, json, out).await
        }
        TriggersCommand::Uninstall(args) => {
            change::run(survey, &items, config, Command::Uninstall, args, json, out).await
        }
    }
}

/// The tables the survey took, with what their triggers should be and are.
async fn items<'a>(
    survey: &'a Survey,
    models: &[&'a ModelInfo],
    config: &AuditConfig,
) -> Result<Vec<Item<'a>>, Error> {
    let dialect = survey.dialect();
    let mut items = Vec::with_capacity(survey.tables.len());
    for checked in &survey.tables {
        let name = &checked.target.name;
        let table = match name.strip_suffix(LOG_SUFFIX) {
            Some(table) if checked.target.valid_name() && !table.is_empty() => table.to_owned(),
            _ => continue,
        };
        let logged_here: Vec<&ModelInfo> = models
            .iter()
            .copied()
            .filter(|model| model.log_table() == name)
            .collect();
        let model = logged_here
            .iter()
            .find(|model| model.triggers().is_some())
            .or(logged_here.first())
            .copied();
        let spec = model.and_then(ModelInfo::triggers);
        let wanted = model.map(|model| spec.is_some() && config.is_audited(model.label()));
        let options = options(survey, checked, config);
        let catalog_schema = survey.place.catalog_schema.as_deref();
        let expected = match spec {
            Some(spec) => generated(dialect, spec, &options, catalog_schema),
            None => by_name(dialect, &table),
        };
        let installed = catalog::installed(&survey.db, &survey.place, &table, &expected).await?;
        let state = assess(&expected, &installed, wanted);
        items.push(Item {
            checked,
            table,
            model,
            spec,
            wanted,
            options,
            expected,
            installed,
            state,
        });
    }
    Ok(items)
}

/// What `install` generates the triggers with, as the runtime does: the
/// schema of the log tables, LOG_UNCHANGED_UPDATES, and the columns the
/// log table has (one that is missing is created with all of them).
fn options<'a>(survey: &'a Survey, checked: &Checked, config: &AuditConfig) -> TriggerOptions<'a> {
    let has = |column: &str| match &checked.found {
        Some(Found::Table(info)) => info.column(column).is_some(),
        _ => true,
    };
    TriggerOptions {
        schema: survey.place.schema.as_deref(),
        log_unchanged_updates: config.log_unchanged_updates,
        correlation_id: has(CORRELATION_ID),
    }
}
