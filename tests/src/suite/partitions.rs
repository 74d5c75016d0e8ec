//! Partitioned log tables: created partitioned on PostgreSQL (and as usual
//! elsewhere), written and read like any other; partition maintenance
//! while writers keep logging, with nothing lost or duplicated; dry runs;
//! rows that reached the DEFAULT partition; archiving; and a clear error
//! on the databases without partitioning.

use std::time::Duration;

use awesome_audit_log::partition::{Convert, Expiry, Maintain, PartitionBy};
use awesome_audit_log::{AuditConfig, Error, LogOutcome};
use awesome_audit_log_codegen::partition::{create_partition, partition_name};
use chrono::{DateTime, Days, TimeZone, Utc};

use super::fixtures::{Writers, Written, earlier_gizmo_log, original_widget_log, widget};
use crate::models::{Account, Gizmo, Ledger, LedgerLog, Widget};
use crate::{Kind, TestDb};

fn midnight(days_from_today: i64) -> DateTime<Utc> {
    let today = Utc::now().date_naive();
    let day = if days_from_today >= 0 {
        today + Days::new(days_from_today.unsigned_abs())
    } else {
        today - Days::new(days_from_today.unsigned_abs())
    };
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
}

fn day_partition(days_from_today: i64) -> String {
    partition_name(
        "ledger_log",
        &midnight(days_from_today).format("%Y%m%d").to_string(),
    )
}

fn pg_literal(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S+00").to_string()
}

/// The log table of a partitioned model is partitioned on PostgreSQL (a
/// DEFAULT partition, today's and tomorrow's), and a plain table
/// elsewhere; rows are written, read back and pruned the same way.
pub async fn partitioned_log_tables(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let first = Ledger { id: 1, amount: 5 };
    let second = Ledger { id: 1, amount: 7 };
    assert_eq!(
        Ledger::log_change(&auditor, None, Some(&first))
            .await
            .unwrap(),
        LogOutcome::Written
    );
    assert_eq!(
        Ledger::log_change(&auditor, Some(&first), Some(&second))
            .await
            .unwrap(),
        LogOutcome::Written
    );
    let rows = LedgerLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].changes.as_ref().unwrap()["amount"]["to"], 7);
    assert_eq!(Ledger::prune(&auditor).await.unwrap().rows, 0);

    if db.kind == Kind::Postgres {
        let kind = db
            .texts("SELECT relkind::text FROM pg_class WHERE relname = 'ledger_log'")
            .await;
        assert_eq!(kind, [Some("p".to_owned())]);
        let partitions = db
            .texts(
                "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
                 WHERE i.inhparent = 'ledger_log'::regclass ORDER BY 1",
            )
            .await;
        let mut expected = vec![
            Some(day_partition(0)),
            Some(day_partition(1)),
            Some("ledger_log_default".to_owned()),
        ];
        expected.sort();
        assert_eq!(partitions, expected);
        assert_eq!(db.count("ledger_log_default").await, 0);
        assert_eq!(db.count(&day_partition(0)).await, 2);
    } else {
        let refused = Maintain::model::<Ledger>(&auditor).run().await;
        assert!(
            matches!(refused, Err(Error::PartitionsUnsupported { .. })),
            "{refused:?}"
        );
    }
}

/// Maintenance while three writers keep logging: the partitions ahead are
/// created (one taking over the row the DEFAULT partition held), those
/// past the model's retention are dropped whole, and every row a writer
/// logged is in the table exactly once. A dry run changes nothing; an
/// archive run moves a partition to another schema.
pub async fn partition_maintenance_under_concurrent_writers(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let _ = Ledger::log_change(&auditor, None, Some(&Ledger { id: 1, amount: 0 }))
        .await
        .unwrap();
    if db.kind != Kind::Postgres {
        let refused = Maintain::table(&auditor, "ledger_log")
            .dry_run(true)
            .run()
            .await;
        assert!(matches!(refused, Err(Error::PartitionsUnsupported { .. })));
        return;
    }
    // Six days of old rows, ten a day, each day in its own partition.
    for day in -6..=-1_i64 {
        let from = midnight(day);
        let to = midnight(day + 1);
        db.exec(&create_partition(
            None,
            "ledger_log",
            &day_partition(day),
            &pg_literal(from),
            &pg_literal(to),
        ))
        .await;
        db.exec(&format!(
            "INSERT INTO ledger_log (action, object_pk, created_at) \
             SELECT 'create', 'old' || g, TIMESTAMPTZ '{}' + g * INTERVAL '1 minute' \
             FROM generate_series(1, 10) g",
            pg_literal(from)
        ))
        .await;
    }
    // A row four days ahead, logged before its partition exists.
    db.exec(&format!(
        "INSERT INTO ledger_log (action, object_pk, created_at) VALUES ('create', 'early', '{}')",
        pg_literal(midnight(4) + chrono::Duration::hours(1))
    ))
    .await;
    assert_eq!(db.count("ledger_log_default").await, 1);
    let early_id = db
        .ids("SELECT id FROM ledger_log WHERE object_pk = 'early'")
        .await;

    let partitions = || async {
        db.texts(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'ledger_log'::regclass ORDER BY 1",
        )
        .await
    };
    let before = partitions().await;
    let dry = Maintain::model::<Ledger>(&auditor)
        .ahead(5)
        .dry_run(true)
        .run()
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(partitions().await, before, "a dry run changes nothing");

    let writers = Writers::start(&auditor, 3, |id, amount| Ledger { id, amount });
    writers.wait_for(30).await;
    let at_start = writers.logged();
    let report = Maintain::model::<Ledger>(&auditor)
        .ahead(5)
        .lock_timeout(Duration::from_secs(2))
        .run()
        .await
        .unwrap();
    let again = Maintain::model::<Ledger>(&auditor)
        .ahead(5)
        .run()
        .await
        .unwrap();
    let at_end = writers.logged();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logged = writers.logged();
    let written = writers.stop().await;

    eprintln!(
        "maintenance: {} created, {} dropped, longest step {:?}, whole run {:?}",
        report.created.len(),
        report.expired.len(),
        report.longest_step,
        report.elapsed
    );
    assert_eq!(dry.created, report.created, "the dry run saw the same plan");
    assert_eq!(dry.expired, report.expired);
    let created: Vec<_> = report.created.iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        created,
        (2..=5).map(day_partition).collect::<Vec<_>>(),
        "today's and tomorrow's came with the table"
    );
    let moved: Vec<u64> = report.created.iter().map(|c| c.rows).collect();
    assert_eq!(moved, [0, 0, 1, 0]);
    let expired: Vec<_> = report.expired.iter().map(|c| c.name.clone()).collect();
    assert_eq!(
        expired,
        [day_partition(-6), day_partition(-5), day_partition(-4)]
    );
    assert!(report.expired.iter().all(|c| c.rows == 10));
    assert_eq!(report.expiry, Expiry::Dropped);
    assert!(again.created.is_empty() && again.expired.is_empty());
    assert!(
        at_end > at_start,
        "the writers kept logging while maintenance ran ({at_start} then {at_end})"
    );

    // Nothing lost, nothing twice.
    assert_eq!(db.count("ledger_log_default").await, 0);
    assert_eq!(db.count(&day_partition(4)).await, 1);
    assert_eq!(
        db.ids("SELECT id FROM ledger_log WHERE object_pk = 'early'")
            .await,
        early_id,
        "the early row kept its id"
    );
    assert_eq!(
        db.count("ledger_log").await,
        30 + 1 + 1 + written.iter().map(|w| w.values.len() as i64).sum::<i64>(),
        "the three days kept, the early row, the first row and every writer's row"
    );
    assert!(written.iter().map(|w| w.values.len() as u64).sum::<u64>() >= logged);
    for Written {
        id,
        values: amounts,
        slowest,
    } in &written
    {
        let stored = db
            .ids(&format!(
                "SELECT CAST(after->>'amount' AS BIGINT) FROM ledger_log WHERE object_pk = '{id}'"
            ))
            .await;
        assert_eq!(&stored, amounts, "writer {id}");
        eprintln!(
            "writer {id}: {} rows, slowest log_change {slowest:?}",
            amounts.len()
        );
    }

    // Archiving: the oldest kept day moves to another schema, rows and all.
    let archived = Maintain::table(&auditor, "ledger_log")
        .before(midnight(-2))
        .ahead(0)
        .archive("ledger_archive")
        .run()
        .await
        .unwrap();
    assert_eq!(archived.expiry, Expiry::Archived);
    let names: Vec<_> = archived.expired.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, [day_partition(-3)]);
    assert_eq!(
        db.count(&format!("ledger_archive.{}", day_partition(-3)))
            .await,
        10
    );
    assert!(!partitions().await.contains(&Some(day_partition(-3))));

    // Not a partitioned log table: refused, nothing changed.
    db.exec("CREATE TABLE plain_log (id BIGINT)").await;
    for table in ["plain_log", "missing_log", "ledger"] {
        let refused = Maintain::table(&auditor, table)
            .by(PartitionBy::Day)
            .run()
            .await;
        assert!(
            matches!(refused, Err(Error::NotPartitioned { .. })),
            "{table}: {refused:?}"
        );
    }
}

/// Converting unpartitioned log tables of every shape (the Django
/// original's, an earlier version's, this version's) while a writer keeps
/// logging into one of them: every row kept with its id, the id sequence
/// going on, the old rows' partition droppable by maintenance afterwards
/// without taking the sequence with it.
pub async fn partition_convert_keeps_every_row(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    if db.kind != Kind::Postgres {
        let _ = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
            .await
            .unwrap();
        let refused = Convert::table(&auditor, "widget_log", PartitionBy::Month)
            .run()
            .await;
        assert!(matches!(refused, Err(Error::PartitionsUnsupported { .. })));
        return;
    }
    db.exec(&original_widget_log(db.kind)).await;
    db.exec(&earlier_gizmo_log(db.kind)).await;
    for id in 1..=5 {
        let _ = Widget::log_change(&auditor, None, Some(&widget(id, 1)))
            .await
            .unwrap();
        let _ = Gizmo::log_change(&auditor, None, Some(&Gizmo { id, qty: 1 }))
            .await
            .unwrap();
        let _ = Account::log_change(&auditor, None, Some(&Account::sample(&id.to_string())))
            .await
            .unwrap();
    }
    let writers = Writers::start(&auditor, 1, |id, qty| widget(id, qty as i32));
    for table in ["widget_log", "gizmo_log", "account_log"] {
        let ids = db.ids(&format!("SELECT id FROM {table}")).await;
        let dry = Convert::table(&auditor, table, PartitionBy::Day)
            .dry_run(true)
            .run()
            .await
            .unwrap();
        assert!(
            dry.statements
                .iter()
                .any(|s| s.contains("ATTACH PARTITION"))
        );
        let report = Convert::table(&auditor, table, PartitionBy::Day)
            .ahead(1)
            .run()
            .await
            .unwrap();
        assert_eq!(report.created.len(), 2, "{report:?}");
        let kind = db
            .texts(&format!(
                "SELECT relkind::text FROM pg_class WHERE relname = '{table}'"
            ))
            .await;
        assert_eq!(kind, [Some("p".to_owned())], "{table}");
        let after = db.ids(&format!("SELECT id FROM {table}")).await;
        assert!(
            ids.iter().all(|id| after.contains(id)),
            "{table}: every row kept"
        );
        if table != "widget_log" {
            assert_eq!(after, ids, "{table}");
        }
        // Converting again is refused: it is partitioned now.
        let again = Convert::table(&auditor, table, PartitionBy::Day)
            .run()
            .await;
        assert!(
            matches!(again, Err(Error::NotPartitioned { .. })),
            "{again:?}"
        );
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let logged = writers.stop().await[0].values.len() as i64;
    assert_eq!(
        db.count("widget_log").await,
        5 + logged,
        "no writer's row lost or doubled"
    );
    let amounts = db
        .ids("SELECT CAST(after->>'qty' AS BIGINT) FROM widget_log WHERE object_pk = '100'")
        .await;
    assert_eq!(amounts, (0..logged).collect::<Vec<_>>());

    // The id sequence goes on, and survives the old rows' partition.
    let last = *db.ids("SELECT id FROM gizmo_log").await.last().unwrap();
    let _ = Gizmo::log_change(&auditor, None, Some(&Gizmo { id: 9, qty: 1 }))
        .await
        .unwrap();
    let max = *db.ids("SELECT id FROM gizmo_log").await.last().unwrap();
    assert!(max > last);
    // The five rows converted and the one logged since, all before the boundary.
    let dropped = Maintain::table(&auditor, "gizmo_log")
        .before(Utc::now() + chrono::Duration::days(3))
        .ahead(0)
        .run()
        .await
        .unwrap();
    assert!(
        dropped
            .expired
            .iter()
            .any(|c| c.name == "gizmo_log_p00000000" && c.rows == 6),
        "{dropped:?}"
    );
    let outcome = Gizmo::log_change(&auditor, None, Some(&Gizmo { id: 10, qty: 1 }))
        .await
        .unwrap();
    assert_eq!(outcome, LogOutcome::Written);
    // Today's row has no partition left before the boundary: the DEFAULT one takes it.
    assert_eq!(db.count("gizmo_log").await, 1);
    assert_eq!(db.count("gizmo_log_default").await, 1);
}

/// A redelivered event is not logged twice into a partitioned log table
/// (whose event id is unique together with `created_at`): the outbox is
/// drained, put back as a crash before its delete would leave it, and
/// drained again.
pub async fn partitioned_redelivery_is_a_no_op(db: TestDb) {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = awesome_audit_log::config::AsyncTransport::Outbox;
    let auditor = db.auditor(config);
    for id in [1, 2] {
        let queued = Ledger::log_change(&auditor, None, Some(&Ledger { id, amount: 1 }))
            .await
            .unwrap();
        assert_eq!(queued, LogOutcome::Queued);
    }
    db.exec("CREATE TABLE outbox_copy AS SELECT * FROM awesome_audit_log_outbox")
        .await;
    let worker = auditor.outbox_worker("default").unwrap();
    assert_eq!(worker.drain().await.unwrap(), 2);
    db.exec("INSERT INTO awesome_audit_log_outbox SELECT * FROM outbox_copy")
        .await;
    assert_eq!(worker.drain().await.unwrap(), 2, "redelivered");
    assert_eq!(db.count("ledger_log").await, 2, "each event logged once");
    if db.kind == Kind::Postgres {
        let kind = db
            .texts("SELECT relkind::text FROM pg_class WHERE relname = 'ledger_log'")
            .await;
        assert_eq!(kind, [Some("p".to_owned())]);
    }
}
