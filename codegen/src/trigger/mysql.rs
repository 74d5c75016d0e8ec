//! MySQL / MariaDB: three `AFTER … FOR EACH ROW` triggers, each a single
//! `INSERT` (the update's an `INSERT … SELECT` that writes nothing when no
//! stored field changed), so no `DELIMITER` is needed to run them.

use super::{
    Action, Json, Render, Row, TriggerField, TriggerModel, TriggerOptions, action_trigger_name,
    drop_then_create, insert_columns, literal, old_and_new,
};
use crate::ddl::Dialect;

const D: Dialect = Dialect::MySql;

/// Statement time in UTC, microseconds (the `created_at` column is
/// `DATETIME(6)` in UTC).
const NOW: &str = "UTC_TIMESTAMP(6)";
/// A UUID as text (version 1 on both servers).
const UUID: &str = "UUID()";

struct My;

impl Json for My {
    const DIALECT: Dialect = D;
    const OBJECT: &'static str = "JSON_OBJECT";
    const TEXT: &'static str = "CHAR";
    const NULL: &'static str = "NULL";

    fn render(render: Render, value: &str) -> String {
        match render {
            Render::Int => value.to_owned(),
            // A column of another character set (the database's default
            // may be latin1) would reach the log's utf8mb4 JSON unconverted.
            Render::Text => format!("CONVERT({value} USING utf8mb4)"),
            // `JSON_EXTRACT` marks its result as JSON, so `JSON_OBJECT`
            // nests `true` rather than the string or the 1 MySQL stores.
            Render::Bool => format!(
                "JSON_EXTRACT(CASE WHEN {value} IS NULL THEN NULL \
                 WHEN {value} THEN 'true' ELSE 'false' END, '$')"
            ),
            // sqlx stores a `Uuid` as 16 bytes; a `CHAR(36)` or MariaDB
            // `UUID` column holds the text. Both branches are utf8mb4: a
            // binary one would make the whole JSON object binary.
            Render::Uuid => format!(
                "LOWER(IF(LENGTH({value}) = 16, CONCAT_WS('-', SUBSTR(HEX({value}), 1, 8), \
                 SUBSTR(HEX({value}), 9, 4), SUBSTR(HEX({value}), 13, 4), \
                 SUBSTR(HEX({value}), 17, 4), SUBSTR(HEX({value}), 21)), \
                 CONVERT({value} USING utf8mb4)))"
            ),
            Render::Date => format!("DATE_FORMAT({value}, '%Y-%m-%d')"),
            Render::DateTimeUtc => format!(
                "CONCAT(DATE_FORMAT({value}, '%Y-%m-%dT%H:%i:%s'), CASE \
                 WHEN MICROSECOND({value}) = 0 THEN '' \
                 WHEN MICROSECOND({value}) % 1000 = 0 \
                 THEN CONCAT('.', LPAD(MICROSECOND({value}) DIV 1000, 3, '0')) \
                 ELSE CONCAT('.', LPAD(MICROSECOND({value}), 6, '0')) END, 'Z')"
            ),
            Render::Json => format!("JSON_EXTRACT({value}, '$')"),
        }
    }
}

/// Whether the field's column differs between `OLD` and `NEW`: compared
/// as bytes, since text comparisons follow the column's collation (most
/// ignore case).
fn differs(field: &TriggerField<'_>) -> String {
    let (old, new) = old_and_new(D, field.column);
    format!("NOT (CAST({old} AS BINARY) <=> CAST({new} AS BINARY))")
}

/// The `changes` of an update: the changed fields merged into one object
/// (`JSON_MERGE_PRESERVE` keeps their `null`s; the keys are distinct).
fn update_changes(model: &TriggerModel<'_>) -> String {
    let mut parts = vec!["JSON_OBJECT()".to_owned()];
    for field in model.fields {
        let change = My::change(&My::field(field, Row::Old), &My::field(field, Row::New));
        parts.push(format!(
            "IF({}, JSON_OBJECT({}, {change}), JSON_OBJECT())",
            differs(field),
            literal(field.key)
        ));
    }
    format!("JSON_MERGE_PRESERVE({})", parts.join(", "))
}

pub(super) fn install(model: &TriggerModel<'_>, options: &TriggerOptions<'_>) -> Vec<String> {
    let log = D.quote(model.log_table);
    let columns = insert_columns(D, options);
    let table = D.quote(model.table);
    let create = |action: Action, body: String| {
        format!(
            "CREATE TRIGGER {} AFTER {} ON {table} FOR EACH ROW {body}",
            D.quote(&action_trigger_name(model.table, action)),
            action.event()
        )
    };
    let inserted = My::whole_row(model, Action::Insert);
    let deleted = My::whole_row(model, Action::Delete);
    let updated = My::updated_row(model, update_changes(model));
    let only_changed = if options.log_unchanged_updates {
        String::new()
    } else {
        let any: Vec<String> = model.fields.iter().map(differs).collect();
        format!(" WHERE {}", any.join(" OR "))
    };
    drop_then_create(
        D,
        model,
        [
            create(
                Action::Insert,
                format!(
                    "INSERT INTO {log} ({columns}) VALUES ({})",
                    inserted.join(D, options, NOW, UUID)
                ),
            ),
            create(
                Action::Update,
                format!(
                    "INSERT INTO {log} ({columns}) SELECT {} FROM DUAL{only_changed}",
                    updated.join(D, options, NOW, UUID)
                ),
            ),
            create(
                Action::Delete,
                format!(
                    "INSERT INTO {log} ({columns}) VALUES ({})",
                    deleted.join(D, options, NOW, UUID)
                ),
            ),
        ],
    )
}
