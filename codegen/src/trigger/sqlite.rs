//! SQLite: the context table (when missing), then three `AFTER … FOR EACH
//! ROW` triggers, each one `INSERT … SELECT` that reads the context row
//! once; the update's fires only `WHEN` a stored field changed. The JSON is written in field order, the
//! same text serde writes.

use super::{
    Action, Json, Render, Row, RowValues, TriggerField, TriggerModel, TriggerOptions,
    action_trigger_name, drop_then_create, insert_columns, literal, old_and_new, only_changed,
};
use crate::ddl::Dialect;

const D: Dialect = Dialect::Sqlite;

/// Statement time in UTC as `created_at` is stored
/// (`2026-11-28 06:18:28.123000+00:00`): SQLite's clock gives
/// milliseconds.
const NOW: &str = "strftime('%Y-%m-%d %H:%M:%f', 'now') || '000+00:00'";

struct Lite;

impl Json for Lite {
    const DIALECT: Dialect = D;
    const OBJECT: &'static str = "json_object";
    const TEXT: &'static str = "TEXT";
    const NULL: &'static str = "NULL";

    fn render(render: Render, value: &str) -> String {
        match render {
            // sqlx stores a `NaiveDate` as `YYYY-MM-DD` text.
            Render::Int | Render::Text | Render::Date => value.to_owned(),
            Render::Bool => format!(
                "json(CASE WHEN {value} IS NULL THEN NULL WHEN {value} THEN 'true' ELSE 'false' END)"
            ),
            // sqlx stores a `Uuid` as a 16-byte blob.
            Render::Uuid => format!(
                "CASE WHEN typeof({value}) = 'blob' AND length({value}) = 16 THEN \
                 lower(substr(hex({value}), 1, 8) || '-' || substr(hex({value}), 9, 4) || '-' || \
                 substr(hex({value}), 13, 4) || '-' || substr(hex({value}), 17, 4) || '-' || \
                 substr(hex({value}), 21)) ELSE lower({value}) END"
            ),
            // sqlx stores a `DateTime<Utc>` as RFC 3339 with `+00:00`;
            // serde writes `Z`, with the same fractional digits.
            Render::DateTimeUtc => format!(
                "CASE WHEN {value} LIKE '%+00:00' THEN substr({value}, 1, length({value}) - 6) || 'Z' \
                 ELSE {value} END"
            ),
            Render::Json => format!("json({value})"),
        }
    }
}

/// Whether the field's column is the same in `OLD` and `NEW`, by binary
/// comparison.
fn same(field: &TriggerField<'_>) -> String {
    let (old, new) = old_and_new(D, field.column);
    format!("{old} IS {new} COLLATE BINARY")
}

/// The `changes` of an update: every field's change, less those whose
/// column is the same (`$[0]` names nothing in an object).
fn update_changes(model: &TriggerModel<'_>) -> String {
    let pairs: Vec<(String, String)> = model
        .fields
        .iter()
        .map(|field| {
            let change = Lite::change(&Lite::field(field, Row::Old), &Lite::field(field, Row::New));
            (literal(field.key), change)
        })
        .collect();
    let unchanged: Vec<String> = model
        .fields
        .iter()
        .map(|field| {
            format!(
                "CASE WHEN {} THEN {} ELSE '$[0]' END",
                same(field),
                literal(&format!("$.\"{}\"", field.key))
            )
        })
        .collect();
    format!(
        "json_remove({}, {})",
        Lite::object(&pairs),
        unchanged.join(", ")
    )
}

pub(super) fn install(model: &TriggerModel<'_>, options: &TriggerOptions<'_>) -> Vec<String> {
    let log = D.quote(model.log_table);
    let columns = insert_columns(D, options);
    let table = D.quote(model.table);
    let create = |action: Action, when: String, values: RowValues| {
        format!(
            "CREATE TRIGGER {} AFTER {} ON {table} FOR EACH ROW{when} BEGIN \
             INSERT INTO {log} ({columns}) SELECT {} {}; END",
            D.quote(&action_trigger_name(model.table, action)),
            action.event(),
            values.join(D, options, NOW),
            super::context::sqlite_context_join()
        )
    };
    let only_changed = only_changed("WHEN", model, options, |field| {
        format!("NOT ({})", same(field))
    });
    // The triggers read the context from this table: it must exist.
    let context_table = super::context::create_table_statement(D).into_iter();
    let triggers = drop_then_create(
        D,
        model,
        [
            create(
                Action::Insert,
                String::new(),
                Lite::whole_row(model, Action::Insert),
            ),
            create(
                Action::Update,
                only_changed,
                Lite::updated_row(model, update_changes(model)),
            ),
            create(
                Action::Delete,
                String::new(),
                Lite::whole_row(model, Action::Delete),
            ),
        ],
    );
    context_table.chain(triggers).collect()
}
