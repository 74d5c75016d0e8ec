//! The statements that bring one log table to this version's shape, per
//! dialect, from the drifts found in it. They add (columns, indexes, the
//! registration) and redefine our own columns (type, nullability, the
//! `created_at` default); they never drop a column or a row.
//!
//! - PostgreSQL: one `ALTER TABLE` with a clause per change, then `CREATE
//!   INDEX` per missing index.
//! - MySQL/MariaDB: one `ALTER TABLE` with every change of the table
//!   (`ADD COLUMN`, `MODIFY COLUMN` with our definition, `ADD INDEX`).
//! - SQLite: `ALTER TABLE … ADD COLUMN` where that is all it takes;
//!   otherwise (a default to drop, a type or nullability to change, which
//!   SQLite's ALTER cannot do) the documented rebuild: a new table with
//!   this version's columns (and the old table's other columns) under a
//!   temporary name, every row copied, the old table dropped, the new one
//!   renamed, its indexes and triggers created again.

use awesome_audit_log::Dialect;
use awesome_audit_log_codegen::ddl::{
    COLUMNS, Column, EVENT_ID, create_index, create_managed_tables, create_table_statements,
    index_columns, index_name, register_table,
};

use crate::drift::{Assessment, Drift, EVENT_ID_INDEX, Repair, Status};
use crate::inspect::{Place, TableInfo};
use crate::types::Definition;

/// The repair of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The statements, in order.
    pub statements: Vec<String>,
    /// SQLite: the table is rebuilt (the caller turns foreign keys off
    /// around the transaction, as SQLite's documentation says).
    pub rebuild: bool,
}

/// What `schema apply` does with one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Planned {
    /// Nothing: it is as this version creates it.
    Nothing,
    /// These statements repair it.
    Repair(Plan),
    /// It is left as it is, for these reasons.
    Blocked(Vec<String>),
}

/// What every table's plan shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// The dialect.
    pub dialect: Dialect,
    /// Where the log tables live.
    pub place: &'a Place,
    /// Whether the table of managed log tables exists already.
    pub registry_exists: bool,
}

impl Scope<'_> {
    fn schema(&self) -> Option<&str> {
        self.place.schema.as_deref()
    }

    fn qualified(&self, table: &str) -> String {
        self.dialect.qualified(self.schema(), table)
    }

    fn quote(&self, name: &str) -> String {
        self.dialect.quote(name)
    }
}

/// What repairs `table`, which `assessment` describes (`info` is what the
/// catalog said of it, when it exists); `creatable` says whether a missing
/// table is created (a managed one, or a model's).
pub(crate) fn plan(
    scope: Scope<'_>,
    table: &str,
    assessment: &Assessment,
    info: Option<&TableInfo>,
    creatable: bool,
) -> Planned {
    match (&assessment.status, info) {
        (Status::Ok, _) => Planned::Nothing,
        (Status::NotALogTable(reason), _) => {
            Planned::Blocked(vec![format!("not a log table: {reason}")])
        }
        (Status::Missing, _) if creatable => Planned::Repair(Plan {
            statements: create(scope, table),
            rebuild: false,
        }),
        (Status::Missing, _) => Planned::Blocked(vec![
            "no such table (the tool creates only managed tables and those of the binary's models)"
                .to_owned(),
        ]),
        (Status::Drift, None) => Planned::Blocked(vec!["the table's catalog was not read".into()]),
        (Status::Drift, Some(info)) => {
            let manual: Vec<String> = assessment
                .drifts
                .iter()
                .filter(|drift| drift.repair() == Repair::Manual)
                .map(Drift::message)
                .collect();
            if !manual.is_empty() {
                return Planned::Blocked(manual);
            }
            let drifts: Vec<&Drift> = assessment.drifts.iter().filter(|d| !d.is_note()).collect();
            Planned::Repair(match scope.dialect {
                Dialect::Postgres => postgres(scope, table, &drifts),
                Dialect::MySql => mysql(scope, table, &drifts),
                Dialect::Sqlite => sqlite(scope, table, info, &drifts),
            })
        }
    }
}

/// A missing table, created as the runtime creates it (registered too).
fn create(scope: Scope<'_>, table: &str) -> Vec<String> {
    scope
        .schema()
        .map(|schema| format!("CREATE SCHEMA IF NOT EXISTS {}", scope.quote(schema)))
        .into_iter()
        .chain(create_table_statements(
            scope.dialect,
            scope.schema(),
            table,
        ))
        .collect()
}

/// The registration, when it is missing.
fn register(scope: Scope<'_>, table: &str, drifts: &[&Drift]) -> Vec<String> {
    if !drifts.iter().any(|d| matches!(d, Drift::NotRegistered)) {
        return Vec::new();
    }
    let create =
        (!scope.registry_exists).then(|| create_managed_tables(scope.dialect, scope.schema()));
    create
        .into_iter()
        .chain([register_table(scope.dialect, scope.schema(), table)])
        .collect()
}

/// The missing indexes of ours, as `CREATE INDEX IF NOT EXISTS`
/// (PostgreSQL, SQLite), and a missing unique index on `event_id`.
fn create_indexes(scope: Scope<'_>, table: &str, drifts: &[&Drift]) -> Vec<String> {
    drifts
        .iter()
        .filter_map(|drift| match drift {
            Drift::MissingIndex { index, .. } => {
                Some(create_index(scope.dialect, scope.schema(), table, index))
            }
            Drift::EventIdNotUnique { name, .. } => Some(format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                scope.quote(name),
                scope.qualified(table),
                scope.quote(EVENT_ID)
            )),
            _ => None,
        })
        .collect()
}

/// `ALTER TABLE t` with `clauses`, one per line; nothing without clauses.
fn alter_table(scope: Scope<'_>, table: &str, clauses: &[String]) -> Option<String> {
    (!clauses.is_empty()).then(|| {
        format!(
            "ALTER TABLE {}\n    {}",
            scope.qualified(table),
            clauses.join(",\n    ")
        )
    })
}

fn missing_columns<'a>(drifts: &'a [&Drift]) -> impl Iterator<Item = &'static Column> + 'a {
    drifts.iter().filter_map(|drift| match drift {
        Drift::MissingColumn(column) => Some(*column),
        _ => None,
    })
}

/// `ADD COLUMN` clauses for the missing columns, with our definitions
/// (PostgreSQL, MySQL: `event_id` with its `UNIQUE`).
fn add_columns(scope: Scope<'_>, drifts: &[&Drift]) -> Vec<String> {
    missing_columns(drifts)
        .map(|column| {
            format!(
                "ADD COLUMN {} {}",
                scope.quote(column.name),
                column.sql_type(scope.dialect)
            )
        })
        .collect()
}

fn postgres(scope: Scope<'_>, table: &str, drifts: &[&Drift]) -> Plan {
    let dialect = scope.dialect;
    let mut clauses = add_columns(scope, drifts);
    for drift in drifts {
        let Some(column) = drift.redefines() else {
            continue;
        };
        let name = scope.quote(column.name);
        clauses.push(match drift {
            Drift::Type { .. } | Drift::TimestampPrecision { .. } => {
                let ty = Definition::of(column, dialect).postgres_type();
                format!("ALTER COLUMN {name} TYPE {ty} USING {name}::{ty}")
            }
            Drift::CreatedAtDefault(_) => format!("ALTER COLUMN {name} DROP DEFAULT"),
            Drift::Nullable { .. } => format!("ALTER COLUMN {name} SET NOT NULL"),
            _ => format!("ALTER COLUMN {name} DROP NOT NULL"),
        });
    }
    Plan {
        statements: alter_table(scope, table, &clauses)
            .into_iter()
            .chain(create_indexes(scope, table, drifts))
            .chain(register(scope, table, drifts))
            .collect(),
        rebuild: false,
    }
}

fn mysql(scope: Scope<'_>, table: &str, drifts: &[&Drift]) -> Plan {
    let dialect = scope.dialect;
    let mut clauses = add_columns(scope, drifts);
    // One MODIFY per column, with our whole definition: it sets the type
    // and nullability and drops a default and an ON UPDATE clause alike.
    for column in redefined(drifts) {
        clauses.push(format!(
            "MODIFY COLUMN {} {}",
            scope.quote(column.name),
            Definition::of(column, dialect).without_keys()
        ));
    }
    for drift in drifts {
        match drift {
            Drift::EventIdNotUnique { name, .. } => clauses.push(format!(
                "ADD UNIQUE INDEX {} ({})",
                scope.quote(name),
                scope.quote(EVENT_ID)
            )),
            Drift::MissingIndex { index, name, .. } => clauses.push(format!(
                "ADD INDEX {} ({})",
                scope.quote(name),
                index_columns(dialect, index)
            )),
            _ => {}
        }
    }
    Plan {
        statements: alter_table(scope, table, &clauses)
            .into_iter()
            .chain(register(scope, table, drifts))
            .collect(),
        rebuild: false,
    }
}

/// Our columns that a drift redefines, each once, in table order.
fn redefined(drifts: &[&Drift]) -> Vec<&'static Column> {
    COLUMNS
        .iter()
        .filter(|column| {
            drifts
                .iter()
                .any(|drift| drift.redefines().is_some_and(|c| c.name == column.name))
        })
        .collect()
}

fn sqlite(scope: Scope<'_>, table: &str, info: &TableInfo, drifts: &[&Drift]) -> Plan {
    if !redefined(drifts).is_empty() {
        return rebuild(scope, table, info, drifts);
    }
    let dialect = scope.dialect;
    let mut statements = Vec::new();
    for column in missing_columns(drifts) {
        // SQLite's ALTER TABLE cannot add a UNIQUE column: the column,
        // then a unique index on it.
        let ours = Definition::of(column, dialect);
        statements.push(format!(
            "ALTER TABLE {} ADD COLUMN {} {}",
            scope.qualified(table),
            scope.quote(column.name),
            ours.without_keys()
        ));
        if ours.unique {
            statements.push(format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                scope.quote(&index_name(table, EVENT_ID_INDEX)),
                scope.qualified(table),
                scope.quote(column.name)
            ));
        }
    }
    statements.extend(create_indexes(scope, table, drifts));
    statements.extend(register(scope, table, drifts));
    Plan {
        statements,
        rebuild: false,
    }
}

/// SQLite's table rebuild: <https://www.sqlite.org/lang_altertable.html#otheralter>.
fn rebuild(scope: Scope<'_>, table: &str, info: &TableInfo, drifts: &[&Drift]) -> Plan {
    let dialect = scope.dialect;
    let temporary = temporary_name(table, &info.names_in_use);
    let extras: Vec<&crate::inspect::ColumnInfo> = info
        .columns
        .iter()
        .filter(|found| !COLUMNS.iter().any(|column| column.name == found.name))
        .collect();
    let definitions: Vec<String> = COLUMNS
        .iter()
        .map(|column| format!("{} {}", scope.quote(column.name), column.sql_type(dialect)))
        .chain(extras.iter().map(|extra| {
            let mut definition = scope.quote(&extra.name);
            for part in [
                Some(extra.sql_type.as_str()).filter(|t| !t.is_empty()),
                extra.not_null.then_some("NOT NULL"),
            ]
            .into_iter()
            .flatten()
            {
                definition.push(' ');
                definition.push_str(part);
            }
            if let Some(default) = &extra.default {
                definition.push_str(&format!(" DEFAULT {default}"));
            }
            definition
        }))
        .collect();
    // Every column the old table has is copied: ours it has, and its own.
    let copied: Vec<String> = info
        .columns
        .iter()
        .map(|found| scope.quote(&found.name))
        .collect();
    let copied = copied.join(", ");
    let mut statements = vec![
        format!(
            "CREATE TABLE {} (\n    {}\n)",
            scope.quote(&temporary),
            definitions.join(",\n    ")
        ),
        format!(
            "INSERT INTO {} ({copied}) SELECT {copied} FROM {}",
            scope.quote(&temporary),
            scope.qualified(table)
        ),
        format!("DROP TABLE {}", scope.qualified(table)),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            scope.quote(&temporary),
            scope.quote(table)
        ),
    ];
    // The old table's own indexes and triggers, then ours that it lacked.
    statements.extend(info.dependents.iter().cloned());
    statements.extend(drifts.iter().filter_map(|drift| match drift {
        Drift::MissingIndex { index, .. } => Some(create_index(dialect, None, table, index)),
        _ => None,
    }));
    statements.extend(register(scope, table, drifts));
    Plan {
        statements,
        rebuild: true,
    }
}

/// A name for the rebuilt table that nothing in the database has.
fn temporary_name(table: &str, names_in_use: &[String]) -> String {
    let base = format!("{table}__rebuild");
    std::iter::once(base.clone())
        .chain((2..).map(|n| format!("{base}{n}")))
        .find(|name| !names_in_use.contains(name))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::assess;
    use crate::inspect::{ColumnInfo, Found};

    fn place(schema: Option<&str>) -> Place {
        Place {
            schema: schema.map(str::to_owned),
            catalog_schema: schema.map(str::to_owned),
        }
    }

    /// `widget_log` as the original creates it: its 15 columns with the
    /// types the catalog reports, `created_at` as `created`.
    fn original(dialect: Dialect, created: &str) -> TableInfo {
        TableInfo {
            columns: COLUMNS[..15]
                .iter()
                .map(|column| {
                    let ours = Definition::of(column, dialect);
                    ColumnInfo {
                        name: column.name.to_owned(),
                        sql_type: if column.name == "created_at" {
                            created.to_owned()
                        } else {
                            catalog_type(dialect, &ours.type_name())
                        },
                        not_null: ours.not_null,
                        default: None,
                        on_update: None,
                    }
                })
                .collect(),
            ..TableInfo::default()
        }
    }

    /// How the catalog spells one of our types.
    fn catalog_type(dialect: Dialect, ours: &str) -> String {
        match (dialect, ours) {
            (Dialect::Sqlite, _) => ours.to_owned(),
            (Dialect::Postgres, "BIGSERIAL") => "bigint".to_owned(),
            (Dialect::Postgres, _) => ours.to_lowercase().replace("varchar", "character varying"),
            (Dialect::MySql, _) => ours.to_lowercase(),
        }
    }

    fn planned(dialect: Dialect, schema: Option<&str>, info: &TableInfo) -> Plan {
        let place = place(schema);
        let scope = Scope {
            dialect,
            place: &place,
            registry_exists: false,
        };
        let assessment = assess(dialect, "widget_log", &Found::Table(info.clone()), false);
        match plan(scope, "widget_log", &assessment, Some(info), false) {
            Planned::Repair(plan) => plan,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn postgres_adds_columns_and_indexes_in_the_schema_then_registers() {
        let mut info = original(Dialect::Postgres, "timestamp with time zone");
        info.columns[14].default = Some("CURRENT_TIMESTAMP".into());
        info.columns[14].not_null = false;
        let plan = planned(Dialect::Postgres, Some("audit"), &info);
        assert_eq!(
            plan.statements[0],
            "ALTER TABLE \"audit\".\"widget_log\"
    ADD COLUMN \"event_id\" VARCHAR(36) UNIQUE,
    ADD COLUMN \"correlation_id\" VARCHAR(64),
    ALTER COLUMN \"created_at\" DROP DEFAULT,
    ALTER COLUMN \"created_at\" SET NOT NULL"
        );
        assert_eq!(plan.statements.len(), 1 + 4 + 2);
        assert!(
            plan.statements[1]
                .ends_with("ON \"audit\".\"widget_log\" (\"object_pk\", \"created_at\", \"id\")")
        );
        assert!(
            plan.statements[6].starts_with("INSERT INTO \"audit\".\"awesome_audit_log_tables\"")
        );
    }

    #[test]
    fn mysql_makes_one_alter_table() {
        let mut info = original(Dialect::MySql, "timestamp");
        info.columns[14].default = Some("current_timestamp()".into());
        info.columns[14].on_update = Some("on update current_timestamp()".into());
        let plan = planned(Dialect::MySql, None, &info);
        assert_eq!(
            plan.statements[0],
            "ALTER TABLE `widget_log`
    ADD COLUMN `event_id` VARCHAR(36) UNIQUE,
    ADD COLUMN `correlation_id` VARCHAR(64),
    MODIFY COLUMN `created_at` DATETIME(6) NOT NULL,
    ADD INDEX `widget_log_object_idx` (`object_pk`(191), `created_at`, `id`),
    ADD INDEX `widget_log_created_idx` (`created_at`),
    ADD INDEX `widget_log_user_idx` (`user_id`, `created_at`),
    ADD INDEX `widget_log_correlation_idx` (`correlation_id`)"
        );
        assert_eq!(plan.statements.len(), 3);
    }

    #[test]
    fn sqlite_adds_columns_when_it_can() {
        let info = original(Dialect::Sqlite, "text");
        let plan = planned(Dialect::Sqlite, None, &info);
        assert!(!plan.rebuild);
        assert_eq!(
            plan.statements[..3],
            [
                "ALTER TABLE \"widget_log\" ADD COLUMN \"event_id\" TEXT",
                "CREATE UNIQUE INDEX IF NOT EXISTS \"widget_log_event_id_idx\" ON \"widget_log\" (\"event_id\")",
                "ALTER TABLE \"widget_log\" ADD COLUMN \"correlation_id\" TEXT",
            ]
        );
    }

    #[test]
    fn sqlite_rebuilds_to_drop_a_default_keeping_other_columns_indexes_and_triggers() {
        let mut info = original(Dialect::Sqlite, "TEXT");
        info.columns[14].default = Some("CURRENT_TIMESTAMP".into());
        info.columns.push(ColumnInfo {
            name: "tenant".into(),
            sql_type: "TEXT".into(),
            not_null: true,
            default: Some("'main'".into()),
            on_update: None,
        });
        info.dependents = vec!["CREATE INDEX mine ON widget_log (tenant)".into()];
        info.names_in_use = vec!["widget_log".into(), "widget_log__rebuild".into()];
        let plan = planned(Dialect::Sqlite, None, &info);
        assert!(plan.rebuild);
        let create = &plan.statements[0];
        assert!(create.starts_with("CREATE TABLE \"widget_log__rebuild2\" (\n    \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,"), "{create}");
        assert!(
            create.contains("\"created_at\" TEXT NOT NULL,\n"),
            "{create}"
        );
        assert!(create.contains("\"event_id\" TEXT UNIQUE,\n"), "{create}");
        assert!(
            create.ends_with("\"tenant\" TEXT NOT NULL DEFAULT 'main'\n)"),
            "{create}"
        );
        assert!(
            plan.statements[1]
                .starts_with("INSERT INTO \"widget_log__rebuild2\" (\"id\", \"action\"")
        );
        assert!(plan.statements[1].ends_with("\"tenant\") SELECT \"id\", \"action\", \"object_pk\", \"before\", \"after\", \"changes\", \"entry_point\", \"route\", \"path\", \"method\", \"ip\", \"user_id\", \"user_name\", \"user_agent\", \"created_at\", \"tenant\" FROM \"widget_log\""));
        assert_eq!(plan.statements[2], "DROP TABLE \"widget_log\"");
        assert_eq!(
            plan.statements[3],
            "ALTER TABLE \"widget_log__rebuild2\" RENAME TO \"widget_log\""
        );
        assert_eq!(
            plan.statements[4],
            "CREATE INDEX mine ON widget_log (tenant)"
        );
    }

    #[test]
    fn manual_drift_leaves_the_table_alone() {
        let mut info = original(Dialect::Postgres, "timestamp without time zone");
        info.columns[3].sql_type = "text".into();
        let place = place(None);
        let scope = Scope {
            dialect: Dialect::Postgres,
            place: &place,
            registry_exists: true,
        };
        let assessment = assess(
            Dialect::Postgres,
            "widget_log",
            &Found::Table(info.clone()),
            true,
        );
        let Planned::Blocked(reasons) = plan(scope, "widget_log", &assessment, Some(&info), true)
        else {
            panic!()
        };
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        let missing = assess(Dialect::Postgres, "widget_log", &Found::Missing, false);
        assert!(matches!(
            plan(scope, "widget_log", &missing, None, false),
            Planned::Blocked(_)
        ));
        let Planned::Repair(created) = plan(scope, "widget_log", &missing, None, true) else {
            panic!()
        };
        assert_eq!(
            created.statements,
            create_table_statements(Dialect::Postgres, None, "widget_log")
        );
    }
}
