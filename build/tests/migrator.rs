//! The exported log-table migrations run with sqlx's migrator after the
//! application's own dated migrations of the same directory.

use std::path::{Path, PathBuf};

use awesome_audit_log_build::{Dialect, Status, export_schema_from};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Row, SqlitePool};

const MODELS: &str = r#"
    #[audited(table = "widget")]
    pub struct Widget { id: i64, name: String }

    pub mod billing {
        #[audited(table = "invoice")]
        pub struct Invoice { id: i64, cents: i64 }
    }
"#;

#[tokio::test]
async fn log_tables_are_created_after_the_applications_migrations() {
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("lib.rs"), MODELS).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The application's own migrations, dated in the past.
    let migrations = app_migrations(
        dir.path(),
        &[
            (
                "20250101000000_create_widget.sql",
                "CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
            ),
            (
                "20250102000000_create_invoice.sql",
                "CREATE TABLE invoice (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL);",
            ),
        ],
    );

    let exported =
        export_schema_from(src.path(), "shop", Dialect::Sqlite, None, &migrations).unwrap();
    let tables: Vec<_> = exported.iter().map(|m| m.log_table.as_str()).collect();
    assert_eq!(tables, ["invoice_log", "widget_log"]);
    assert!(exported.iter().all(|m| m.status == Status::Created));
    assert_ne!(exported[0].version, exported[1].version);

    let pool = open(dir.path()).await;
    migrate(&migrations, &pool).await;

    let applied: Vec<(i64, String)> = sqlx::query(
        "SELECT version, description FROM _sqlx_migrations ORDER BY installed_on, version",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|row| (row.get("version"), row.get("description")))
    .collect();
    let descriptions: Vec<_> = applied.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(
        descriptions,
        [
            "create widget",
            "create invoice",
            "create invoice log",
            "create widget log"
        ],
        "{applied:?}"
    );
    let versions: Vec<_> = applied.iter().map(|(v, _)| *v).collect();
    assert!(versions.is_sorted(), "{applied:?}");
    assert!(versions[2] > 20250102000000, "{applied:?}");

    for table in ["widget_log", "invoice_log"] {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
        )
        .bind(table)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, 1, "{table}");
    }

    // Exported again (a later build): nothing changes, and the migrator has
    // nothing left to do, its checksums still hold.
    let again = export_schema_from(src.path(), "shop", Dialect::Sqlite, None, &migrations).unwrap();
    assert!(again.iter().all(|m| m.status == Status::Unchanged));
    assert_eq!(
        again.iter().map(|m| &m.path).collect::<Vec<_>>(),
        exported.iter().map(|m| &m.path).collect::<Vec<_>>()
    );
    migrate(&migrations, &pool).await;
    pool.close().await;
    assert_eq!(file_count(&migrations), 4);
}

fn file_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

/// `dir/migrations`, holding the application's own `files` (name, SQL).
fn app_migrations(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let migrations = dir.join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    for (name, sql) in files {
        std::fs::write(migrations.join(name), sql).unwrap();
    }
    migrations
}

/// `dir/migrations`, holding the application's migration that creates the
/// `gadget` table.
fn gadget_migrations(dir: &Path) -> PathBuf {
    app_migrations(
        dir,
        &[(
            "20250101000000_create_gadget.sql",
            "CREATE TABLE gadget (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
        )],
    )
}

/// The application's database, `dir/app.db`.
async fn open(dir: &Path) -> SqlitePool {
    SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(dir.join("app.db"))
            .create_if_missing(true),
    )
    .await
    .unwrap()
}

/// Runs sqlx's migrator on `migrations`.
async fn migrate(migrations: &Path, pool: &SqlitePool) {
    Migrator::new(migrations)
        .await
        .unwrap()
        .run(pool)
        .await
        .unwrap();
}

/// The scan reads `partition(...)` from the attribute: the PostgreSQL file
/// of a partitioned model creates the partitioned table without interval
/// partitions, and its MySQL and SQLite files are the usual table's.
#[test]
fn a_partitioned_model_is_partitioned_in_the_postgres_file_only() {
    use awesome_audit_log_codegen::migrations::{PARTITION_NOTE, file_content};

    let src = tempfile::tempdir().unwrap();
    std::fs::write(
        src.path().join("lib.rs"),
        r#"
            #[audited(table = "ledger", partition(by = "week"))]
            pub struct Ledger { id: i64, cents: i64 }

            #[audited(table = "widget")]
            pub struct Widget { id: i64, name: String }
        "#,
    )
    .unwrap();
    for dialect in Dialect::ALL {
        let out = tempfile::tempdir().unwrap();
        let exported = export_schema_from(src.path(), "shop", dialect, None, out.path()).unwrap();
        let read = |table: &str| {
            let file = exported.iter().find(|m| m.log_table == table).unwrap();
            std::fs::read_to_string(&file.path).unwrap()
        };
        let ledger = read("ledger_log");
        if dialect == Dialect::Postgres {
            assert!(ledger.contains(PARTITION_NOTE), "{ledger}");
            assert!(
                ledger.contains(") PARTITION BY RANGE (\"created_at\");\n"),
                "{ledger}"
            );
            assert!(
                ledger.contains("\"ledger_log_default\" PARTITION OF \"ledger_log\" DEFAULT;\n"),
                "{ledger}"
            );
            assert!(!ledger.contains("FOR VALUES"), "{ledger}");
        } else {
            assert_eq!(ledger, file_content(dialect, None, "ledger_log"));
        }
        assert_eq!(
            read("widget_log"),
            file_content(dialect, None, "widget_log")
        );
    }
}

/// A model with triggers: its triggers file holds the install statements
/// the macro's model code generates, runs after the log table's file, and
/// its triggers log a plain SQL write once the migrator applied it. When
/// the model changes (a field added, with the application's migration that
/// adds its column), the next export writes a new triggers file beside the
/// applied one, and the migrator's run of it replaces the triggers.
#[tokio::test]
async fn triggers_files_are_applied_and_replaced_by_new_ones() {
    use awesome_audit_log_build::MigrationKind;
    use awesome_audit_log_codegen::migrations::version_at;
    use awesome_audit_log_codegen::scan::models_in_dir;
    use awesome_audit_log_codegen::trigger::{TriggerOptions, install_statements};

    let src = tempfile::tempdir().unwrap();
    let model = |fields: &str| {
        format!(
            "#[audited(table = \"gadget\", triggers)] pub struct Gadget {{ id: i64, name: String, {fields} }}"
        )
    };
    std::fs::write(src.path().join("lib.rs"), model("")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let migrations = gadget_migrations(dir.path());
    let export = || export_schema_from(src.path(), "shop", Dialect::Sqlite, None, &migrations);
    // The statements the macro's model code generates for the model as
    // the sources now declare it.
    let expected = || {
        let models = models_in_dir(src.path(), "shop").unwrap();
        let fields = models[0].trigger_fields();
        let statements = install_statements(
            Dialect::Sqlite,
            &models[0].trigger_model(&fields),
            &TriggerOptions::new(),
        );
        format!("\n{};\n", statements.join(";\n"))
    };

    let first = export().unwrap();
    assert_eq!(first.len(), 2);
    let (table, triggers) = (&first[0], &first[1]);
    assert_eq!(table.kind, MigrationKind::LogTable);
    assert_eq!(
        triggers.kind,
        MigrationKind::Triggers {
            table: "gadget".to_owned()
        }
    );
    assert_eq!(triggers.status, Status::Created);
    assert!(triggers.version > table.version);
    let content = std::fs::read_to_string(&triggers.path).unwrap();
    assert!(content.ends_with(&expected()), "{content}");

    let pool = open(dir.path()).await;
    migrate(&migrations, &pool).await;
    sqlx::query("INSERT INTO gadget (id, name) VALUES (1, 'a')")
        .execute(&pool)
        .await
        .unwrap();
    let after: String = sqlx::query_scalar("SELECT after FROM gadget_log WHERE action = 'insert'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(after, r#"{"id":1,"name":"a"}"#);

    // A later build: nothing changes.
    let again = export().unwrap();
    assert!(again.iter().all(|m| m.status == Status::Unchanged));
    assert_eq!(again[1].path, triggers.path);

    // The model gains a field, and the application a migration for its
    // column, dated now (once the clock is past the exported files, as it
    // is when a migration is written later): the new triggers file comes
    // after it.
    std::fs::write(src.path().join("lib.rs"), model("qty: i32")).unwrap();
    let add_qty = loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let version = version_at(now).unwrap();
        if version > triggers.version {
            break version;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    std::fs::write(
        migrations.join(format!("{add_qty}_add_qty.sql")),
        "ALTER TABLE gadget ADD COLUMN qty INTEGER NOT NULL DEFAULT 0;",
    )
    .unwrap();
    let changed = export().unwrap();
    assert_eq!(changed[0].status, Status::Unchanged);
    let replacing = &changed[1];
    assert_eq!(replacing.status, Status::Superseded);
    assert!(replacing.version > add_qty);
    assert!(
        std::fs::read_to_string(&replacing.path)
            .unwrap()
            .ends_with(&expected())
    );
    assert_eq!(std::fs::read_to_string(&triggers.path).unwrap(), content);
    migrate(&migrations, &pool).await;
    sqlx::query("UPDATE gadget SET qty = 3 WHERE id = 1")
        .execute(&pool)
        .await
        .unwrap();
    let changes: String =
        sqlx::query_scalar("SELECT changes FROM gadget_log WHERE action = 'update'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(changes, r#"{"qty":{"from":0,"to":3}}"#);
    pool.close().await;
    assert_eq!(file_count(&migrations), 5);
}

/// A model that no longer declares `triggers`: the next export writes a
/// file that removes them, which the migrator runs (a plain write is no
/// longer logged; the log table and its rows stay); declared again, a new
/// triggers file after it installs them again.
#[tokio::test]
async fn triggers_are_removed_by_a_file_when_the_model_drops_them() {
    use awesome_audit_log_build::MigrationKind;

    let src = tempfile::tempdir().unwrap();
    let declare = |triggers: bool| {
        let attr = if triggers { ", triggers" } else { "" };
        std::fs::write(
            src.path().join("lib.rs"),
            format!(
                "#[audited(table = \"gadget\"{attr})] pub struct Gadget {{ id: i64, name: String }}"
            ),
        )
        .unwrap();
    };
    declare(true);
    let dir = tempfile::tempdir().unwrap();
    let migrations = gadget_migrations(dir.path());
    let export = || export_schema_from(src.path(), "shop", Dialect::Sqlite, None, &migrations);
    let pool = open(dir.path()).await;
    let insert = |id: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query("INSERT INTO gadget (id, name) VALUES (?, 'a')")
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM gadget_log")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    let first = export().unwrap();
    let installed = first[1].clone();
    migrate(&migrations, &pool).await;
    assert_eq!(insert(1).await, 1);

    declare(false);
    let dropped = export().unwrap();
    assert_eq!(dropped.len(), 2, "{dropped:?}");
    let drop = &dropped[1];
    assert_eq!(
        drop.kind,
        MigrationKind::DropTriggers {
            table: "gadget".to_owned()
        }
    );
    assert_eq!(drop.status, Status::Created);
    assert!(drop.version > installed.version);
    assert!(
        drop.file_name()
            .ends_with("_drop_audit_triggers_gadget.sql")
    );
    migrate(&migrations, &pool).await;
    assert_eq!(insert(2).await, 1, "the triggers are gone");
    let again = export().unwrap();
    assert!(
        again.iter().all(|m| m.status == Status::Unchanged),
        "{again:?}"
    );
    assert_eq!(again[1].path, drop.path);

    declare(true);
    let back = export().unwrap();
    assert_eq!(back[1].kind, installed.kind);
    assert_eq!(back[1].status, Status::Created);
    assert!(back[1].version > drop.version);
    migrate(&migrations, &pool).await;
    assert_eq!(insert(3).await, 2, "the triggers are back");
    pool.close().await;
    assert_eq!(file_count(&migrations), 5);
}
