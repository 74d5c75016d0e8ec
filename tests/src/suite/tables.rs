//! The log tables: created on first use (also when many tasks race to
//! create one), in PG_SCHEMA's schema, and tables the original created.

use awesome_audit_log::{AuditConfig, Error, LogOutcome};
use serde_json::json;

use super::fixtures::{first_use_inline_and_in_a_transaction, original_widget_log, widget};
use crate::models::{Gizmo, Widget, WidgetLog};
use crate::{Kind, TestDb};

/// The log table does not exist before the first row and does after.
pub async fn log_table_created_on_first_use(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    assert!(!db.table_exists(None, "widget_log").await);
    let outcome = Widget::log_change(&auditor, None, Some(&widget(1, 2)))
        .await
        .unwrap();
    assert_eq!(outcome, LogOutcome::Written);
    assert!(db.table_exists(None, "widget_log").await);
    assert_eq!(db.count("widget_log").await, 1);
    let _ = Widget::log_change(&auditor, None, Some(&widget(2, 2)))
        .await
        .unwrap();
    assert_eq!(db.count("widget_log").await, 2);
    assert_eq!(auditor.stats().written, 2);
    // Registered as a managed log table, once, for the operations tools.
    let _ = Gizmo::log_change(&auditor, None, Some(&Gizmo { id: 1, qty: 1 }))
        .await
        .unwrap();
    let mut managed: Vec<Option<String>> = db
        .texts("SELECT log_table FROM awesome_audit_log_tables")
        .await;
    managed.sort();
    assert_eq!(
        managed,
        [Some("gizmo_log".to_owned()), Some("widget_log".to_owned())]
    );
}

/// 16 tasks logging the first rows of a new model at once: all succeed,
/// no row lost, even when they race to create the table.
pub async fn concurrent_first_use_loses_nothing(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    // Several rounds, each racing on a table that does not exist yet: the
    // losing creators see different errors on PostgreSQL (23505, 42P07, 42710).
    for round in 0..5 {
        if round > 0 {
            db.exec("DROP TABLE widget_log").await;
        }
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let auditor = auditor.clone();
                tokio::spawn(async move {
                    for j in 0..5 {
                        let _ = Widget::log_change(&auditor, None, Some(&widget(i * 100 + j, 1)))
                            .await?;
                    }
                    Ok::<_, Error>(())
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(db.count("widget_log").await, 80, "round {round}");
    }
}

/// PG_SCHEMA puts the log tables into that schema, created when missing;
/// other databases have no schemas and ignore it.
pub async fn pg_schema_holds_the_log_tables(db: TestDb) {
    let mut config = AuditConfig::default();
    config.pg_schema = Some("audit_logs".to_owned());
    let auditor = db.auditor(config);
    first_use_inline_and_in_a_transaction(&db, &auditor).await;
    assert_eq!(WidgetLog::for_object(&auditor, &1).await.unwrap().len(), 1);
    match db.kind {
        Kind::Postgres => {
            assert!(db.table_exists(Some("audit_logs"), "widget_log").await);
            assert!(db.table_exists(Some("audit_logs"), "gizmo_log").await);
            assert!(!db.table_exists(Some("public"), "widget_log").await);
            assert_eq!(db.count("audit_logs.gizmo_log").await, 1);
            // The table of managed tables sits beside them.
            assert!(
                db.table_exists(Some("audit_logs"), "awesome_audit_log_tables")
                    .await
            );
            assert!(
                !db.table_exists(Some("public"), "awesome_audit_log_tables")
                    .await
            );
            assert_eq!(db.count("audit_logs.awesome_audit_log_tables").await, 2);
        }
        Kind::Sqlite | Kind::MySql => {
            assert!(db.table_exists(None, "widget_log").await);
            assert_eq!(db.count("gizmo_log").await, 1);
        }
    }
}

/// A log table created by the original (its 15 columns; MySQL:
/// `TIMESTAMP` created_at) keeps receiving rows, in strict mode.
pub async fn writes_into_tables_the_original_created(db: TestDb) {
    let ddl = original_widget_log(db.kind);
    db.exec(&ddl).await;
    if let crate::harness::TestPool::MySql(pool) = &db.pool {
        let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(
            mode.contains("STRICT_TRANS_TABLES"),
            "the server runs in strict mode: {mode}"
        );
    }
    let auditor = db.auditor(AuditConfig::default());
    let start = chrono::Utc::now();
    let _ = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    let row = &WidgetLog::for_object(&auditor, &1).await.unwrap()[0];
    // TIMESTAMP keeps whole seconds only.
    assert!(
        row.created_at.timestamp() >= start.timestamp() && row.created_at <= chrono::Utc::now()
    );
    assert_eq!(row.after, Some(json!({"id": 1, "name": "B", "qty": 1})));
}
