//! ASYNC: the in-process writer, its rows, outages, flush and shutdown, a
//! full queue, and transactions.

use awesome_audit_log::{AuditConfig, Auditor, LogOutcome};
use serde_json::json;

use super::fixtures::{Outage, async_config, widget, with_audit_database};
use crate::models::{Account, AccountLog, Widget, WidgetLog};
use crate::{Kind, TestDb};

/// ASYNC rows equal the rows the synchronous path writes for the same changes.
pub async fn async_rows_equal_sync_rows(db: TestDb) {
    let sync = db.auditor(AuditConfig::default());
    let background = db.auditor(async_config());
    let changes = |id: i64| {
        let a = Account::sample(&format!("acc-{id}"));
        let b = Account {
            balance: 99.5,
            api_key: "other".into(),
            ..a.clone()
        };
        (a, b)
    };
    let (a1, b1) = changes(1);
    let (a2, b2) = changes(2);
    for (auditor, a, b) in [(&sync, &a1, &b1), (&background, &a2, &b2)] {
        let _ = Account::log_change(auditor, None, Some(a)).await.unwrap();
        let _ = Account::log_change(auditor, Some(a), Some(b))
            .await
            .unwrap();
        let _ = Account::log_changes(auditor, [(Some(b), None)])
            .await
            .unwrap();
    }
    assert_eq!(
        Account::log_change(&background, None, Some(&a2))
            .await
            .unwrap(),
        LogOutcome::Queued
    );
    background.flush().await;
    let strip = |rows: Vec<AccountLog>| {
        rows.into_iter()
            .map(|r| {
                let text = |v: Option<serde_json::Value>| {
                    v.map(|v| v.to_string().replace("acc-1", "acc-2"))
                };
                (r.action, text(r.before), text(r.after), text(r.changes))
            })
            .collect::<Vec<_>>()
    };
    let sync_rows = strip(AccountLog::for_object(&sync, "acc-1").await.unwrap());
    let async_rows = strip(AccountLog::for_object(&sync, "acc-2").await.unwrap());
    assert_eq!(sync_rows.len(), 3);
    assert_eq!(async_rows[..3], sync_rows[..]);
    assert_eq!(background.stats().queued, 4);
    assert_eq!(background.stats().written, 4);
}

/// ASYNC: `created_at` is the time of the call even when the writer is held
/// back for 2 seconds, and nothing is lost while the database is down.
pub async fn async_writer_survives_an_outage(db: TestDb) {
    let (outage, database) = Outage::new(&db).await;
    let auditor = Auditor::builder(async_config())
        .database("default", database)
        .build()
        .unwrap();
    if outage.proxy.is_some() {
        // Make the table exist, so the outage is the only obstacle.
        let _ = Widget::log_change(&auditor, None, Some(&widget(0, 0)))
            .await
            .unwrap();
        auditor.flush().await;
    }
    outage.down();
    let before = chrono::Utc::now();
    for qty in 1..=50 {
        let old = widget(1, qty - 1);
        let new = widget(1, qty);
        assert_eq!(
            Widget::log_change(&auditor, Some(&old), Some(&new))
                .await
                .unwrap(),
            LogOutcome::Queued
        );
    }
    let after = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    outage.up();
    auditor.flush().await;

    let stats = auditor.stats();
    assert!(stats.retried > 0, "the writer retried: {stats:?}");
    assert_eq!(stats.failed, 0);
    let rows = WidgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.len(), 50, "no row lost");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row.changes,
            Some(json!({"qty": {"from": i, "to": i + 1}})),
            "order kept"
        );
        assert!(row.created_at.timestamp_micros() >= before.timestamp_micros());
        assert!(
            row.created_at.timestamp_micros() <= after.timestamp_micros(),
            "event time, not write time"
        );
    }
}

/// ASYNC: flush waits for what was queued; after shutdown rows are written inline.
pub async fn async_flush_and_shutdown(db: TestDb) {
    let auditor = db.auditor(async_config());
    let widgets: Vec<Widget> = (0..300).map(|i| widget(i, 1)).collect();
    for w in &widgets {
        let outcome = Widget::log_change(&auditor, None, Some(w)).await.unwrap();
        assert_eq!(outcome, LogOutcome::Queued);
    }
    auditor.flush().await;
    assert_eq!(db.count("widget_log").await, 300);
    let clone = auditor.clone();
    assert_eq!(
        Widget::log_change(&clone, Some(&widgets[0]), None)
            .await
            .unwrap(),
        LogOutcome::Queued
    );
    auditor.shutdown().await;
    assert_eq!(db.count("widget_log").await, 301, "shutdown flushes");
    assert_eq!(
        Widget::log_change(&clone, Some(&widgets[1]), None)
            .await
            .unwrap(),
        LogOutcome::Written,
        "after shutdown rows are written inline"
    );
    assert_eq!(db.count("widget_log").await, 302);
}

/// ASYNC with ASYNC_QUEUE_FULL = drop: a full queue drops rows, and counts them.
pub async fn async_drop_policy_counts(db: TestDb) {
    let (outage, database) = Outage::new(&db).await;
    let mut config = async_config();
    config.async_queue_size = 2;
    // One row per batch: the writer holds one row (retrying while the
    // database is away) and no more, so the queue of 2 overflows whatever
    // the timing.
    config.async_batch_size = 1;
    config.async_queue_full = awesome_audit_log::config::QueueFull::Drop;
    let auditor = Auditor::builder(config)
        .database("default", database)
        .build()
        .unwrap();
    outage.down();
    let mut dropped = 0;
    for i in 0..40 {
        if Widget::log_change(&auditor, None, Some(&widget(i, 1)))
            .await
            .unwrap()
            == LogOutcome::Dropped
        {
            dropped += 1;
        }
    }
    outage.up();
    auditor.flush().await;
    let stats = auditor.stats();
    assert!(dropped > 0, "a queue of 2 behind a dead database overflows");
    assert_eq!(stats.dropped, dropped);
    assert_eq!(stats.written + stats.dropped, 40, "{stats:?}");
}

/// ASYNC with the log in another database: a transaction's rows are queued
/// only when it commits; a rollback queues nothing.
pub async fn async_transaction_rows_wait_for_commit(db: TestDb) {
    let Some((audit_db, auditor)) = with_audit_database(&db, async_config()).await else {
        return;
    };
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        assert_eq!(
            Widget::log_change_in(&mut tx, None, Some(&widget(1, 1)))
                .await
                .unwrap(),
            LogOutcome::Deferred
        );
        tx.rollback().await.unwrap();
        auditor.flush().await;
        assert_eq!(auditor.stats().queued, 0, "nothing queued for a rollback");

        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&widget(2, 1)))
            .await
            .unwrap();
        assert_eq!(
            auditor.stats().queued,
            0,
            "nothing queued before the commit"
        );
        tx.commit().await.unwrap();
        assert_eq!(auditor.stats().queued, 1);
        auditor.flush().await;
    });
    assert_eq!(audit_db.count("widget_log").await, 1);
    assert_eq!(WidgetLog::for_object(&auditor, &2).await.unwrap().len(), 1);
}
