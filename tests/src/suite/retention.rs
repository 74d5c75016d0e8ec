//! Retention: prunes by age and by the newest rows of each object, alone
//! and together, agree with a plain reading of the same rows; dry runs;
//! batches of every size; dedupe; a prune while writers keep logging;
//! tables the Django original created; a model's own policy; and tables
//! that are not log tables, never touched.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use awesome_audit_log::history::AuditLog;
use awesome_audit_log::retention::{Dedupe, Prune, PruneProgress, PruneReport};
use awesome_audit_log::{AuditConfig, Auditor, Error, LogRecord};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use super::fixtures::{Writers, original_widget_log, widget};
use crate::models::{Account, Gizmo, Widget};
use crate::{Kind, TestDb};

/// A log row written with SQL, at any time.
#[derive(Debug, Clone)]
struct Row {
    pk: &'static str,
    action: &'static str,
    /// The `changes` JSON text, or SQL NULL.
    changes: Option<&'static str>,
    at: DateTime<Utc>,
    /// On SQLite, written in the Django original's text form (no offset,
    /// no microseconds when they are zero) rather than ours.
    django_text: bool,
}

fn row(pk: &'static str, at: DateTime<Utc>) -> Row {
    Row {
        pk,
        action: "update",
        changes: Some(r#"{"qty": {"from": 1, "to": 2}}"#),
        at,
        django_text: false,
    }
}

/// `at` as a literal of the backend's `created_at` column.
fn time_literal(kind: Kind, at: DateTime<Utc>, django_text: bool) -> String {
    let micros = at.format("%Y-%m-%d %H:%M:%S%.6f");
    match kind {
        Kind::Postgres => format!("'{micros}+00'"),
        // The session's time zone is UTC (sqlx sets it).
        Kind::MySql => format!("'{micros}'"),
        Kind::Sqlite if !django_text => format!("'{micros}+00:00'"),
        Kind::Sqlite if at.timestamp_subsec_micros() == 0 => {
            format!("'{}'", at.format("%Y-%m-%d %H:%M:%S"))
        }
        Kind::Sqlite => format!("'{micros}'"),
    }
}

/// Writes `rows` into `table` with one statement (test values only).
async fn insert(db: &TestDb, table: &str, rows: &[Row]) {
    let values: Vec<String> = rows
        .iter()
        .map(|row| {
            let changes = row
                .changes
                .map_or_else(|| "NULL".to_owned(), |json| format!("'{json}'"));
            format!(
                "('{}', '{}', {changes}, {})",
                row.action,
                row.pk,
                time_literal(db.kind, row.at, row.django_text)
            )
        })
        .collect();
    db.exec(&format!(
        "INSERT INTO {table} (action, object_pk, changes, created_at) VALUES {}",
        values.join(", ")
    ))
    .await;
}

/// Every row of `widget_log`, as the library reads it back.
async fn widget_rows(auditor: &Auditor) -> Vec<LogRecord> {
    AuditLog::query(auditor)
        .model::<Widget>()
        .fetch()
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.record)
        .collect()
}

fn ids(rows: &[LogRecord]) -> BTreeSet<i64> {
    rows.iter().map(|row| row.id).collect()
}

/// The run reported `expected` (ids of `rows`, all of `widget_log` before
/// it) and deleted exactly those.
async fn assert_deleted(
    auditor: &Auditor,
    report: &PruneReport,
    rows: &[LogRecord],
    expected: &BTreeSet<i64>,
    case: &str,
) {
    assert_eq!(report.rows, expected.len() as u64, "{case}: {report:?}");
    let kept: BTreeSet<i64> = ids(rows).difference(expected).copied().collect();
    assert_eq!(ids(&widget_rows(auditor).await), kept, "{case}");
}

/// The ids a prune must delete, read off `rows` in memory: those before
/// `before` (if given) that are not among the newest `keep_last` of their
/// object (if given), objects told apart by their exact key.
fn doomed(
    rows: &[LogRecord],
    before: Option<DateTime<Utc>>,
    keep_last: Option<u64>,
) -> BTreeSet<i64> {
    let mut by_object: BTreeMap<&str, Vec<&LogRecord>> = BTreeMap::new();
    for row in rows {
        by_object.entry(&row.object_pk).or_default().push(row);
    }
    let mut doomed = BTreeSet::new();
    for mut object in by_object.into_values() {
        object.sort_by_key(|row| std::cmp::Reverse((row.created_at, row.id)));
        for (rank, row) in (1..).zip(object) {
            let old = before.is_none_or(|before| row.created_at < before);
            let beyond = keep_last.is_none_or(|keep| rank > keep);
            if old && beyond {
                doomed.insert(row.id);
            }
        }
    }
    doomed
}

/// Rows of six objects (two of them differing only in case, one in a
/// trailing space, which MySQL's collation would take for the same key)
/// spread over sixty days, some at the same instant, some around a cutoff
/// to the microsecond; on SQLite every other row in the original's text.
/// Returns the rows and the cutoff.
fn spread(now: DateTime<Utc>) -> (Vec<Row>, DateTime<Utc>) {
    let day = |days: i64| now - TimeDelta::days(days);
    let cutoff = day(20).trunc_subsecs(0);
    let micro = TimeDelta::microseconds(1);
    let mut rows = Vec::new();
    for (pk, days) in [
        ("1", &[60, 45, 30, 21, 10, 1][..]),
        ("2", &[50][..]),
        ("3", &[40, 40, 25, 5][..]),
        ("a", &[35, 33, 2][..]),
        ("A", &[34, 3][..]),
        ("a ", &[31, 29, 27][..]),
    ] {
        rows.extend(days.iter().map(|&days| row(pk, day(days))));
    }
    // Object 3's two rows at day 40 share an instant: the id decides.
    rows.iter_mut()
        .filter(|row| row.pk == "3")
        .take(2)
        .for_each(|row| row.at = day(40).trunc_subsecs(0));
    for (pk, at) in [
        ("4", cutoff - micro),
        ("4", cutoff),
        ("4", cutoff + micro),
        ("5", cutoff),
        ("5", cutoff - TimeDelta::seconds(1)),
    ] {
        rows.push(row(pk, at));
    }
    for (index, row) in rows.iter_mut().enumerate() {
        row.django_text = index % 2 == 1;
    }
    (rows, cutoff)
}

/// Fills `widget_log` (created on first use) with [`spread`]'s rows only;
/// returns them as read back, and the cutoff.
async fn fresh_widget_log(db: &TestDb, auditor: &Auditor) -> (Vec<LogRecord>, DateTime<Utc>) {
    let _ = Widget::log_change(auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    db.exec("DELETE FROM widget_log").await;
    let (rows, cutoff) = spread(Utc::now());
    insert(db, "widget_log", &rows).await;
    let read = widget_rows(auditor).await;
    assert_eq!(read.len(), rows.len());
    (read, cutoff)
}

/// By age (an instant or a duration), by the newest rows of each object,
/// and by both: a dry run counts exactly the rows a plain reading selects
/// and deletes nothing; the run deletes exactly those.
pub async fn prune_rules_agree_with_a_plain_reading(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let days = |days: u64| Duration::from_secs(days * 24 * 60 * 60);
    type Rules = fn(Prune<'_>, DateTime<Utc>) -> Prune<'_>;
    let cases: [(&str, Rules, bool, Option<u64>); 7] = [
        ("before the cutoff", |p, at| p.before(at), true, None),
        ("keep the newest", |p, _| p.keep_last(1), false, Some(1)),
        ("keep the newest two", |p, _| p.keep_last(2), false, Some(2)),
        ("both", |p, at| p.before(at).keep_last(2), true, Some(2)),
        (
            "both, keep_last first",
            |p, at| p.keep_last(1).before(at),
            true,
            Some(1),
        ),
        (
            "keep_last 0 leaves the cutoff to decide",
            |p, at| p.keep_last(0).before(at),
            true,
            None,
        ),
        (
            "the earlier of before and older_than",
            |p, at| {
                p.before(at)
                    .older_than(Duration::from_secs(45 * 24 * 60 * 60))
            },
            true,
            None,
        ),
    ];
    for (name, rules, by_cutoff, keep_last) in cases {
        let (rows, cutoff) = fresh_widget_log(&db, &auditor).await;
        let mut before = by_cutoff.then_some(cutoff);
        if name.starts_with("the earlier") {
            // 45 days ago is well before the cutoff (20 days ago).
            before = Some(Utc::now() - TimeDelta::days(45));
        }
        let expected = doomed(&rows, before, keep_last);
        assert!(
            !expected.is_empty() && expected.len() < rows.len(),
            "{name}"
        );

        let dry = rules(Prune::table(&auditor, "widget_log"), cutoff)
            .dry_run(true)
            .run(|_| {})
            .await
            .unwrap();
        assert_eq!(dry.rows, expected.len() as u64, "{name}: dry run");
        assert!(dry.dry_run && dry.batches == 0, "{name}: {dry:?}");
        assert_eq!(widget_rows(&auditor).await.len(), rows.len(), "{name}");

        let report = rules(Prune::model::<Widget>(&auditor), cutoff)
            .batch_size(3)
            .pause(Duration::ZERO)
            .run(|_| {})
            .await
            .unwrap();
        assert_eq!(report.table, "widget_log");
        assert_deleted(&auditor, &report, &rows, &expected, name).await;
    }

    // A duration: the cutoff is taken when the run starts (rows are days
    // apart, so a plain reading taken just before agrees).
    let (rows, _) = fresh_widget_log(&db, &auditor).await;
    let expected = doomed(&rows, Some(Utc::now() - TimeDelta::days(28)), None);
    let report = Prune::model::<Widget>(&auditor)
        .older_than(days(28))
        .run(|_| {})
        .await
        .unwrap();
    assert_deleted(&auditor, &report, &rows, &expected, "older than 28 days").await;
    let kept = ids(&widget_rows(&auditor).await);
    // Nothing is that old: a cutoff before any time a database stores.
    for age in [days(365 * 5000), Duration::MAX] {
        let report = Prune::model::<Widget>(&auditor)
            .older_than(age)
            .run(|_| {})
            .await
            .unwrap();
        assert_eq!(report.rows, 0);
    }
    assert_eq!(ids(&widget_rows(&auditor).await), kept);
}

/// Batches of one row, of two, of about a third of the rows and of more
/// than all of them delete the same rows: one statement per batch, the
/// last one short (or empty), the progress told after each.
pub async fn prune_batches_of_every_size(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    for batch_size in [1, 2, 7, 1_000] {
        let (rows, cutoff) = fresh_widget_log(&db, &auditor).await;
        let expected = doomed(&rows, Some(cutoff), None);
        let total = expected.len() as u64;
        let mut seen: Vec<PruneProgress> = Vec::new();
        let report: PruneReport = Prune::model::<Widget>(&auditor)
            .before(cutoff)
            .batch_size(batch_size)
            .pause(Duration::from_millis(1))
            .run(|progress| seen.push(*progress))
            .await
            .unwrap();
        assert_eq!(
            report.batches,
            total / batch_size + 1,
            "batches of {batch_size}"
        );
        assert!(report.longest_batch <= report.elapsed);
        assert_eq!(seen.len() as u64, report.batches + 1, "{seen:?}");
        for (index, progress) in seen.iter().enumerate() {
            let batches = index as u64;
            assert_eq!(progress.batches, batches);
            assert_eq!(progress.total, Some(total));
            assert_eq!(progress.deleted, (batches * batch_size).min(total));
        }
        assert_deleted(&auditor, &report, &rows, &expected, "batches").await;
    }
    // Not counted first: no total, the same rows.
    let (rows, cutoff) = fresh_widget_log(&db, &auditor).await;
    let mut totals = Vec::new();
    let report = Prune::model::<Widget>(&auditor)
        .before(cutoff)
        .count_first(false)
        .run(|progress| totals.push(progress.total))
        .await
        .unwrap();
    assert_eq!(report.rows, doomed(&rows, Some(cutoff), None).len() as u64);
    assert!(totals.iter().all(Option::is_none), "{totals:?}");
}

/// Dedupe deletes the update rows whose changes are empty (`{}` however
/// spelled, JSON `null`, SQL NULL) and nothing else: not an update that
/// changed something, not an insert or a delete, not text that is not JSON.
pub async fn dedupe_removes_only_empty_updates(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let _ = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    let now = Utc::now();
    let with = |action, changes| Row {
        action,
        changes,
        ..row("1", now)
    };
    let mut empty = vec![
        with("update", Some("{}")),
        with("update", Some("{ }")),
        with("update", None),
        with("update", Some("null")),
    ];
    let mut kept = vec![
        with("update", Some(r#"{"qty": {"from": 1, "to": 2}}"#)),
        with("insert", Some("{}")),
        with("delete", None),
        with("insert", None),
        with("update", Some("[]")),
    ];
    if db.kind == Kind::Sqlite {
        // Only SQLite's TEXT holds text that is not JSON.
        kept.push(with("update", Some("not json")));
    }
    // Old rows too, in the original's text.
    empty.push(Row {
        at: now - TimeDelta::days(400),
        django_text: true,
        ..with("update", Some("{}"))
    });
    let all_ids = || db.ids("SELECT CAST(id AS BIGINT) FROM widget_log");
    let first = all_ids().await;
    insert(&db, "widget_log", &empty).await;
    let with_empty = all_ids().await;
    insert(&db, "widget_log", &kept).await;
    let every = all_ids().await;
    let empty_ids: BTreeSet<i64> = with_empty
        .iter()
        .filter(|id| !first.contains(id))
        .copied()
        .collect();
    assert_eq!(empty_ids.len(), empty.len());

    let dry = Dedupe::model::<Widget>(&auditor)
        .dry_run(true)
        .run(|_| {})
        .await
        .unwrap();
    assert_eq!(dry.rows, empty.len() as u64);
    assert_eq!(all_ids().await, every);

    let report = Dedupe::table(&auditor, "widget_log")
        .batch_size(2)
        .pause(Duration::ZERO)
        .run(|_| {})
        .await
        .unwrap();
    assert_eq!(report.rows, empty.len() as u64);
    assert_eq!(report.batches, empty.len() as u64 / 2 + 1);
    let left: BTreeSet<i64> = all_ids().await.into_iter().collect();
    let expected: BTreeSet<i64> = every
        .iter()
        .filter(|id| !empty_ids.contains(id))
        .copied()
        .collect();
    assert_eq!(left, expected);
    // Nothing left to dedupe.
    let again = Dedupe::model::<Widget>(&auditor).run(|_| {}).await.unwrap();
    assert_eq!((again.rows, again.batches), (0, 1));
}

/// Writers keep logging while a prune deletes the old rows in small
/// batches with pauses: afterwards every old row is gone, every row the
/// writers logged is there exactly once, and the writers logged rows
/// between the prune's batches (seen from its progress callback).
pub async fn prune_under_concurrent_writers(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let old_widgets: Vec<_> = (1..=40).map(|id| widget(id, 0)).collect();
    let batch = Widget::log_changes(&auditor, old_widgets.iter().map(|w| (None, Some(w))))
        .await
        .unwrap();
    assert_eq!(batch.written, 40);
    let old_rows = db.count("widget_log").await;
    tokio::time::sleep(Duration::from_millis(3)).await;
    let cutoff = Utc::now();
    tokio::time::sleep(Duration::from_millis(3)).await;

    let writers = Writers::start(&auditor, 3, |id, qty| widget(id, qty as i32));

    // The writers' count at each progress call.
    let mut seen = Vec::new();
    let report = Prune::model::<Widget>(&auditor)
        .before(cutoff)
        .batch_size(4)
        .pause(Duration::from_millis(20))
        .run(|progress| seen.push((progress.batches, writers.logged())))
        .await
        .unwrap();
    let mut expected: Vec<(String, i64)> = writers
        .stop()
        .await
        .into_iter()
        .flat_map(|w| w.values.into_iter().map(move |qty| (w.id.to_string(), qty)))
        .collect();

    assert_eq!(report.rows, old_rows as u64);
    assert_eq!(report.batches, old_rows as u64 / 4 + 1);
    let (first, last) = (seen[1], seen[seen.len() - 1]);
    assert!(
        last.1 > first.1,
        "the writers logged rows between the first and the last batch: {seen:?}"
    );
    let rows = widget_rows(&auditor).await;
    assert!(
        rows.iter().all(|row| row.created_at >= cutoff),
        "every old row is gone"
    );
    let mut written: Vec<(String, i64)> = rows
        .iter()
        .map(|row| {
            let qty = row.after.as_ref().unwrap()["qty"].as_i64().unwrap();
            (row.object_pk.clone(), qty)
        })
        .collect();
    written.sort();
    expected.sort();
    assert_eq!(written, expected, "every new row once, none missing");
}

/// A log table the Django original created (fifteen columns, `TIMESTAMP`
/// on MySQL, timestamps in its own text on SQLite, no index, not in the
/// table of managed tables) is pruned and deduped like ours.
pub async fn retention_on_tables_the_original_created(db: TestDb) {
    db.exec(&original_widget_log(db.kind)).await;
    let auditor = db.auditor(AuditConfig::default());
    let (mut rows, cutoff) = spread(Utc::now().trunc_subsecs(0));
    // The original's precision is the second on MySQL.
    for row in &mut rows {
        row.at = row.at.trunc_subsecs(0);
        row.django_text = true;
    }
    rows.push(Row {
        changes: Some("{}"),
        ..row("9", cutoff + TimeDelta::seconds(1))
    });
    insert(&db, "widget_log", &rows).await;
    let read = widget_rows(&auditor).await;
    assert_eq!(read.len(), rows.len());

    let expected = doomed(&read, Some(cutoff), Some(1));
    let report = Prune::table(&auditor, "widget_log")
        .before(cutoff)
        .keep_last(1)
        .batch_size(2)
        .run(|_| {})
        .await
        .unwrap();
    assert_deleted(&auditor, &report, &read, &expected, "the original's table").await;

    let report = Dedupe::table(&auditor, "widget_log")
        .run(|_| {})
        .await
        .unwrap();
    assert_eq!(report.rows, 1);
    assert_eq!(db.columns(None, "widget_log").await.len(), 15);
    assert!(!db.table_exists(None, "awesome_audit_log_tables").await);
}

/// `Widget::prune` runs the model's `#[audited(retention(...))]` policy
/// (`Gizmo`: older than 30 days and not among the newest two of its
/// object); a model without one has nothing to go by, as has a prune
/// given no rule.
pub async fn models_prune_by_their_policy(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let _ = Gizmo::log_change(&auditor, None, Some(&Gizmo { id: 1, qty: 1 }))
        .await
        .unwrap();
    let now = Utc::now();
    let day = |days| now - TimeDelta::days(days);
    let rows: Vec<Row> = [
        ("1", 90),
        ("1", 60),
        ("1", 31),
        ("2", 90),
        ("2", 60),
        ("3", 90),
        ("3", 40),
        ("3", 35),
        ("3", 20),
        ("3", 10),
    ]
    .into_iter()
    .map(|(pk, days)| row(pk, day(days)))
    .collect();
    insert(&db, "gizmo_log", &rows).await;
    // Object 1: its insert now, and three old rows, two of which go; object
    // 2 keeps both; object 3 keeps its two newest and loses the three
    // rows older than 30 days.
    let policy = Gizmo::prune(&auditor).await.unwrap();
    assert_eq!((policy.table.as_str(), policy.rows), ("gizmo_log", 5));
    assert_eq!(db.count("gizmo_log").await, 6);
    assert_eq!(Gizmo::prune(&auditor).await.unwrap().rows, 0);

    let missing = |result: Result<PruneReport, Error>| matches!(result, Err(Error::NoRetentionRule { ref table }) if !table.is_empty());
    assert!(missing(Account::prune(&auditor).await));
    assert!(missing(
        Prune::table(&auditor, "gizmo_log").run(|_| {}).await
    ));
    assert!(missing(
        Prune::model::<Gizmo>(&auditor)
            .retention(Default::default())
            .run(|_| {})
            .await
    ));
    assert!(missing(
        Prune::table(&auditor, "gizmo_log")
            .keep_last(0)
            .run(|_| {})
            .await
    ));
    // A model whose log table does not exist yet has nothing to prune.
    let report = Prune::model::<Account>(&auditor)
        .keep_last(1)
        .run(|_| {})
        .await
        .unwrap();
    assert_eq!((report.rows, report.batches), (0, 0));
    assert_eq!(db.count("gizmo_log").await, 6);
}

/// Tables that are not log tables are never touched, whatever they hold:
/// a look-alike with some of a log table's columns, a table whose name is
/// not a log table's, the library's own tables, a name that is not an
/// identifier, a table that does not exist. On PostgreSQL, the log table
/// of PG_SCHEMA is pruned, not its namesake elsewhere.
pub async fn retention_touches_only_log_tables(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let _ = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    let old = Utc::now() - TimeDelta::days(400);
    let (id, text) = match db.kind {
        Kind::Postgres => ("BIGSERIAL PRIMARY KEY", "TEXT"),
        Kind::MySql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "TEXT"),
        Kind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
    };
    let created_at = match db.kind {
        Kind::Postgres => "TIMESTAMPTZ NOT NULL",
        Kind::MySql => "DATETIME(6) NOT NULL",
        Kind::Sqlite => "TEXT NOT NULL",
    };
    for table in ["lookalike_log", "blog"] {
        db.exec(&format!(
            "CREATE TABLE {table} (id {id}, action {text}, object_pk {text}, changes {text}, \
             user_id BIGINT, created_at {created_at})"
        ))
        .await;
        let rows: Vec<Row> = (0..5)
            .map(|_| Row {
                changes: Some("{}"),
                ..row("1", old)
            })
            .collect();
        insert(&db, table, &rows).await;
    }
    let refused = |result: Result<PruneReport, Error>, why: &str| match result {
        Err(Error::NotALogTable { table, reason }) => {
            assert!(reason.contains(why), "{table}: {reason}");
        }
        other => panic!("expected NotALogTable ({why}), got {other:?}"),
    };
    let prune = |table: &str| {
        Prune::table(&auditor, table)
            .older_than(Duration::from_secs(60))
            .keep_last(1)
    };
    refused(
        prune("lookalike_log").run(|_| {}).await,
        "no column `before`, `after`",
    );
    refused(
        prune("lookalike_log").dry_run(true).run(|_| {}).await,
        "no column",
    );
    refused(
        Dedupe::table(&auditor, "lookalike_log").run(|_| {}).await,
        "no column",
    );
    for name in [
        "blog",
        "widget",
        "awesome_audit_log_tables",
        "awesome_audit_log_outbox",
        "awesome_audit_log_dead_letter",
        "widget_log; DROP TABLE widget_log",
        "widget_log\"",
        "",
    ] {
        refused(prune(name).run(|_| {}).await, "a log table's name");
        refused(
            Dedupe::table(&auditor, name).run(|_| {}).await,
            "a log table's name",
        );
    }
    refused(prune("nothing_log").run(|_| {}).await, "no such table");
    assert_eq!(db.count("lookalike_log").await, 5);
    assert_eq!(db.count("blog").await, 5);
    assert_eq!(db.count("widget_log").await, 1);

    if db.kind == Kind::Postgres {
        // A log table in PG_SCHEMA and its namesake in the default schema.
        let mut config = AuditConfig::default();
        config.pg_schema = Some("audit".to_owned());
        let in_schema = db.auditor(config);
        let _ = Widget::log_change(&in_schema, None, Some(&widget(2, 1)))
            .await
            .unwrap();
        insert(&db, "audit.widget_log", &[row("2", old), row("2", old)]).await;
        insert(&db, "widget_log", &[row("2", old)]).await;
        let report = Prune::table(&in_schema, "widget_log")
            .older_than(Duration::from_secs(60))
            .run(|_| {})
            .await
            .unwrap();
        assert_eq!(report.rows, 2);
        assert_eq!(db.count("audit.widget_log").await, 1);
        assert_eq!(db.count("widget_log").await, 2);
    }
}
