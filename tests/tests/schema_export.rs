//! The build-script helper (which reads sources) and the registry export
//! (which reads the compiled models) write identical files; a partitioned
//! model's PostgreSQL file, applied to a real database, gives a
//! partitioned table that the runtime writes into and partition
//! maintenance completes; the triggers files, applied by sqlx's migrator
//! on each database, log plain SQL writes, and other triggers are
//! replaced by a new file.

use std::collections::BTreeSet;
use std::path::Path;

use awesome_audit_log::partition::Maintain;
use awesome_audit_log::schema::{Migration, MigrationKind, Status};
use awesome_audit_log::{AuditConfig, Audited, Dialect, LogOutcome, build, registry, schema};
use awesome_audit_log_codegen::migrations::{self, LogTable, ModelTable, PARTITION_NOTE};
use awesome_audit_log_codegen::trigger::{TriggerOptions, install_statements};
use awesome_audit_log_tests::harness::TestPool;
use awesome_audit_log_tests::models::{
    Account, Badge, Gadget, GadgetLog, Gizmo, Ledger, LedgerLog, Widget, WidgetLog,
};
use awesome_audit_log_tests::suite::{
    create_badge_table, create_gadget_table, gadget, insert_gadget_sql, write_gadget,
};
use awesome_audit_log_tests::{Kind, TestDb};
use serde_json::json;
use sqlx::AssertSqlSafe;
use sqlx::migrate::Migrator;

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn build_helper_and_registry_write_identical_files() {
    // Link the models of this crate's library, whose sources the helper reads.
    let _ = (
        Widget::log_change,
        Gizmo::log_change,
        Account::log_change,
        Gadget::log_change,
        Badge::log_change,
        Ledger::log_change,
    );
    let labels: Vec<_> = registry::models().iter().map(|m| m.label()).collect();
    assert_eq!(
        labels,
        [
            "bank.account",
            "shop.badge",
            "shop.gadget",
            "shop.gizmo",
            "bank.ledger",
            "shop.widget"
        ]
    );

    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (dialect, pg_schema) in [
        (Dialect::Postgres, None),
        (Dialect::Postgres, Some("audit")),
        (Dialect::MySql, None),
        (Dialect::Sqlite, None),
    ] {
        let from_registry = tempfile::tempdir().unwrap();
        let from_sources = tempfile::tempdir().unwrap();
        let exported = schema::export(dialect, pg_schema, from_registry.path()).unwrap();
        let scanned = build::export_schema_from(
            &src,
            "awesome_audit_log_tests",
            dialect,
            pg_schema,
            from_sources.path(),
        )
        .unwrap();
        assert!(scanned.iter().all(|m| m.status == Status::Created));

        // The same tables with the same content; the versions are the
        // times of the two exports, which may be a second apart.
        let registry_files = files(from_registry.path());
        assert_eq!(
            without_versions(&registry_files),
            without_versions(&files(from_sources.path())),
            "{dialect:?} {pg_schema:?}"
        );
        // Six log tables, and the triggers of the two models with triggers.
        assert_eq!(registry_files.len(), 8);
        let versions: BTreeSet<_> = registry_files
            .iter()
            .map(|(name, _)| name.split_once('_').unwrap().0.to_owned())
            .collect();
        assert_eq!(versions.len(), 8, "unique versions: {registry_files:?}");
        assert!(versions.iter().all(|v| v.len() == 14), "{versions:?}");

        // Into the registry's directory, the helper finds every file it
        // would write, with the same name and content, and leaves them.
        let again = build::export_schema_from(
            &src,
            "awesome_audit_log_tests",
            dialect,
            pg_schema,
            from_registry.path(),
        )
        .unwrap();
        assert!(again.iter().all(|m| m.status == Status::Unchanged));
        assert_eq!(
            again.into_iter().map(|m| m.path).collect::<Vec<_>>(),
            exported
        );
        assert_eq!(files(from_registry.path()), registry_files);

        let (_, widget) = registry_files
            .iter()
            .find(|(name, _)| name.ends_with("_create_widget_log.sql"))
            .expect("widget_log file");
        let expected = match (dialect, pg_schema) {
            (Dialect::Postgres, Some(_)) => WidgetLog::DDL_POSTGRES
                .replace("\"widget_log\"", "\"audit\".\"widget_log\"")
                .replace(
                    "\"awesome_audit_log_tables\"",
                    "\"audit\".\"awesome_audit_log_tables\"",
                ),
            (Dialect::Postgres, None) => WidgetLog::DDL_POSTGRES.to_owned(),
            (Dialect::MySql, _) => WidgetLog::DDL_MYSQL.to_owned(),
            (Dialect::Sqlite, _) => WidgetLog::DDL_SQLITE.to_owned(),
        };
        assert!(widget.contains(&format!("{expected};\n")), "{widget}");
        assert!(!widget.contains("PARTITION"), "{widget}");

        // The partitioned model's file: the macro's DDL, partitioned on
        // PostgreSQL with the note about maintenance, the usual table elsewhere.
        let (_, ledger) = registry_files
            .iter()
            .find(|(name, _)| name.ends_with("_create_ledger_log.sql"))
            .expect("ledger_log file");
        let expected = match (dialect, pg_schema) {
            (Dialect::Postgres, Some(_)) => LedgerLog::DDL_POSTGRES
                .replace("\"ledger_log\"", "\"audit\".\"ledger_log\"")
                .replace("\"ledger_log_default\"", "\"audit\".\"ledger_log_default\"")
                .replace(
                    "\"awesome_audit_log_tables\"",
                    "\"audit\".\"awesome_audit_log_tables\"",
                ),
            (Dialect::Postgres, None) => LedgerLog::DDL_POSTGRES.to_owned(),
            (Dialect::MySql, _) => LedgerLog::DDL_MYSQL.to_owned(),
            (Dialect::Sqlite, _) => LedgerLog::DDL_SQLITE.to_owned(),
        };
        assert!(ledger.ends_with(&format!("{expected};\n")), "{ledger}");
        let partitioned = dialect == Dialect::Postgres;
        assert_eq!(ledger.contains(PARTITION_NOTE), partitioned, "{ledger}");
        assert_eq!(
            ledger.contains("PARTITION BY RANGE (\"created_at\")"),
            partitioned
        );
        assert!(!ledger.contains("FOR VALUES"), "{ledger}");

        // The triggers file: the model's install statements, in the schema.
        let (name, triggers) = registry_files
            .iter()
            .find(|(name, _)| name.ends_with("_audit_triggers_gadget.sql"))
            .expect("gadget triggers file");
        let (gadget_log, _) = registry_files
            .iter()
            .find(|(name, _)| name.ends_with("_create_gadget_log.sql"))
            .expect("gadget_log file");
        assert!(name > gadget_log, "{name} runs after {gadget_log}");
        let options = TriggerOptions {
            schema: pg_schema.filter(|_| dialect == Dialect::Postgres),
            ..TriggerOptions::new()
        };
        let statements = install_statements(dialect, gadget_triggers(), &options);
        assert!(
            triggers.ends_with(&format!("\n{};\n", statements.join(";\n"))),
            "{triggers}"
        );
        if pg_schema.is_none() {
            assert_eq!(statements, Gadget::trigger_ddl(dialect));
        }
    }
}

/// What the triggers of [`Gadget`] are generated from.
fn gadget_triggers() -> &'static awesome_audit_log::triggers::TriggerModel<'static> {
    Gadget::MODEL.triggers().expect("Gadget has triggers")
}

/// The exported triggers file, applied by sqlx's migrator after the
/// application's migration that creates the model's table, logs a plain
/// SQL write. When the applied file holds other triggers (here those of a
/// configuration that logs unchanged updates, as an older version might
/// have written), the next export writes a new file and leaves the applied
/// one; the migrator applies it and its triggers replace the others. A
/// third export changes nothing and the migrator has nothing left to do.
/// Once the model drops `triggers`, the file the export writes removes
/// them.
async fn exported_triggers_are_applied_by_the_migrator(kind: Kind) {
    let Some(db) = TestDb::new(kind).await else {
        return;
    };
    let dialect = kind.dialect();
    let dir = tempfile::tempdir().unwrap();
    // The tables of the models with triggers (`Badge` has them too).
    std::fs::write(
        dir.path().join("20250101000000_create_gadget.sql"),
        format!(
            "{};\n{};\n",
            create_gadget_table(kind),
            create_badge_table(kind)
        ),
    )
    .unwrap();
    let first = schema::export_migrations(dialect, None, dir.path()).unwrap();
    assert!(
        first.iter().all(|m| m.status == Status::Created),
        "{first:?}"
    );
    let triggers = triggers_file(&first);
    assert_eq!(triggers.log_table, "gadget_log");

    // Before anything is applied, the file is made to hold the triggers of
    // another configuration: those that log unchanged updates.
    let older = install_statements(
        dialect,
        gadget_triggers(),
        &TriggerOptions {
            log_unchanged_updates: true,
            ..TriggerOptions::new()
        },
    );
    std::fs::write(&triggers.path, format!("{};\n", older.join(";\n"))).unwrap();
    migrate(&db, dir.path()).await;

    // Plain SQL, no `log_change`: logged, and so is an unchanged update.
    write_gadget(&db, &insert_gadget_sql(kind), &gadget(1), true).await;
    db.exec("UPDATE gadget SET qty_col = qty_col WHERE id = 1")
        .await;
    assert_eq!(db.count("gadget_log").await, 2);

    // Exported again: the log tables' files are kept, and a new file
    // replaces the triggers the applied one installs.
    let second = schema::export_migrations(dialect, None, dir.path()).unwrap();
    let replacing = triggers_file(&second);
    assert_eq!(replacing.status, Status::Superseded);
    assert!(replacing.version > triggers.version);
    assert_ne!(replacing.path, triggers.path);
    assert!(
        second
            .iter()
            .filter(|m| m.kind == MigrationKind::LogTable)
            .all(|m| m.status == Status::Unchanged),
        "{second:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&triggers.path).unwrap(),
        format!("{};\n", older.join(";\n"))
    );
    migrate(&db, dir.path()).await;

    // This version's triggers: an unchanged update is not logged, a change is.
    db.exec("UPDATE gadget SET qty_col = qty_col WHERE id = 1")
        .await;
    assert_eq!(db.count("gadget_log").await, 2);
    db.exec("UPDATE gadget SET qty_col = 5 WHERE id = 1").await;
    let auditor = db.auditor(AuditConfig::default());
    let rows = GadgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[0].action.to_string(), "insert");
    assert_eq!(rows[0].after.as_ref().unwrap()["qty"], 2);
    assert_eq!(rows[2].changes, Some(json!({"qty": {"from": 2, "to": 5}})));

    // A third export: nothing new, and nothing left for the migrator (the
    // checksums of the applied files hold).
    let third = schema::export_migrations(dialect, None, dir.path()).unwrap();
    assert!(
        third.iter().all(|m| m.status == Status::Unchanged),
        "{third:?}"
    );
    assert_eq!(triggers_file(&third).path, replacing.path);
    migrate(&db, dir.path()).await;
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 10);

    // The model drops `triggers` (its log table exported, its triggers not):
    // a file removes them, which the migrator runs. A plain write is no
    // longer logged; the rows stay.
    let dropped = migrations::write_schema(
        dialect,
        None,
        [LogTable::from("gadget_log")],
        [],
        [ModelTable {
            table: "gadget",
            log_table: "gadget_log",
        }],
        dir.path(),
    )
    .unwrap();
    let drop = dropped
        .iter()
        .find(|m| {
            m.kind
                == MigrationKind::DropTriggers {
                    table: "gadget".to_owned(),
                }
        })
        .expect("the file that removes the gadget triggers");
    assert_eq!(drop.status, Status::Created);
    assert!(drop.version > replacing.version);
    migrate(&db, dir.path()).await;
    db.exec("UPDATE gadget SET qty_col = 6 WHERE id = 1").await;
    assert_eq!(GadgetLog::for_object(&auditor, &1).await.unwrap().len(), 3);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 11);
}

fn triggers_file(migrations: &[Migration]) -> &Migration {
    let gadget = MigrationKind::Triggers {
        table: "gadget".to_owned(),
    };
    migrations
        .iter()
        .find(|m| m.kind == gadget)
        .expect("the gadget triggers file")
}

/// Runs sqlx's migrator on `dir` against the test's database.
async fn migrate(db: &TestDb, dir: &Path) {
    let migrator = Migrator::new(dir).await.expect("read the migrations");
    let run = match &db.pool {
        TestPool::Sqlite(pool) => migrator.run(pool).await,
        TestPool::Postgres(pool) => migrator.run(pool).await,
        TestPool::MySql(pool) => migrator.run(pool).await,
    };
    run.expect("apply the migrations");
}

#[tokio::test]
async fn exported_triggers_are_applied_on_sqlite() {
    exported_triggers_are_applied_by_the_migrator(Kind::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(
    aal_no_postgres,
    ignore = "set AUDIT_TEST_POSTGRES_URL to run the PostgreSQL tests"
)]
async fn exported_triggers_are_applied_on_postgres() {
    exported_triggers_are_applied_by_the_migrator(Kind::Postgres).await;
}

#[tokio::test]
#[cfg_attr(
    aal_no_mysql,
    ignore = "set AUDIT_TEST_MYSQL_URL to run the MySQL / MariaDB tests"
)]
async fn exported_triggers_are_applied_on_mysql() {
    exported_triggers_are_applied_by_the_migrator(Kind::MySql).await;
}

/// The exported file of the partitioned model, applied to PostgreSQL: a
/// partitioned table with its DEFAULT partition only. The runtime writes
/// into it at once (the rows wait in the DEFAULT partition), and partition
/// maintenance then creates the partitions and moves those rows into
/// theirs, none lost or doubled.
#[tokio::test]
async fn an_exported_partitioned_table_is_completed_by_maintenance() {
    let Some(db) = TestDb::new(Kind::Postgres).await else {
        return;
    };
    let TestPool::Postgres(pool) = &db.pool else {
        unreachable!("a PostgreSQL database")
    };
    let _ = Ledger::log_change;
    let dir = tempfile::tempdir().unwrap();
    let files = schema::export(Dialect::Postgres, None, dir.path()).unwrap();
    let file = files
        .iter()
        .find(|f| f.to_string_lossy().ends_with("_create_ledger_log.sql"))
        .expect("ledger_log file");
    let sql = std::fs::read_to_string(file).unwrap();
    // Run as a migration tool runs it: the whole file in one transaction.
    sqlx::raw_sql(AssertSqlSafe(format!("BEGIN;\n{sql}COMMIT;")))
        .execute(pool)
        .await
        .unwrap();
    const PARTITIONS: &str = "SELECT c.relname::text FROM pg_inherits i \
        JOIN pg_class c ON c.oid = i.inhrelid \
        WHERE i.inhparent = 'ledger_log'::regclass ORDER BY 1";
    assert_eq!(
        db.texts("SELECT relkind::text FROM pg_class WHERE relname = 'ledger_log'")
            .await,
        [Some("p".to_owned())]
    );
    assert_eq!(
        db.texts(PARTITIONS).await,
        [Some("ledger_log_default".to_owned())]
    );

    // Logged before any maintenance: into the DEFAULT partition.
    let auditor = db.auditor(AuditConfig::default());
    for amount in 1..=3 {
        let before = Ledger {
            id: 1,
            amount: amount - 1,
        };
        let after = Ledger { id: 1, amount };
        let outcome = Ledger::log_change(&auditor, Some(&before), Some(&after))
            .await
            .unwrap();
        assert_eq!(outcome, LogOutcome::Written);
    }
    let ids = db.ids("SELECT id FROM ledger_log ORDER BY id").await;
    assert_eq!(ids.len(), 3);
    assert_eq!(db.count("ledger_log_default").await, 3);

    let report = Maintain::model::<Ledger>(&auditor)
        .ahead(1)
        .run()
        .await
        .unwrap();
    assert_eq!(report.created.len(), 2, "{report:?}");
    assert_eq!(report.created[0].rows, 3, "{report:?}");
    let today = format!("ledger_log_p{}", chrono::Utc::now().format("%Y%m%d"));
    let found = db.texts(PARTITIONS).await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.contains(&Some(today.clone())), "{found:?}");

    // The same rows, ids and all, now in today's partition.
    assert_eq!(db.count("ledger_log_default").await, 0);
    assert_eq!(db.count(&today).await, 3);
    assert_eq!(db.ids("SELECT id FROM ledger_log ORDER BY id").await, ids);
    let history = LedgerLog::for_object(&auditor, &1).await.unwrap();
    let amounts: Vec<_> = history
        .iter()
        .map(|row| row.changes.as_ref().unwrap()["amount"]["to"].clone())
        .collect();
    assert_eq!(amounts, [1, 2, 3]);
}

/// The files with their names' versions cut off.
fn without_versions(files: &[(String, String)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(name, content)| {
            let (_, rest) = name.split_once('_').expect("a versioned name");
            (rest.to_owned(), content.clone())
        })
        .collect()
}

#[test]
fn an_invalid_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = schema::export(Dialect::Postgres, Some("a-b"), dir.path()).unwrap_err();
    assert!(err.to_string().contains("PG_SCHEMA"), "{err}");
}
