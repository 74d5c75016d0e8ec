//! Our objects on a table, by name (`<table>_audit…`, from the codegen's
//! naming rules), with what the catalog holds of each when this version
//! installed it, taken from the very statements `install` runs; and how a
//! table's objects as found compare with them.
//!
//! What the catalog keeps, and so what is compared:
//! - SQLite: a trigger's `CREATE TRIGGER` statement, verbatim
//!   (`sqlite_master.sql`);
//! - MySQL/MariaDB: a trigger's body, verbatim
//!   (`information_schema.TRIGGERS.ACTION_STATEMENT`);
//! - PostgreSQL: the function's body, verbatim (`pg_proc.prosrc`); of the
//!   trigger, which function it executes (its definition is not kept as
//!   written).

use awesome_audit_log::Dialect;
use awesome_audit_log_codegen::trigger::{
    TriggerModel, TriggerOptions, function_name, install_statements, trigger_names,
};
use serde::Serialize;

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ObjectKind {
    /// A trigger on the table.
    Trigger,
    /// PostgreSQL: the function the trigger executes.
    Function,
}

/// One of our objects on a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expected {
    /// Its name.
    pub name: String,
    /// A trigger or a function.
    pub kind: ObjectKind,
    /// What the catalog holds of it when this version installed it; `None`
    /// when not known (no model, standalone).
    pub definition: Option<String>,
}

/// One of them as the catalog has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Installed {
    /// Its name.
    pub name: String,
    /// What the catalog holds of it (see the module documentation).
    pub definition: String,
}

/// Our objects on `table`, by name only: the triggers, and on PostgreSQL
/// the function (found in the catalog's schema).
pub(crate) fn by_name(dialect: Dialect, table: &str) -> Vec<Expected> {
    let object = |name, kind| Expected {
        name,
        kind,
        definition: None,
    };
    let mut objects: Vec<Expected> = trigger_names(dialect, table)
        .into_iter()
        .map(|name| object(name, ObjectKind::Trigger))
        .collect();
    if dialect == Dialect::Postgres {
        objects.push(object(function_name(table), ObjectKind::Function));
    }
    objects
}

/// Our objects on `spec`'s table with the definitions this version
/// installs with `options`; `function_schema` is the schema the
/// PostgreSQL function is created in (the catalog's).
pub(crate) fn generated(
    dialect: Dialect,
    spec: &TriggerModel<'_>,
    options: &TriggerOptions<'_>,
    function_schema: Option<&str>,
) -> Vec<Expected> {
    let statements = install_statements(dialect, spec, options);
    let mut objects = by_name(dialect, spec.table);
    for object in &mut objects {
        object.definition = match (dialect, object.kind) {
            (Dialect::Postgres, ObjectKind::Trigger) => {
                function_schema.map(|schema| qualified_function(schema, &function_name(spec.table)))
            }
            (Dialect::Postgres, ObjectKind::Function) => statements
                .iter()
                .find(|s| s.starts_with("CREATE OR REPLACE FUNCTION "))
                .and_then(|s| dollar_quoted(s))
                .map(str::to_owned),
            (Dialect::MySql, _) => create_trigger(dialect, &statements, &object.name)
                .and_then(|s| s.split_once(" FOR EACH ROW "))
                .map(|(_, body)| body.to_owned()),
            (Dialect::Sqlite, _) => {
                create_trigger(dialect, &statements, &object.name).map(str::to_owned)
            }
        };
    }
    objects
}

/// How a PostgreSQL trigger's function is named in its definition:
/// `schema.function`.
pub(crate) fn qualified_function(schema: &str, function: &str) -> String {
    format!("{schema}.{function}")
}

/// The statement that creates the trigger `name`.
fn create_trigger<'s>(dialect: Dialect, statements: &'s [String], name: &str) -> Option<&'s str> {
    let head = format!("CREATE TRIGGER {} ", dialect.quote(name));
    statements
        .iter()
        .find(|s| s.starts_with(&head))
        .map(String::as_str)
}

/// The text between the first dollar quote of `statement` (`$tag$`) and
/// its last occurrence: a PostgreSQL function's body as `prosrc` keeps it.
fn dollar_quoted(statement: &str) -> Option<&str> {
    let open = statement.find('$')?;
    let tag_len = statement[open + 1..].find('$')? + 2;
    let tag = &statement[open..open + tag_len];
    let inner = &tag[1..tag_len - 1];
    if !inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let start = open + tag_len;
    let end = statement.rfind(tag)?;
    (end >= start).then(|| &statement[start..end])
}

/// Where a table's triggers stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum State {
    /// All installed, each as this version installs it.
    Current,
    /// All installed; not compared (no model definition here, or a
    /// definition the catalog does not keep).
    Installed,
    /// All installed, one or more unlike this version's.
    Outdated,
    /// Some installed, some not.
    Partial,
    /// None installed, though the model is declared with triggers.
    Missing,
    /// None installed, none expected.
    None,
    /// Installed on the table of a model that is not declared with
    /// triggers (or that the configuration leaves unaudited): its changes
    /// are logged twice, or logged against the configuration.
    Unexpected,
}

impl State {
    /// Its name, as printed and in `--json`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            State::Current => "current",
            State::Installed => "installed",
            State::Outdated => "outdated",
            State::Partial => "partial",
            State::Missing => "missing",
            State::None => "none",
            State::Unexpected => "unexpected",
        }
    }

    /// Whether `triggers status` counts it as not as expected (exit 1).
    pub(crate) fn is_problem(self) -> bool {
        matches!(
            self,
            State::Outdated | State::Partial | State::Missing | State::Unexpected
        )
    }
}

/// Whether the model wants triggers: `None` with no model (standalone).
pub(crate) type Wanted = Option<bool>;

/// Where `expected` stands given what was `installed`.
pub(crate) fn assess(expected: &[Expected], installed: &[Installed], wanted: Wanted) -> State {
    let found = |object: &Expected| installed.iter().find(|i| i.name == object.name);
    let present = expected.iter().filter(|o| found(o).is_some()).count();
    if present == 0 {
        return if wanted == Some(true) {
            State::Missing
        } else {
            State::None
        };
    }
    if wanted == Some(false) {
        return State::Unexpected;
    }
    if present < expected.len() {
        return State::Partial;
    }
    let mut compared = true;
    for object in expected {
        match (&object.definition, found(object)) {
            (Some(definition), Some(installed)) if *definition != installed.definition => {
                return State::Outdated;
            }
            (None, _) => compared = false,
            _ => {}
        }
    }
    if compared {
        State::Current
    } else {
        State::Installed
    }
}

/// Whether one object is as this version installs it: `None` when not
/// installed or not compared.
pub(crate) fn is_current(object: &Expected, installed: &[Installed]) -> Option<bool> {
    let found = installed.iter().find(|i| i.name == object.name)?;
    object
        .definition
        .as_ref()
        .map(|definition| *definition == found.definition)
}

#[cfg(test)]
mod tests {
    use super::*;
    use awesome_audit_log_codegen::trigger::{Render, Stored, TriggerField};

    const FIELDS: [TriggerField<'static>; 1] = [TriggerField {
        column: "qty_col",
        key: "qty",
        stored: Stored::Plain(Render::Int),
    }];
    const SPEC: TriggerModel<'static> = TriggerModel {
        table: "widget",
        log_table: "widget_log",
        pk_column: "id",
        pk_render: Render::Int,
        fields: &FIELDS,
    };

    fn installed(objects: &[Expected]) -> Vec<Installed> {
        objects
            .iter()
            .map(|o| Installed {
                name: o.name.clone(),
                definition: o.definition.clone().unwrap_or_default(),
            })
            .collect()
    }

    #[test]
    fn the_names_are_the_codegen_s() {
        let names = |dialect| {
            by_name(dialect, "widget")
                .into_iter()
                .map(|o| (o.name, o.kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Dialect::Postgres),
            [
                ("widget_audit".to_owned(), ObjectKind::Trigger),
                ("widget_audit_fn".to_owned(), ObjectKind::Function)
            ]
        );
        assert_eq!(
            names(Dialect::MySql),
            trigger_names(Dialect::MySql, "widget")
                .into_iter()
                .map(|n| (n, ObjectKind::Trigger))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn definitions_come_from_the_install_statements() {
        let options = TriggerOptions::new();
        for dialect in Dialect::ALL {
            let statements = install_statements(dialect, &SPEC, &options).join(";\n");
            let objects = generated(dialect, &SPEC, &options, Some("public"));
            assert_eq!(objects.len(), by_name(dialect, "widget").len());
            for object in &objects {
                let definition = object
                    .definition
                    .as_deref()
                    .unwrap_or_else(|| panic!("{dialect:?}: no definition for {}", object.name));
                match (dialect, object.kind) {
                    (Dialect::Postgres, ObjectKind::Trigger) => {
                        assert_eq!(definition, "public.widget_audit_fn");
                    }
                    _ => assert!(statements.contains(definition), "{definition}"),
                }
            }
        }
        // The function's body, without its quotes.
        let pg = generated(Dialect::Postgres, &SPEC, &options, Some("public"));
        let body = pg[1].definition.as_deref().unwrap();
        assert!(!body.contains('$') && body.contains("qty_col"), "{body}");
        // MySQL's body is the statement after `FOR EACH ROW`.
        let my = generated(Dialect::MySql, &SPEC, &options, None);
        assert!(
            my.iter()
                .all(|o| !o.definition.as_ref().unwrap().contains("CREATE TRIGGER"))
        );
    }

    #[test]
    fn dollar_quotes_are_read_by_their_tag() {
        assert_eq!(dollar_quoted("AS $f$ a $x b $f$"), Some(" a $x b "));
        assert_eq!(dollar_quoted("AS $$ body $$"), Some(" body "));
        assert_eq!(dollar_quoted("no quotes"), None);
        assert_eq!(dollar_quoted("AS $a b$ x $a b$"), None);
    }

    #[test]
    fn states_follow_what_is_found() {
        let options = TriggerOptions::new();
        let expected = generated(Dialect::Sqlite, &SPEC, &options, None);
        let all = installed(&expected);
        assert_eq!(assess(&expected, &all, Some(true)), State::Current);
        assert_eq!(assess(&expected, &all[..2], Some(true)), State::Partial);
        assert_eq!(assess(&expected, &[], Some(true)), State::Missing);
        assert_eq!(assess(&expected, &[], Some(false)), State::None);
        assert_eq!(assess(&expected, &[], None), State::None);
        assert_eq!(assess(&expected, &all, Some(false)), State::Unexpected);

        let other = TriggerOptions {
            log_unchanged_updates: true,
            ..TriggerOptions::new()
        };
        let older = installed(&generated(Dialect::Sqlite, &SPEC, &other, None));
        assert_eq!(assess(&expected, &older, Some(true)), State::Outdated);
        assert_eq!(is_current(&expected[1], &older), Some(false));
        assert_eq!(is_current(&expected[0], &older), Some(true));
        assert_eq!(is_current(&expected[0], &[]), None);

        // By name only: installed, not compared.
        let names = by_name(Dialect::Sqlite, "widget");
        assert_eq!(assess(&names, &all, None), State::Installed);
        assert_eq!(is_current(&names[0], &all), None);
        assert!(State::Outdated.is_problem() && !State::Installed.is_problem());
    }
}
