//! The behavioural suite on SQLite.
awesome_audit_log_tests::suite!(sqlite);

/// A read that meets a lock (an in-memory database's schema, locked by a
/// transaction creating a log table) is tried again once the lock is gone,
/// rather than failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_wait_out_a_locked_schema() {
    use awesome_audit_log::{AuditConfig, Auditor};
    use awesome_audit_log_tests::models::{Widget, WidgetLog};

    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(2)
        .connect("sqlite::memory:")
        .await
        .expect("in-memory database");
    let auditor = Auditor::builder(AuditConfig::default())
        .database("default", pool.clone())
        .build()
        .expect("auditor");
    let mut tx = pool.begin().await.expect("begin");
    sqlx::raw_sql(WidgetLog::DDL_SQLITE)
        .execute(&mut *tx)
        .await
        .expect("create the log table");
    let read = tokio::spawn(async move { Widget::history(&auditor, &1).all().await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    tx.commit().await.expect("commit");
    let rows = read
        .await
        .expect("the read task")
        .expect("the read waits out the lock");
    assert!(rows.is_empty());
}
