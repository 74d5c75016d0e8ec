//! MySQL / MariaDB: three `AFTER … FOR EACH ROW` triggers, each a single
//! `INSERT` (the update's an `INSERT … SELECT` that writes nothing when no
//! stored field changed), so no `DELIMITER` is needed to run them.

use super::{
    Action, Json, Render, Row, Stored, TriggerField, TriggerModel, TriggerOptions,
    action_trigger_name, drop_then_create, insert_columns, literal, old_and_new, only_changed,
};
use crate::ddl::Dialect;

const D: Dialect = Dialect::MySql;

/// Statement time in UTC, microseconds (the `created_at` column is
/// `DATETIME(6)` in UTC).
const NOW: &str = "UTC_TIMESTAMP(6)";

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
            // A comparison is a boolean to `JSON_OBJECT`, which nests
            // `true` / `false` rather than the 1 / 0 MySQL stores, and
            // NULL stays NULL.
            Render::Bool => format!("({value} <> 0)"),
            // sqlx stores a `Uuid` as 16 bytes; a `CHAR(36)` or MariaDB
            // `UUID` column holds the text. Both branches are utf8mb4: a
            // binary one would make the whole JSON object binary.
            Render::Uuid => format!(
                "LOWER(IF(LENGTH({value}) = 16, \
                 INSERT(INSERT(INSERT(INSERT(HEX({value}), 9, 0, '-'), 14, 0, '-'), 19, 0, '-'), 24, 0, '-'), \
                 CONVERT({value} USING utf8mb4)))"
            ),
            Render::Date => format!("DATE_FORMAT({value}, '%Y-%m-%d')"),
            // One `DATE_FORMAT`, chosen by the fraction: none, 3 or 6
            // digits, as chrono writes.
            Render::DateTimeUtc => format!(
                "CASE WHEN MICROSECOND({value}) = 0 THEN DATE_FORMAT({value}, '%Y-%m-%dT%H:%i:%sZ') \
                 WHEN MICROSECOND({value}) % 1000 = 0 \
                 THEN CONCAT(LEFT(DATE_FORMAT({value}, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z') \
                 ELSE DATE_FORMAT({value}, '%Y-%m-%dT%H:%i:%s.%fZ') END"
            ),
            Render::Json => format!("JSON_EXTRACT({value}, '$')"),
        }
    }
}

/// Whether the field's column differs between `OLD` and `NEW`. Text,
/// UUIDs, JSON and redacted columns are compared as bytes, since text
/// comparisons follow the column's collation (most ignore case); numbers,
/// flags, dates and times compare exactly as they are.
fn differs(field: &TriggerField<'_>) -> String {
    let (old, new) = old_and_new(D, field.column);
    match field.stored {
        Stored::Plain(Render::Int | Render::Bool | Render::Date | Render::DateTimeUtc) => {
            format!("NOT ({old} <=> {new})")
        }
        Stored::Plain(Render::Text | Render::Uuid | Render::Json) | Stored::Redacted => {
            format!("NOT (CAST({old} AS BINARY) <=> CAST({new} AS BINARY))")
        }
    }
}

/// The `changes` of an update: the changed fields' `"key": {...}` members
/// joined as text (`CONCAT_WS` skips the NULL of an unchanged one), which
/// the JSON column takes as the object they spell. The keys are plain
/// identifiers (the macro checks them): no JSON escaping is needed.
fn update_changes(model: &TriggerModel<'_>) -> String {
    let members: Vec<String> = model
        .fields
        .iter()
        .map(|field| {
            let change = My::change(&My::field(field, Row::Old), &My::field(field, Row::New));
            format!(
                "IF({}, CONCAT({}, {change}), NULL)",
                differs(field),
                literal(&format!("\"{}\": ", field.key))
            )
        })
        .collect();
    if members.is_empty() {
        "'{}'".to_owned()
    } else {
        format!(
            "CONCAT('{{', CONCAT_WS(', ', {}), '}}')",
            members.join(", ")
        )
    }
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
    let only_changed = only_changed("WHERE", model, options, differs);
    drop_then_create(
        D,
        model,
        [
            create(
                Action::Insert,
                format!(
                    "INSERT INTO {log} ({columns}) VALUES ({})",
                    inserted.join(D, options, NOW)
                ),
            ),
            create(
                Action::Update,
                format!(
                    "INSERT INTO {log} ({columns}) SELECT {} FROM DUAL{only_changed}",
                    updated.join(D, options, NOW)
                ),
            ),
            create(
                Action::Delete,
                format!(
                    "INSERT INTO {log} ({columns}) VALUES ({})",
                    deleted.join(D, options, NOW)
                ),
            ),
        ],
    )
}
