//! Changes made in a transaction, with the log in the transaction's database
//! or in another one.

use awesome_audit_log::{AuditConfig, Error, LogOutcome};

use super::fixtures::{CREATE_WIDGET, insert_widget_sql, widget, with_audit_database};
use crate::models::{Gizmo, Widget, WidgetLog};
use crate::{Kind, TestDb};

/// Same database: the log row is written inside the caller's transaction:
/// commit keeps change and row, rollback (or drop) removes both, and the
/// table's first-use creation does not spoil the transaction.
pub async fn transaction_on_the_audit_database(db: TestDb) {
    db.exec(CREATE_WIDGET).await;
    let auditor = db.auditor(AuditConfig::default());
    for_backend!(db, |DB| {
        // First use inside a transaction, then roll back: nothing remains.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        assert!(tx.logs_inside());
        let w1 = widget(1, 1);
        sqlx::raw_sql(insert_widget_sql(&w1))
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(
            Widget::log_change_in(&mut tx, None, Some(&w1))
                .await
                .unwrap(),
            LogOutcome::Written
        );
        // The transaction is still usable after the table was created in it.
        sqlx::raw_sql(insert_widget_sql(&widget(2, 1)))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(db.count("widget").await, 0);
        if db.table_exists(None, "widget_log").await {
            assert_eq!(db.count("widget_log").await, 0);
        }

        // Commit keeps both.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        sqlx::raw_sql(insert_widget_sql(&w1))
            .execute(&mut *tx)
            .await
            .unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&w1))
            .await
            .unwrap();
        let w1b = widget(1, 2);
        let batch = Widget::log_changes_in(&mut tx, [(Some(&w1), Some(&w1b))])
            .await
            .unwrap();
        assert_eq!(batch.written, 1);
        tx.commit().await.unwrap();
        assert_eq!(db.count("widget").await, 1);
        assert_eq!(db.count("widget_log").await, 2);

        // Dropping an open transaction rolls back change and row alike.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let w3 = widget(3, 1);
        sqlx::raw_sql(insert_widget_sql(&w3))
            .execute(&mut *tx)
            .await
            .unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&w3))
            .await
            .unwrap();
        drop(tx);
        assert_eq!(db.count("widget").await, 1);
        assert_eq!(db.count("widget_log").await, 2);
        assert!(
            WidgetLog::for_object(&auditor, &3)
                .await
                .unwrap()
                .is_empty()
        );

        // A transaction the application began itself can be wrapped.
        let own = auditor.begin::<DB>("default").await.unwrap().into_inner();
        let mut tx = auditor.transaction("default", own).unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&w3))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(WidgetLog::for_object(&auditor, &3).await.unwrap().len(), 1);
    });
}

/// Another audit database: rows wait for the commit, and a rollback leaves none.
pub async fn transaction_with_another_audit_database(db: TestDb) {
    let Some((audit_db, auditor)) = with_audit_database(&db, AuditConfig::default()).await else {
        return;
    };
    db.exec(CREATE_WIDGET).await;
    for_backend!(db, |DB| {
        let w = widget(1, 1);
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        assert!(!tx.logs_inside());
        sqlx::raw_sql(insert_widget_sql(&w))
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(
            Widget::log_change_in(&mut tx, None, Some(&w))
                .await
                .unwrap(),
            LogOutcome::Deferred
        );
        let gizmo = Gizmo { id: 1, qty: 1 };
        let _ = Gizmo::log_change_in(&mut tx, None, Some(&gizmo))
            .await
            .unwrap();
        assert!(
            !audit_db.table_exists(None, "widget_log").await,
            "nothing before the commit"
        );
        tx.commit().await.unwrap();
        assert_eq!(audit_db.count("widget_log").await, 1);
        assert_eq!(audit_db.count("gizmo_log").await, 1);
        assert!(!db.table_exists(None, "widget_log").await);

        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let w2 = widget(2, 1);
        sqlx::raw_sql(insert_widget_sql(&w2))
            .execute(&mut *tx)
            .await
            .unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&w2))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            audit_db.count("widget_log").await,
            1,
            "a rolled-back change is never logged"
        );
        assert!(
            WidgetLog::for_object(&auditor, &2)
                .await
                .unwrap()
                .is_empty()
        );

        // The created_at of a deferred row is still the time of the call.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let before_call = chrono::Utc::now();
        let _ = Widget::log_change_in(&mut tx, None, Some(&widget(5, 1)))
            .await
            .unwrap();
        let after_call = chrono::Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        tx.commit().await.unwrap();
        let row = &WidgetLog::for_object(&auditor, &5).await.unwrap()[0];
        assert!(row.created_at.timestamp_micros() >= before_call.timestamp_micros());
        assert!(row.created_at.timestamp_micros() <= after_call.timestamp_micros());

        let err = auditor.begin::<DB>("missing").await.err().unwrap();
        assert!(matches!(err, Error::UnknownAlias { .. }), "{err}");
    });
}
