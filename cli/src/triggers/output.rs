//! What the `triggers` commands print: a line per table for people, or
//! with `--json` one JSON array, an object per table.

use std::io::{self, Write};

use awesome_audit_log::Dialect;
use serde::Serialize;

use super::Item;
use super::change::{Action, Change, Outcome};
use super::expected::{ObjectKind, State, is_current};
use crate::output::{json_line, no_tables};
use crate::survey::Survey;
use crate::tables::Sources;

/// What every object of the `triggers` commands has: the table the
/// triggers are on, its log table, why it is taken, its model.
#[derive(Debug, Serialize)]
struct TableJson<'a> {
    table: &'a str,
    log_table: &'a str,
    schema: Option<&'a str>,
    #[serde(flatten)]
    sources: Sources,
    label: Option<&'static str>,
}

impl<'a> TableJson<'a> {
    fn new(survey: &'a Survey, item: &'a Item<'_>) -> Self {
        Self {
            table: &item.table,
            log_table: &item.checked.target.name,
            schema: survey.place.catalog_schema.as_deref(),
            sources: item.checked.target.sources,
            label: item.model.map(|model| model.label()),
        }
    }
}

/// One object of `triggers status`.
#[derive(Debug, Serialize)]
struct ObjectJson<'a> {
    name: &'a str,
    kind: ObjectKind,
    installed: bool,
    /// Whether it is as this version installs it; `null` when not
    /// installed or not compared.
    current: Option<bool>,
}

/// One table of `triggers status`.
#[derive(Debug, Serialize)]
struct StatusJson<'a> {
    #[serde(flatten)]
    table: TableJson<'a>,
    /// Whether the model should have triggers; `null` without a model.
    wanted: Option<bool>,
    state: State,
    /// Whether the definitions were compared with this version's.
    compared: bool,
    objects: Vec<ObjectJson<'a>>,
}

/// The result of `triggers status`.
pub(crate) fn status(
    out: &mut dyn Write,
    json: bool,
    survey: &Survey,
    items: &[Item<'_>],
) -> io::Result<()> {
    if json {
        let rows: Vec<StatusJson<'_>> = items
            .iter()
            .map(|item| StatusJson {
                table: TableJson::new(survey, item),
                wanted: item.wanted,
                state: item.state,
                compared: item.expected.iter().all(|o| o.definition.is_some()),
                objects: item
                    .expected
                    .iter()
                    .map(|object| ObjectJson {
                        name: &object.name,
                        kind: object.kind,
                        installed: item.installed.iter().any(|i| i.name == object.name),
                        current: is_current(object, &item.installed),
                    })
                    .collect(),
            })
            .collect();
        return json_line(out, &rows);
    }
    if items.is_empty() {
        return no_tables(out);
    }
    for item in items {
        let model = item
            .model
            .map(|model| format!(", model {}", model.label()))
            .unwrap_or_default();
        writeln!(
            out,
            "{} (log table {}{model}): {}",
            item.table,
            item.checked.target.name,
            describe(item.state)
        )?;
        if item.state == State::None {
            continue;
        }
        for object in &item.expected {
            let kind = match object.kind {
                ObjectKind::Trigger => "trigger",
                ObjectKind::Function => "function",
            };
            let how = match (
                item.installed.iter().any(|i| i.name == object.name),
                is_current(object, &item.installed),
            ) {
                (false, _) => "not installed",
                (true, Some(true)) => "installed, this version's",
                (true, Some(false)) => "installed, differs from this version's",
                (true, None) => "installed",
            };
            writeln!(out, "  {kind} {}: {how}", object.name)?;
        }
    }
    let count = |state: State| items.iter().filter(|item| item.state == state).count();
    let counts: Vec<String> = [
        State::Current,
        State::Installed,
        State::Outdated,
        State::Partial,
        State::Missing,
        State::Unexpected,
        State::None,
    ]
    .into_iter()
    .filter(|state| count(*state) > 0)
    .map(|state| format!("{} {}", count(state), state.name()))
    .collect();
    writeln!(out, "{} table(s): {}", items.len(), counts.join(", "))?;
    if items.iter().any(|item| {
        matches!(
            item.state,
            State::Missing | State::Outdated | State::Partial
        ) && item.spec.is_some()
    }) {
        writeln!(
            out,
            "`awesome-audit-log triggers install --dry-run` shows what would install them."
        )?;
    }
    Ok(())
}

/// A state in words.
fn describe(state: State) -> &'static str {
    match state {
        State::Current => "current: installed as this version installs them",
        State::Installed => "installed (not compared: no model definition here)",
        State::Outdated => "outdated: installed, but not as this version installs them",
        State::Partial => "partial: some of the triggers are missing",
        State::Missing => "missing: the model is declared with triggers, none is installed",
        State::None => "none",
        State::Unexpected => {
            "unexpected: installed, but the model is not declared with triggers or not audited"
        }
    }
}

/// The statements `triggers install` / `uninstall` are about to run (or
/// would run), table by table, with a comment line per table.
pub(crate) fn plan(
    out: &mut dyn Write,
    dialect: Dialect,
    changes: &[Change<'_, '_>],
) -> io::Result<()> {
    if changes.is_empty() {
        return writeln!(out, "-- no table to work on");
    }
    for change in changes {
        let table = &change.item.table;
        let how = if crate::apply::transactional(dialect) {
            "in one transaction"
        } else {
            "not atomic: MySQL/MariaDB commits each DDL statement on its own"
        };
        match change.action {
            Action::Nothing => {
                let state = change.item.state;
                writeln!(out, "-- {table}: {}, nothing to do", state.name())?;
                continue;
            }
            Action::Install => writeln!(out, "-- {table}: install the triggers, {how}")?,
            Action::RemoveUnaudited => writeln!(
                out,
                "-- {table}: the configuration leaves the model unaudited: remove its triggers, {how}"
            )?,
            Action::Uninstall => writeln!(out, "-- {table}: remove the triggers, {how}")?,
        }
        if change.creates_log_table {
            writeln!(
                out,
                "-- {} is missing: it is created first",
                change.item.checked.target.name
            )?;
        }
        for statement in &change.statements {
            writeln!(out, "{statement};")?;
        }
    }
    Ok(())
}

/// One table of `triggers install` / `uninstall`.
#[derive(Debug, Serialize)]
struct ChangedJson<'a> {
    #[serde(flatten)]
    table: TableJson<'a>,
    status: &'static str,
    /// Whether the statements are one transaction (not on MySQL/MariaDB).
    transactional: bool,
    statements: &'a [String],
    error: Option<&'a str>,
}

/// What `triggers install` / `uninstall` did: with `--json` every table
/// with its statements and status; else a line per table changed or failed.
pub(crate) fn changed(
    out: &mut dyn Write,
    json: bool,
    survey: &Survey,
    changes: &[Change<'_, '_>],
) -> io::Result<()> {
    if json {
        let rows: Vec<ChangedJson<'_>> = changes
            .iter()
            .map(|change| ChangedJson {
                table: TableJson::new(survey, change.item),
                status: change.outcome.name(),
                transactional: crate::apply::transactional(survey.dialect()),
                statements: &change.statements,
                error: match &change.outcome {
                    Outcome::Failed(error) => Some(error),
                    _ => None,
                },
            })
            .collect();
        return json_line(out, &rows);
    }
    for change in changes {
        let table = &change.item.table;
        match &change.outcome {
            Outcome::Installed => writeln!(out, "{table}: installed")?,
            Outcome::Removed => writeln!(out, "{table}: removed (the model is not audited)")?,
            Outcome::Uninstalled => writeln!(out, "{table}: uninstalled")?,
            Outcome::Failed(error) => writeln!(out, "{table}: failed: {error}")?,
            Outcome::Unchanged | Outcome::Planned => {}
        }
    }
    Ok(())
}
