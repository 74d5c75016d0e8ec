//! A table compared with what this version creates: whether it is a log
//! table at all, and each way it differs (a drift), with whether the tool
//! repairs it.

use awesome_audit_log::Dialect;
use awesome_audit_log_codegen::ddl::{COLUMNS, Column, EVENT_ID, INDEXES, Index, index_name};
use serde::Serialize;

use crate::inspect::{Found, TableInfo};
use crate::types::{Definition, Verdict, judge};

/// The column whose default the original's pre-1.0 tables had.
const CREATED_AT: &str = "created_at";

/// What names the unique index on `event_id` the tool creates when a table
/// has the column without one: `<table>_event_id_idx`.
pub(crate) const EVENT_ID_INDEX: &str = "event_id";

/// One way a log table differs from this version's.
#[derive(Debug, Clone)]
pub(crate) enum Drift {
    /// A column of ours is missing (every one that can be is nullable, so
    /// it is added without touching a row).
    MissingColumn(&'static Column),
    /// A column that is not ours: reported, never dropped.
    ExtraColumn {
        /// Its name.
        name: String,
        /// Its type, as the catalog says.
        sql_type: String,
        /// Whether it is NOT NULL without a default: then the library's
        /// inserts, which do not name it, fail.
        blocks_writes: bool,
    },
    /// A type other than ours (see [`crate::types`]).
    Type {
        /// Ours.
        column: &'static Column,
        /// The table's, as the catalog says.
        found: String,
        /// Whether the tool converts it, and why it matters.
        verdict: Verdict,
    },
    /// A timestamp with fewer than six fractional digits (MySQL `TIMESTAMP`
    /// and `DATETIME` without them keep whole seconds).
    TimestampPrecision {
        /// Ours.
        column: &'static Column,
        /// The table's, as the catalog says.
        found: String,
    },
    /// `created_at` has a default (the original's pre-1.0 `DEFAULT
    /// CURRENT_TIMESTAMP`, MariaDB's `current_timestamp()`), or an `ON
    /// UPDATE` clause: the time must be the event's, set by the writer.
    CreatedAtDefault(String),
    /// A column of ours that must be NOT NULL is nullable.
    Nullable {
        /// Ours.
        column: &'static Column,
        /// How many rows hold NULL there, once counted: such rows keep
        /// the column from being made NOT NULL.
        null_rows: Option<u64>,
    },
    /// A column of ours that must take NULL is NOT NULL (writes that leave
    /// it out would fail).
    NotNull(&'static Column),
    /// An index of ours is missing: no index begins with its columns.
    MissingIndex {
        /// Ours.
        index: &'static Index,
        /// The name it would be created under.
        name: String,
        /// Whether another object already has that name.
        name_taken: bool,
    },
    /// `event_id` is there, but no unique index makes a redelivered row a
    /// no-op.
    EventIdNotUnique {
        /// The name the unique index would be created under.
        name: String,
        /// Whether another object already has that name.
        name_taken: bool,
    },
    /// Not listed in the table of managed log tables.
    NotRegistered,
}

/// Whether the tool repairs a drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Repair {
    /// `schema apply` repairs it.
    Automatic,
    /// The operator has to: `schema apply` leaves the table as it is and
    /// says why.
    Manual,
    /// Nothing to repair: reported for information (an extra column that
    /// does not keep rows from being written).
    None,
}

impl Drift {
    /// The kind, as `--json` names it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Drift::MissingColumn(_) => "missing_column",
            Drift::ExtraColumn { .. } => "extra_column",
            Drift::Type { .. } => "type",
            Drift::TimestampPrecision { .. } => "timestamp_precision",
            Drift::CreatedAtDefault(_) => "created_at_default",
            Drift::Nullable { .. } => "nullable",
            Drift::NotNull(_) => "not_null",
            Drift::MissingIndex { .. } => "missing_index",
            Drift::EventIdNotUnique { .. } => "event_id_not_unique",
            Drift::NotRegistered => "not_registered",
        }
    }

    /// The column it is about, if one.
    pub(crate) fn column(&self) -> Option<&str> {
        match self {
            Drift::MissingColumn(column)
            | Drift::Type { column, .. }
            | Drift::TimestampPrecision { column, .. }
            | Drift::Nullable { column, .. }
            | Drift::NotNull(column) => Some(column.name),
            Drift::ExtraColumn { name, .. } => Some(name),
            Drift::CreatedAtDefault(_) => Some(CREATED_AT),
            Drift::EventIdNotUnique { .. } => Some(EVENT_ID),
            Drift::MissingIndex { .. } | Drift::NotRegistered => None,
        }
    }

    /// Whether and how it is repaired.
    pub(crate) fn repair(&self) -> Repair {
        match self {
            Drift::ExtraColumn {
                blocks_writes: false,
                ..
            } => Repair::None,
            Drift::ExtraColumn {
                blocks_writes: true,
                ..
            }
            | Drift::Type {
                verdict: Verdict::Manual(_),
                ..
            } => Repair::Manual,
            Drift::Nullable {
                null_rows: Some(1..),
                ..
            } => Repair::Manual,
            Drift::MissingIndex {
                name_taken: true, ..
            }
            | Drift::EventIdNotUnique {
                name_taken: true, ..
            } => Repair::Manual,
            _ => Repair::Automatic,
        }
    }

    /// Whether it only informs (the table is OK with it).
    pub(crate) fn is_note(&self) -> bool {
        self.repair() == Repair::None
    }

    /// Whether repairing it redefines an existing column (its type,
    /// nullability or default), rather than adding something.
    pub(crate) fn redefines(&self) -> Option<&'static Column> {
        match self {
            Drift::Type { column, .. }
            | Drift::TimestampPrecision { column, .. }
            | Drift::Nullable { column, .. }
            | Drift::NotNull(column) => Some(column),
            Drift::CreatedAtDefault(_) => COLUMNS.iter().find(|c| c.name == CREATED_AT),
            _ => None,
        }
    }

    /// What it is, in words.
    pub(crate) fn message(&self) -> String {
        match self {
            Drift::MissingColumn(column) => format!("column `{}` is missing", column.name),
            Drift::ExtraColumn {
                name,
                sql_type,
                blocks_writes: false,
            } => format!("column `{name}` ({sql_type}) is not one of ours: kept, never written"),
            Drift::ExtraColumn { name, sql_type, .. } => format!(
                "column `{name}` ({sql_type}) is not one of ours and is NOT NULL without a default: \
                 inserts that do not name it fail; give it a default or make it nullable"
            ),
            Drift::Type {
                column,
                found,
                verdict,
            } => {
                let why = match verdict {
                    Verdict::Convert(why) | Verdict::Manual(why) => why,
                    Verdict::Compatible | Verdict::Precision => "",
                };
                format!("column `{}` is {found}: {why}", column.name)
            }
            Drift::TimestampPrecision { column, found } => {
                let keeps = match found.split_once('(') {
                    Some((_, digits)) => format!(
                        "{} fractional digit(s) of the time written, not six (microseconds)",
                        digits.split(')').next().unwrap_or_default()
                    ),
                    None => "whole seconds only of the time written".to_owned(),
                };
                let ends = if found.starts_with("timestamp") && !found.contains("zone") {
                    ", and TIMESTAMP ends in 2038"
                } else {
                    ""
                };
                format!(
                    "column `{}` is {found}: it keeps {keeps}{ends}",
                    column.name
                )
            }
            Drift::CreatedAtDefault(default) => format!(
                "column `created_at` has a database default ({default}): the time must be the event's, set by the writer"
            ),
            Drift::Nullable {
                column,
                null_rows: Some(n @ 1..),
            } => format!(
                "column `{}` takes NULL and {n} row(s) hold NULL there: set them (or delete them), then apply again",
                column.name
            ),
            Drift::Nullable { column, .. } => {
                format!("column `{}` takes NULL; it must be NOT NULL", column.name)
            }
            Drift::NotNull(column) => format!(
                "column `{}` is NOT NULL; rows that leave it out could not be written",
                column.name
            ),
            Drift::MissingIndex {
                index,
                name,
                name_taken,
            } => {
                let columns = index.columns.join(", ");
                if *name_taken {
                    format!(
                        "no index on ({columns}), and the name `{name}` is taken by another object: create the index under another name"
                    )
                } else {
                    format!("no index on ({columns})")
                }
            }
            Drift::EventIdNotUnique { name, name_taken } => {
                if *name_taken {
                    format!(
                        "`event_id` has no unique index, and the name `{name}` is taken by another object"
                    )
                } else {
                    "`event_id` has no unique index: a redelivered row would be written twice"
                        .to_owned()
                }
            }
            Drift::NotRegistered => {
                "not registered in awesome_audit_log_tables (the tool finds managed tables there)"
                    .to_owned()
            }
        }
    }
}

/// Where a table stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    /// As this version creates it (notes aside).
    Ok,
    /// A log table that differs.
    Drift,
    /// No such table.
    Missing,
    /// Not a log table: never touched.
    NotALogTable(String),
}

impl Status {
    /// The status, as `--json` names it.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Drift => "drift",
            Status::Missing => "missing",
            Status::NotALogTable(_) => "not_a_log_table",
        }
    }
}

/// A table compared with this version's.
#[derive(Debug, Clone)]
pub(crate) struct Assessment {
    /// Where it stands.
    pub status: Status,
    /// How it differs (notes included).
    pub drifts: Vec<Drift>,
}

/// Compares `table` (what `found` says of it) with what this version
/// creates in `dialect`; `registered` says whether it is in the table of
/// managed log tables.
pub(crate) fn assess(dialect: Dialect, table: &str, found: &Found, registered: bool) -> Assessment {
    let info = match found {
        Found::Missing => {
            return Assessment {
                status: Status::Missing,
                drifts: Vec::new(),
            };
        }
        Found::Other(kind) => return not_a_log_table(format!("it is a {kind}, not a table")),
        Found::Table(info) => info,
    };
    // What every log row has: without these, it is some other table.
    let required: Vec<&str> = COLUMNS
        .iter()
        .filter(|column| Definition::of(column, dialect).not_null)
        .filter(|column| info.column(column.name).is_none())
        .map(|column| column.name)
        .collect();
    if !required.is_empty() {
        return not_a_log_table(format!(
            "it lacks {}, which every log table has",
            required
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    let mut drifts = Vec::new();
    for column in &COLUMNS {
        match info.column(column.name) {
            None => drifts.push(Drift::MissingColumn(column)),
            Some(found) => column_drifts(dialect, column, found, &mut drifts),
        }
    }
    for found in &info.columns {
        if !COLUMNS.iter().any(|column| column.name == found.name) {
            drifts.push(Drift::ExtraColumn {
                name: found.name.clone(),
                sql_type: found.sql_type.clone(),
                blocks_writes: found.not_null && found.default.is_none(),
            });
        }
    }
    index_drifts(dialect, table, info, &mut drifts);
    if !registered {
        drifts.push(Drift::NotRegistered);
    }
    let status = if drifts.iter().all(Drift::is_note) {
        Status::Ok
    } else {
        Status::Drift
    };
    Assessment { status, drifts }
}

fn not_a_log_table(reason: String) -> Assessment {
    Assessment {
        status: Status::NotALogTable(reason),
        drifts: Vec::new(),
    }
}

fn column_drifts(
    dialect: Dialect,
    column: &'static Column,
    found: &crate::inspect::ColumnInfo,
    drifts: &mut Vec<Drift>,
) {
    match judge(dialect, column, &found.sql_type) {
        Verdict::Compatible => {}
        Verdict::Precision => drifts.push(Drift::TimestampPrecision {
            column,
            found: found.sql_type.clone(),
        }),
        verdict => drifts.push(Drift::Type {
            column,
            found: found.sql_type.clone(),
            verdict,
        }),
    }
    if column.name == CREATED_AT {
        let default = [found.default.as_deref(), found.on_update.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !default.is_empty() {
            drifts.push(Drift::CreatedAtDefault(default));
        }
    }
    let ours = Definition::of(column, dialect);
    match (ours.not_null, found.not_null) {
        (true, false) => drifts.push(Drift::Nullable {
            column,
            null_rows: None,
        }),
        (false, true) => drifts.push(Drift::NotNull(column)),
        _ => {}
    }
}

fn index_drifts(dialect: Dialect, table: &str, info: &TableInfo, drifts: &mut Vec<Drift>) {
    let usable = || info.indexes.iter().filter(|index| !index.partial);
    for index in &INDEXES {
        let covered = usable().any(|found| {
            found.columns.len() >= index.columns.len()
                && found.columns.iter().zip(index.columns).all(|(a, b)| a == b)
        });
        if !covered {
            let name = index_name(table, index.suffix);
            drifts.push(Drift::MissingIndex {
                index,
                name_taken: info.names_in_use.contains(&name),
                name,
            });
        }
    }
    if info.column(EVENT_ID).is_some()
        && !usable().any(|found| found.unique && event_id_key(dialect, &found.columns))
    {
        let name = index_name(table, EVENT_ID_INDEX);
        drifts.push(Drift::EventIdNotUnique {
            name_taken: info.names_in_use.contains(&name),
            name,
        });
    }
}

/// Whether a unique index on `columns` makes a redelivered row a no-op:
/// one on `event_id`, or on PostgreSQL one on `event_id` and `created_at`,
/// the key a table partitioned by `created_at` has (a redelivered row
/// carries its first `created_at`; PostgreSQL's inserts name no conflict
/// target, SQLite's name `event_id`).
fn event_id_key(dialect: Dialect, columns: &[String]) -> bool {
    columns == [EVENT_ID] || (dialect == Dialect::Postgres && columns == [EVENT_ID, "created_at"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitioned_tables_key_the_event_id_with_the_time() {
        let key = |columns: &[&str]| columns.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(event_id_key(
            Dialect::Postgres,
            &key(&["event_id", "created_at"])
        ));
        assert!(event_id_key(Dialect::Sqlite, &key(&["event_id"])));
        assert!(!event_id_key(
            Dialect::Sqlite,
            &key(&["event_id", "created_at"])
        ));
        assert!(!event_id_key(
            Dialect::Postgres,
            &key(&["created_at", "event_id"])
        ));
    }
    use crate::inspect::{ColumnInfo, IndexInfo};

    fn column(name: &str, sql_type: &str, not_null: bool) -> ColumnInfo {
        ColumnInfo {
            name: name.to_owned(),
            sql_type: sql_type.to_owned(),
            not_null,
            default: None,
            on_update: None,
        }
    }

    /// `widget_log` as the original creates it on SQLite.
    fn original_sqlite() -> TableInfo {
        TableInfo {
            columns: COLUMNS[..15]
                .iter()
                .map(|c| {
                    let ours = Definition::of(c, Dialect::Sqlite);
                    column(c.name, &ours.type_name(), ours.not_null)
                })
                .collect(),
            ..TableInfo::default()
        }
    }

    #[test]
    fn the_originals_table_lacks_our_columns_indexes_and_registration() {
        let assessment = assess(
            Dialect::Sqlite,
            "widget_log",
            &Found::Table(original_sqlite()),
            false,
        );
        assert_eq!(assessment.status, Status::Drift);
        let kinds: Vec<_> = assessment.drifts.iter().map(Drift::kind).collect();
        assert_eq!(
            kinds,
            [
                "missing_column",
                "missing_column",
                "missing_index",
                "missing_index",
                "missing_index",
                "missing_index",
                "not_registered"
            ]
        );
        assert!(
            assessment
                .drifts
                .iter()
                .all(|d| d.repair() == Repair::Automatic)
        );
    }

    #[test]
    fn tables_without_the_columns_of_every_log_row_are_not_log_tables() {
        let admin_log = TableInfo {
            columns: vec![
                column("id", "INTEGER", true),
                column("action_time", "TEXT", true),
                column("object_id", "TEXT", false),
                column("action_flag", "INTEGER", true),
            ],
            ..TableInfo::default()
        };
        let assessment = assess(
            Dialect::Sqlite,
            "django_admin_log",
            &Found::Table(admin_log),
            false,
        );
        let Status::NotALogTable(reason) = assessment.status else {
            panic!("{assessment:?}");
        };
        assert!(
            reason.contains("lacks `action`, `object_pk`, `created_at`,"),
            "{reason}"
        );
        let view = assess(
            Dialect::Postgres,
            "v_log",
            &Found::Other("view".into()),
            true,
        );
        assert!(matches!(view.status, Status::NotALogTable(_)));
    }

    #[test]
    fn extra_columns_are_notes_unless_they_block_writes() {
        let mut info = original_sqlite();
        info.columns.push(column("tenant", "TEXT", false));
        let mut full = info.clone();
        full.columns = COLUMNS
            .iter()
            .map(|c| {
                let ours = Definition::of(c, Dialect::Sqlite);
                column(c.name, &ours.type_name(), ours.not_null)
            })
            .chain([column("tenant", "TEXT", false)])
            .collect();
        full.indexes = INDEXES
            .iter()
            .map(|index| IndexInfo {
                name: index_name("w_log", index.suffix),
                columns: index.columns.iter().map(|c| (*c).to_owned()).collect(),
                unique: false,
                partial: false,
            })
            .chain([IndexInfo {
                name: "sqlite_autoindex_w_log_1".into(),
                columns: vec!["event_id".into()],
                unique: true,
                partial: false,
            }])
            .collect();
        let ok = assess(Dialect::Sqlite, "w_log", &Found::Table(full.clone()), true);
        assert_eq!(ok.status, Status::Ok, "{ok:?}");
        assert_eq!(ok.drifts.len(), 1);
        assert!(ok.drifts[0].is_note());

        full.columns.push(column("owner", "TEXT", true));
        let blocked = assess(Dialect::Sqlite, "w_log", &Found::Table(full), true);
        assert_eq!(blocked.status, Status::Drift);
        assert_eq!(blocked.drifts[1].repair(), Repair::Manual);
    }

    #[test]
    fn a_created_at_default_and_a_nullable_created_at() {
        let mut info = original_sqlite();
        let created = info
            .columns
            .iter_mut()
            .find(|c| c.name == "created_at")
            .unwrap();
        created.not_null = false;
        created.default = Some("CURRENT_TIMESTAMP".into());
        let assessment = assess(Dialect::Sqlite, "w_log", &Found::Table(info), true);
        let kinds: Vec<_> = assessment.drifts.iter().map(Drift::kind).collect();
        assert!(
            kinds.starts_with(&["created_at_default", "nullable"]),
            "{kinds:?}"
        );
        let nullable = Drift::Nullable {
            column: &COLUMNS[14],
            null_rows: Some(2),
        };
        assert_eq!(nullable.repair(), Repair::Manual);
        assert!(nullable.message().contains("2 row(s)"));
        let precision = |found: &str| {
            Drift::TimestampPrecision {
                column: &COLUMNS[14],
                found: found.to_owned(),
            }
            .message()
        };
        assert!(
            precision("timestamp")
                .ends_with("whole seconds only of the time written, and TIMESTAMP ends in 2038")
        );
        assert!(
            precision("datetime(3)").ends_with(
                "keeps 3 fractional digit(s) of the time written, not six (microseconds)"
            )
        );
        assert!(precision("timestamp(0) with time zone").ends_with("not six (microseconds)"));
    }

    #[test]
    fn indexes_are_matched_by_leading_columns_not_names() {
        let mut info = original_sqlite();
        info.indexes.push(IndexInfo {
            name: "whatever".into(),
            columns: vec!["created_at".into(), "action".into()],
            unique: false,
            partial: false,
        });
        info.names_in_use.push("w_log_user_idx".into());
        let assessment = assess(Dialect::Sqlite, "w_log", &Found::Table(info), true);
        let missing: Vec<_> = assessment
            .drifts
            .iter()
            .filter_map(|d| match d {
                Drift::MissingIndex {
                    index, name_taken, ..
                } => Some((index.suffix, *name_taken)),
                _ => None,
            })
            .collect();
        assert_eq!(
            missing,
            [("object", false), ("user", true), ("correlation", false)]
        );
    }
}
