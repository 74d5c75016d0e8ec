//! The durable outbox: rows that commit and roll back with the change, moved
//! once by concurrent workers, redelivery and a killed process.

use awesome_audit_log::{AuditConfig, LogOutcome};

use super::fixtures::{CREATE_WIDGET, insert_widget_sql, widget, with_audit_database};
use crate::models::{Widget, WidgetLog};
use crate::{Kind, TestDb};

fn outbox_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = awesome_audit_log::config::AsyncTransport::Outbox;
    config
}

/// The outbox: rows commit with the change, roll back with it, and workers
/// (two at once where the database can lock rows) move each exactly once;
/// a redelivered event is not logged twice.
pub async fn outbox_moves_each_row_exactly_once(db: TestDb) {
    db.exec(CREATE_WIDGET).await;
    let auditor = db.auditor(outbox_config());
    for_backend!(db, |DB| {
        for id in 1..=60 {
            let w = widget(id, 1);
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            assert!(tx.logs_inside());
            sqlx::raw_sql(insert_widget_sql(&w))
                .execute(&mut *tx)
                .await
                .unwrap();
            assert_eq!(
                Widget::log_change_in(&mut tx, None, Some(&w))
                    .await
                    .unwrap(),
                LogOutcome::Queued
            );
            if id % 3 == 0 {
                tx.rollback().await.unwrap();
            } else {
                tx.commit().await.unwrap();
            }
        }
    });
    // Outside a transaction the row goes to the audit database's outbox.
    assert_eq!(
        Widget::log_change(&auditor, None, Some(&widget(100, 1)))
            .await
            .unwrap(),
        LogOutcome::Queued
    );
    assert_eq!(db.count("awesome_audit_log_outbox").await, 41);
    assert!(
        !db.table_exists(None, "widget_log").await,
        "nothing moved yet"
    );

    let worker = auditor.outbox_worker("default").unwrap().batch_size(7);
    let moved = if db.kind == Kind::Sqlite {
        worker.drain().await.unwrap()
    } else {
        let other = worker.clone();
        let (a, b) = tokio::join!(worker.drain(), other.drain());
        a.unwrap() + b.unwrap()
    };
    assert_eq!(moved, 41);
    assert_eq!(db.count("awesome_audit_log_outbox").await, 0);
    assert_eq!(db.count("widget_log").await, 41);
    for id in 1..=60 {
        let rows = WidgetLog::for_object(&auditor, &id).await.unwrap();
        assert_eq!(rows.len(), usize::from(id % 3 != 0), "widget {id}");
    }
    assert_eq!(auditor.stats().written, 41);
}

/// With the log tables in another database, a batch redelivered after a
/// crash (logged, but still in the outbox) is skipped by its event id.
pub async fn outbox_redelivery_is_a_no_op(db: TestDb) {
    let Some((audit_db, auditor)) = with_audit_database(&db, outbox_config()).await else {
        return;
    };
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let _ = Widget::log_changes_in(
            &mut tx,
            [(None, Some(&widget(1, 1))), (None, Some(&widget(2, 1)))],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    });
    // Keep a copy of the outbox, as a crash before its delete would have.
    db.exec("CREATE TABLE outbox_copy AS SELECT * FROM awesome_audit_log_outbox")
        .await;
    let worker = auditor.outbox_worker("default").unwrap();
    assert_eq!(worker.drain().await.unwrap(), 2);
    db.exec("INSERT INTO awesome_audit_log_outbox SELECT * FROM outbox_copy")
        .await;
    assert_eq!(worker.drain().await.unwrap(), 2, "redelivered");
    assert_eq!(
        audit_db.count("widget_log").await,
        2,
        "each event logged once"
    );
    assert_eq!(db.count("awesome_audit_log_outbox").await, 0);
}

/// A process doing audited changes in a loop is killed with SIGKILL; a
/// worker then drains the outbox: every committed change has exactly one log
/// row, no rolled-back change has one.
pub async fn outbox_survives_sigkill(db: TestDb) {
    use tokio::io::AsyncBufReadExt as _;
    db.exec(CREATE_WIDGET).await;
    let exe = std::env::current_exe().unwrap();
    let child_bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("outbox_child");
    assert!(
        child_bin.exists(),
        "{} is built with the tests",
        child_bin.display()
    );
    let mut child = tokio::process::Command::new(&child_bin)
        .arg(&db.url)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut committed = 0;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while committed < 40 && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(line))) if line.starts_with("committed") => committed += 1,
            Ok(Ok(Some(_))) => {}
            other => panic!("child stopped early: {other:?}"),
        }
    }
    assert!(committed >= 40, "the child committed changes");
    child.start_kill().unwrap(); // SIGKILL, mid-loop
    let status = child.wait().await.unwrap();
    assert!(!status.success());

    let auditor = db.auditor(outbox_config());
    auditor
        .outbox_worker("default")
        .unwrap()
        .drain()
        .await
        .unwrap();
    let widgets = db.ids("SELECT id FROM widget").await;
    let logged = db
        .ids("SELECT CAST(object_pk AS BIGINT) FROM widget_log")
        .await;
    assert!(widgets.len() >= 40);
    assert_eq!(
        logged, widgets,
        "exactly one row per committed change, none for rolled-back ones"
    );
    assert!(
        widgets.iter().all(|id| id % 4 != 3),
        "rolled-back changes are not in the table"
    );
}
