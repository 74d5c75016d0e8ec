//! The exported log-table migrations run with sqlx's migrator after the
//! application's own dated migrations of the same directory.

use std::path::Path;

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
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    // The application's own migrations, dated in the past.
    std::fs::write(
        migrations.join("20250101000000_create_widget.sql"),
        "CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT NOT NULL);",
    )
    .unwrap();
    std::fs::write(
        migrations.join("20250102000000_create_invoice.sql"),
        "CREATE TABLE invoice (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL);",
    )
    .unwrap();

    let exported =
        export_schema_from(src.path(), "shop", Dialect::Sqlite, None, &migrations).unwrap();
    let tables: Vec<_> = exported.iter().map(|m| m.log_table.as_str()).collect();
    assert_eq!(tables, ["invoice_log", "widget_log"]);
    assert!(exported.iter().all(|m| m.status == Status::Created));
    assert_ne!(exported[0].version, exported[1].version);

    let pool = SqlitePool::connect_with(
        SqliteConnectOptions::new()
            .filename(dir.path().join("app.db"))
            .create_if_missing(true),
    )
    .await
    .unwrap();
    Migrator::new(migrations.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();

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
    Migrator::new(migrations.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert_eq!(file_count(&migrations), 4);
}

fn file_count(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
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
