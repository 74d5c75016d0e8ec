//! PostgreSQL: one PL/pgSQL function and one `AFTER INSERT OR UPDATE OR
//! DELETE … FOR EACH ROW` trigger that calls it. The function knows the
//! model's columns: it compares and builds the JSON column by column.

use super::{
    Action, Json, Render, Row, RowValues, Stored, TriggerModel, TriggerOptions, insert_columns,
    literal,
};
use crate::ddl::{Dialect, bounded_name};

const D: Dialect = Dialect::Postgres;

/// Statement time, UTC (a `TIMESTAMPTZ`, microseconds).
const NOW: &str = "statement_timestamp()";
/// A random UUID as text (PostgreSQL 13 and later).
const UUID: &str = "gen_random_uuid()::text";

struct Pg;

impl Json for Pg {
    const DIALECT: Dialect = D;
    const OBJECT: &'static str = "jsonb_build_object";
    const TEXT: &'static str = "text";
    const NULL: &'static str = "NULL::jsonb";

    fn render(render: Render, value: &str) -> String {
        match render {
            Render::Bool | Render::Int | Render::Text => format!("to_jsonb({value})"),
            Render::Uuid => format!("to_jsonb({value}::text)"),
            Render::Date => format!("to_jsonb(to_char({value}, 'YYYY-MM-DD'))"),
            Render::DateTimeUtc => {
                let utc = format!("({value}::timestamptz AT TIME ZONE 'UTC')");
                let micros = format!("(extract(microseconds FROM {utc})::bigint % 1000000)");
                format!(
                    "to_jsonb(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE \
                     WHEN {micros} = 0 THEN '' \
                     WHEN {micros} % 1000 = 0 THEN '.' || lpad(({micros} / 1000)::text, 3, '0') \
                     ELSE '.' || lpad({micros}::text, 6, '0') END || 'Z')"
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
    D.qualified(options.schema, &bounded_name(model.table, "audit_fn"))
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

pub(super) fn install(model: &TriggerModel<'_>, options: &TriggerOptions<'_>) -> Vec<String> {
    let log = D.qualified(options.schema, model.log_table);
    let columns = insert_columns(D, options);
    let insert = |values: RowValues| {
        format!(
            "INSERT INTO {log} ({columns}) VALUES ({})",
            values.join(D, options, NOW, UUID)
        )
    };
    let inserted = insert(Pg::whole_row(model, Action::Insert));
    let deleted = insert(Pg::whole_row(model, Action::Delete));
    let updated = insert(Pg::updated_row(model, "audit_changes".to_owned()));
    let mut compare = String::new();
    for field in model.fields {
        let change = Pg::change(&Pg::field(field, Row::Old), &Pg::field(field, Row::New));
        compare.push_str(&format!(
            "    IF {} THEN\n      audit_changes := audit_changes || jsonb_build_object({}, {change});\n    END IF;\n",
            differs(field),
            literal(field.key),
        ));
    }
    let skip_unchanged = if options.log_unchanged_updates {
        String::new()
    } else {
        "    IF audit_changes = '{}'::jsonb THEN\n      RETURN NULL;\n    END IF;\n".to_owned()
    };
    let function = format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $audit$\n\
         DECLARE\n  audit_changes jsonb := '{{}}'::jsonb;\n\
         BEGIN\n  IF TG_OP = 'INSERT' THEN\n    {inserted};\n\
         \x20 ELSIF TG_OP = 'UPDATE' THEN\n{compare}{skip_unchanged}    {updated};\n\
         \x20 ELSIF TG_OP = 'DELETE' THEN\n    {deleted};\n  END IF;\n  RETURN NULL;\nEND\n$audit$",
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
