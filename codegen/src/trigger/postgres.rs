//! PostgreSQL: one PL/pgSQL function and one `AFTER INSERT OR UPDATE OR
//! DELETE … FOR EACH ROW` trigger that calls it. The function knows the
//! model's columns: it compares and builds the JSON column by column, and
//! runs one `INSERT` per row, every expression inline (an update's is an
//! `INSERT … SELECT … WHERE` a stored field changed), so a row costs one
//! statement and no PL/pgSQL assignments.

use super::{
    Action, Json, Render, Row, RowValues, Stored, TriggerModel, TriggerOptions, insert_columns,
    literal, only_changed,
};
use crate::ddl::{Dialect, bounded_name};

const D: Dialect = Dialect::Postgres;

/// Statement time, UTC (a `TIMESTAMPTZ`, microseconds).
const NOW: &str = "statement_timestamp()";

struct Pg;

impl Json for Pg {
    const DIALECT: Dialect = D;
    const OBJECT: &'static str = "jsonb_build_object";
    const TEXT: &'static str = "text";
    const NULL: &'static str = "NULL::jsonb";

    /// A plain SQL value where `jsonb_build_object` converts it as
    /// `to_jsonb` would (numbers, strings, booleans), so no intermediate
    /// `jsonb` is built per field.
    fn render(render: Render, value: &str) -> String {
        match render {
            Render::Bool | Render::Int | Render::Text => value.to_owned(),
            Render::Uuid => format!("{value}::text"),
            Render::Date => format!("to_char({value}, 'YYYY-MM-DD')"),
            // One `to_char`, its format chosen by the fraction: none, 3
            // or 6 digits, as chrono writes. The fraction does not depend
            // on the session's time zone (offsets are whole seconds).
            Render::DateTimeUtc => {
                let micros = format!("date_part('microseconds', {value}::timestamptz)::bigint");
                format!(
                    "to_char({value}::timestamptz AT TIME ZONE 'UTC', CASE \
                     WHEN {micros} % 1000000 = 0 THEN 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"' \
                     WHEN {micros} % 1000 = 0 THEN 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"' \
                     ELSE 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"' END)"
                )
            }
            Render::Json => format!("{value}::jsonb"),
        }
    }

    fn redacted() -> String {
        "'\"***\"'::jsonb".to_owned()
    }
}

fn function_name(model: &TriggerModel<'_>, options: &TriggerOptions<'_>) -> String {
    D.qualified(options.schema, &super::function_name(model.table))
}

fn trigger_name(model: &TriggerModel<'_>) -> String {
    D.quote(&bounded_name(model.table, "audit"))
}

/// Whether the field's column differs between `OLD` and `NEW`.
fn differs(field: &super::TriggerField<'_>) -> String {
    let (old, new) = (
        Row::Old.column(D, field.column),
        Row::New.column(D, field.column),
    );
    match field.stored {
        // `json` has no equality; `jsonb` compares documents.
        Stored::Plain(Render::Json) => format!("{old}::jsonb IS DISTINCT FROM {new}::jsonb"),
        Stored::Plain(_) => format!("{old} IS DISTINCT FROM {new}"),
        // A redacted column may be of any type: its text is compared.
        Stored::Redacted => format!("{old}::text IS DISTINCT FROM {new}::text"),
    }
}

/// The `changes` of an update: the changed fields' objects concatenated
/// (`{}` for a field that did not change).
fn update_changes(model: &TriggerModel<'_>) -> String {
    let parts: Vec<String> = model
        .fields
        .iter()
        .map(|field| {
            let change = Pg::change(&Pg::field(field, Row::Old), &Pg::field(field, Row::New));
            format!(
                "(CASE WHEN {} THEN jsonb_build_object({}, {change}) ELSE '{{}}'::jsonb END)",
                differs(field),
                literal(field.key),
            )
        })
        .collect();
    if parts.is_empty() {
        "'{}'::jsonb".to_owned()
    } else {
        parts.join(" || ")
    }
}

pub(super) fn install(model: &TriggerModel<'_>, options: &TriggerOptions<'_>) -> Vec<String> {
    let log = D.qualified(options.schema, model.log_table);
    let columns = insert_columns(D, options);
    let values = |row: RowValues| row.join(D, options, NOW);
    let inserted = values(Pg::whole_row(model, Action::Insert));
    let deleted = values(Pg::whole_row(model, Action::Delete));
    let updated = values(Pg::updated_row(model, update_changes(model)));
    let only_changed = only_changed("WHERE", model, options, differs);
    let function = format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $audit$\n\
         BEGIN\n  IF TG_OP = 'INSERT' THEN\n    INSERT INTO {log} ({columns}) VALUES ({inserted});\n\
         \x20 ELSIF TG_OP = 'UPDATE' THEN\n    INSERT INTO {log} ({columns}) SELECT {updated}{only_changed};\n\
         \x20 ELSIF TG_OP = 'DELETE' THEN\n    INSERT INTO {log} ({columns}) VALUES ({deleted});\n  END IF;\n  RETURN NULL;\nEND\n$audit$",
        name = function_name(model, options),
    );
    let table = D.quote(model.table);
    vec![
        function,
        format!("DROP TRIGGER IF EXISTS {} ON {table}", trigger_name(model)),
        format!(
            "CREATE TRIGGER {} AFTER INSERT OR UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION {}()",
            trigger_name(model),
            function_name(model, options)
        ),
    ]
}

pub(super) fn uninstall(model: &TriggerModel<'_>, options: &TriggerOptions<'_>) -> Vec<String> {
    vec![
        format!(
            "DROP TRIGGER IF EXISTS {} ON {}",
            trigger_name(model),
            D.quote(model.table)
        ),
        format!(
            "DROP FUNCTION IF EXISTS {}()",
            function_name(model, options)
        ),
    ]
}
