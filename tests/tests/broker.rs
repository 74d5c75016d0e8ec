//! The broker transport (`ASYNC_TRANSPORT = "redis"`) against the Redis
//! server at `AUDIT_TEST_REDIS_URL`, writing into SQLite, and into
//! PostgreSQL and MySQL / MariaDB when their URLs are set. Each test uses
//! streams of its own and deletes them afterwards. Without
//! `AUDIT_TEST_REDIS_URL` at build time the tests that need Redis are
//! ignored (`tests/build.rs`), and print that they were skipped if run
//! anyway; with `AUDIT_TEST_REQUIRE_ALL=1` a missing URL is a failure.

use std::time::Duration;

use awesome_audit_log::broker::BrokerWorker;
use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::context::{self, AuditContext, AuditUser};
use awesome_audit_log::{AuditConfig, Auditor, Error, LogOutcome};
use awesome_audit_log_tests::models::{Account, AccountLog, Widget, WidgetLog};
use awesome_audit_log_tests::stream::TestStream as Stream;
use awesome_audit_log_tests::{Kind, TestDb};

/// The Redis URL, or `None` (after saying so) when it is not set.
fn redis_url() -> Option<String> {
    match std::env::var("AUDIT_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("AUDIT_TEST_REQUIRE_ALL").as_deref() == Ok("1") {
                panic!("AUDIT_TEST_REQUIRE_ALL=1 but AUDIT_TEST_REDIS_URL is not set");
            }
            awesome_audit_log_tests::harness::say_skipped("AUDIT_TEST_REDIS_URL");
            None
        }
    }
}

/// The databases to run against: SQLite, plus the servers whose URLs are set.
async fn databases() -> Vec<TestDb> {
    let mut all = Vec::new();
    for kind in [Kind::Sqlite, Kind::Postgres, Kind::MySql] {
        all.extend(TestDb::new(kind).await);
    }
    all
}

fn worker(auditor: &Auditor, name: &str) -> BrokerWorker {
    auditor.broker_worker(name).unwrap()
}

fn widget(id: i64, qty: i32) -> Widget {
    Widget {
        id,
        name: "B".to_owned(),
        qty,
    }
}

/// The rows of the broker equal the rows the synchronous path writes for the
/// same changes, context columns and correlation id included (the worker
/// has none of its own).
#[tokio::test]
#[cfg_attr(
    aal_no_redis,
    ignore = "set AUDIT_TEST_REDIS_URL to run the broker tests"
)]
async fn broker_rows_equal_sync_rows() {
    let Some(url) = redis_url() else { return };
    for db in databases().await {
        let stream = Stream::new(&url);
        let sync = db.auditor(AuditConfig::default());
        let broker = db.auditor(stream.config());
        let ctx = AuditContext::job("shop.jobs.recount", Some("shop::jobs"))
            .with_ip("192.0.2.7")
            .with_user(Some(7), Some("ada".to_owned()));
        context::scope(ctx, async {
            context::set_user(AuditUser::new(7, "ada"));
            for (auditor, id) in [(&sync, "acc-1"), (&broker, "acc-2")] {
                let a = Account::sample(id);
                let b = Account {
                    balance: 99.5,
                    note: Some("ünïcode \"quoted\"".to_owned()),
                    ..a.clone()
                };
                let _ = Account::log_change(auditor, None, Some(&a)).await.unwrap();
                let _ = Account::log_change(auditor, Some(&a), Some(&b))
                    .await
                    .unwrap();
                let outcome = Account::log_changes(auditor, [(Some(&b), None)])
                    .await
                    .unwrap();
                assert_eq!(outcome.written + outcome.queued, 1);
            }
        })
        .await;
        assert_eq!(broker.stats().queued, 3);
        assert_eq!(broker.stats().written, 0);
        assert_eq!(stream.len(&stream.name).await, 3);
        assert!(
            AccountLog::for_object(&sync, "acc-2")
                .await
                .unwrap()
                .is_empty(),
            "nothing is written before a worker runs"
        );

        let worker = worker(&broker, "w1");
        assert_eq!(worker.drain().await.unwrap(), 3);
        assert_eq!(worker.stats().acked, 3);
        assert_eq!(
            stream.len(&stream.name).await,
            0,
            "acknowledged entries are deleted"
        );

        let normalize = |rows: Vec<AccountLog>| {
            rows.into_iter()
                .map(|mut row| {
                    let text = |v: Option<serde_json::Value>| {
                        v.map(|v| v.to_string().replace("acc-1", "acc-2"))
                    };
                    row.id = 0;
                    row.object_pk = row.object_pk.replace("acc-1", "acc-2");
                    row.created_at = chrono::DateTime::UNIX_EPOCH;
                    (
                        text(row.before.take()),
                        text(row.after.take()),
                        text(row.changes.take()),
                        row,
                    )
                })
                .collect::<Vec<_>>()
        };
        let sync_rows = normalize(AccountLog::for_object(&sync, "acc-1").await.unwrap());
        let broker_rows = normalize(AccountLog::for_object(&sync, "acc-2").await.unwrap());
        assert_eq!(sync_rows.len(), 3, "{:?}", db.kind);
        assert_eq!(broker_rows, sync_rows, "{:?}", db.kind);
        assert_eq!(broker_rows[0].3.user_name.as_deref(), Some("ada"));
        assert_eq!(broker_rows[0].3.entry_point.as_deref(), Some("celery_task"));

        // One scope, one correlation id: the broker's rows carry it too.
        let ids = db
            .texts("SELECT correlation_id FROM account_log ORDER BY id")
            .await;
        assert_eq!(ids.len(), 6, "{:?}", db.kind);
        assert!(ids[0].is_some(), "{:?}", db.kind);
        assert!(ids.iter().all(|id| *id == ids[0]), "{:?}: {ids:?}", db.kind);
    }
}

/// `created_at` is the time of `log_change`, not the time the worker
/// writes the row (here more than a second later).
#[tokio::test]
#[cfg_attr(
    aal_no_redis,
    ignore = "set AUDIT_TEST_REDIS_URL to run the broker tests"
)]
async fn created_at_is_the_event_time() {
    let Some(url) = redis_url() else { return };
    for db in databases().await {
        let stream = Stream::new(&url);
        let auditor = db.auditor(stream.config());
        let before = chrono::Utc::now();
        let outcome = Widget::log_change(&auditor, None, Some(&widget(1, 2)))
            .await
            .unwrap();
        let after = chrono::Utc::now();
        assert_eq!(outcome, LogOutcome::Queued);
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let written_from = chrono::Utc::now();
        worker(&auditor, "w1").drain().await.unwrap();
        let rows = WidgetLog::for_object(&auditor, &1).await.unwrap();
        assert_eq!(rows.len(), 1);
        let created_at = rows[0].created_at;
        assert!(
            created_at.timestamp_micros() >= before.timestamp_micros() - 1 && created_at <= after,
            "{created_at} is within the call ({before} .. {after}), {:?}",
            db.kind
        );
        assert!(written_from - created_at >= chrono::TimeDelta::seconds(1));
    }
}

/// Two consumers: one reads a batch and dies without acknowledging it, the
/// other reclaims it once it has been idle for the claim time. An entry
/// delivered again after its row was written (a consumer killed between the
/// commit and the XACK) is skipped by its event id; two live consumers
/// share the rest. Exactly one row per event in the end.
#[tokio::test]
#[cfg_attr(
    aal_no_redis,
    ignore = "set AUDIT_TEST_REDIS_URL to run the broker tests"
)]
async fn killed_consumer_is_reclaimed_and_each_event_logged_once() {
    let Some(url) = redis_url() else { return };
    for db in databases().await {
        let stream = Stream::new(&url);
        let mut config = stream.config();
        config.redis_claim_idle_ms = 300;
        let auditor = db.auditor(config.clone());
        let widgets: Vec<Widget> = (1..=30).map(|id| widget(id, 1)).collect();
        let outcome = Widget::log_changes(&auditor, widgets.iter().map(|w| (None, Some(w))))
            .await
            .unwrap();
        assert_eq!(outcome.queued, 30);

        // A copy of every entry, to deliver some again later.
        let mut redis = stream.connection().await;
        let copies: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(&stream.name)
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(copies.ids.len(), 30);

        // The consumer "dead" takes 10 entries and stops without acknowledging them.
        let _: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&stream.name)
            .arg(&config.redis_group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut redis)
            .await;
        let taken: redis::streams::StreamReadReply = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(&config.redis_group)
            .arg("dead")
            .arg("COUNT")
            .arg(10)
            .arg("STREAMS")
            .arg(&stream.name)
            .arg(">")
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(taken.keys[0].ids.len(), 10);

        // A live consumer writes the other 20 at once; the dead one's 10
        // only once they have been idle for the claim time.
        let live = worker(&auditor, "live-1").batch_size(7);
        let mut acked = live.drain().await.unwrap();
        assert!(acked >= 20, "{acked}");
        tokio::time::sleep(Duration::from_millis(400)).await;
        acked += live.drain().await.unwrap();
        assert_eq!(acked, 30);
        assert_eq!(live.stats().reclaimed, 10);
        assert_eq!(db.count("widget_log").await, 30, "{:?}", db.kind);

        // Redelivery of 5 entries whose rows are already written.
        for copy in &copies.ids[..5] {
            let mut add = redis::cmd("XADD");
            add.arg(&stream.name).arg("*");
            for (name, value) in &copy.map {
                if let redis::Value::BulkString(bytes) = value {
                    add.arg(name).arg(bytes.as_slice());
                }
            }
            let _: String = add.query_async(&mut redis).await.unwrap();
        }
        // More events, shared by two live consumers running at once.
        let more: Vec<Widget> = (31..=130).map(|id| widget(id, 1)).collect();
        let _ = Widget::log_changes(&auditor, more.iter().map(|w| (None, Some(w))))
            .await
            .unwrap();
        let other = worker(&auditor, "live-2").batch_size(9);
        let (a, b) = tokio::join!(live.drain(), other.drain());
        assert_eq!(a.unwrap() + b.unwrap(), 105);

        let logged = db
            .ids("SELECT CAST(object_pk AS BIGINT) FROM widget_log")
            .await;
        assert_eq!(
            logged,
            (1..=130).collect::<Vec<i64>>(),
            "exactly one row per event, {:?}",
            db.kind
        );
        assert_eq!(stream.len(&stream.name).await, 0);
        assert_eq!(stream.len(&stream.dead()).await, 0);
    }
}

/// In a transaction whose audit database is another one, the events are
/// published only when it commits: a rollback publishes nothing.
#[tokio::test]
#[cfg_attr(
    aal_no_redis,
    ignore = "set AUDIT_TEST_REDIS_URL to run the broker tests"
)]
async fn rollback_publishes_nothing() {
    let Some(url) = redis_url() else { return };
    for db in databases().await {
        let stream = Stream::new(&url);
        let mut config = stream.config();
        config.database_alias = "audit".to_owned();
        let app = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let auditor = Auditor::builder(config)
            .database("default", app)
            .database("audit", db.database())
            .build()
            .unwrap();

        let mut tx = auditor.begin::<sqlx::Sqlite>("default").await.unwrap();
        let outcome = Widget::log_change_in(&mut tx, None, Some(&widget(1, 1)))
            .await
            .unwrap();
        assert_eq!(outcome, LogOutcome::Deferred);
        tx.rollback().await.unwrap();
        assert_eq!(stream.len(&stream.name).await, 0, "nothing published");

        let mut tx = auditor.begin::<sqlx::Sqlite>("default").await.unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&widget(2, 1)))
            .await
            .unwrap();
        assert_eq!(stream.len(&stream.name).await, 0, "not before the commit");
        tx.commit().await.unwrap();
        assert_eq!(stream.len(&stream.name).await, 1);

        assert_eq!(worker(&auditor, "w1").drain().await.unwrap(), 1);
        assert!(
            WidgetLog::for_object(&auditor, &1)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(WidgetLog::for_object(&auditor, &2).await.unwrap().len(), 1);
    }
}

/// Redis unreachable (a closed port on 127.0.0.1): an error with
/// RAISE_ERROR_IF_DB_UNAVAILABLE, else a counted warning; never silent.
#[tokio::test]
async fn unreachable_redis_is_an_error_or_a_counted_skip() {
    let db = TestDb::new(Kind::Sqlite).await.unwrap();
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Redis;
    config.redis_url = Some("redis://127.0.0.1:1".to_owned());
    config.redis_timeout_ms = 2_000;

    config.raise_error_if_db_unavailable = true;
    let auditor = db.auditor(config.clone());
    let err = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Broker { .. }), "{err}");
    assert!(err.to_string().contains("awesome_audit_log"), "{err}");
    assert_eq!(auditor.stats().failed, 1);
    assert_eq!(auditor.stats().queued, 0);

    config.raise_error_if_db_unavailable = false;
    let auditor = db.auditor(config);
    let outcome = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    assert_eq!(outcome, LogOutcome::Skipped);
    let batch = [widget(2, 1), widget(3, 1)];
    let outcome = Widget::log_changes(&auditor, batch.iter().map(|w| (None, Some(w))))
        .await
        .unwrap();
    assert_eq!(outcome.skipped, 2);
    assert_eq!(auditor.stats().skipped, 3);

    let err = worker(&auditor, "w1").drain_once().await.unwrap_err();
    assert!(matches!(err, Error::Broker { .. }), "{err}");
}

/// Entries that cannot be written do not block the stream: malformed ones,
/// and rows the database rejects (PostgreSQL JSONB refuses NUL), are logged,
/// counted, moved to `<stream>:dead` and acknowledged.
#[tokio::test]
#[cfg_attr(
    aal_no_redis,
    ignore = "set AUDIT_TEST_REDIS_URL to run the broker tests"
)]
async fn malformed_and_rejected_entries_are_set_aside() {
    let Some(url) = redis_url() else { return };
    for db in databases().await {
        let stream = Stream::new(&url);
        let auditor = db.auditor(stream.config());
        let mut redis = stream.connection().await;
        let _: String = redis::cmd("XADD")
            .arg(&stream.name)
            .arg("*")
            .arg("v")
            .arg("1")
            .arg("log_table")
            .arg("widget_log; DROP TABLE widget_log")
            .arg("event_id")
            .arg("x")
            .arg("event")
            .arg("{}")
            .query_async(&mut redis)
            .await
            .unwrap();
        let _ = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
            .await
            .unwrap();
        let nul = Widget {
            name: "nul\0byte".to_owned(),
            ..widget(2, 1)
        };
        let _ = Widget::log_change(&auditor, None, Some(&nul))
            .await
            .unwrap();
        let _ = Widget::log_change(&auditor, None, Some(&widget(3, 1)))
            .await
            .unwrap();

        let worker = worker(&auditor, "w1");
        assert_eq!(worker.drain().await.unwrap(), 4);
        let stats = worker.stats();
        assert_eq!(stats.malformed, 1);
        let rejected = u64::from(db.kind == Kind::Postgres);
        assert_eq!(stats.rejected, rejected, "{:?}", db.kind);
        assert_eq!(db.count("widget_log").await, 3 - rejected as i64);
        assert_eq!(auditor.stats().failed, 1 + rejected);
        assert_eq!(stream.len(&stream.name).await, 0);
        assert_eq!(stream.len(&stream.dead()).await, 1 + rejected as usize);
        let dead: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream.dead())
            .arg("-")
            .arg("+")
            .query_async(&mut redis)
            .await
            .unwrap();
        let error: String = redis::from_redis_value(dead.ids[0].map["error"].clone()).unwrap();
        assert!(error.contains("malformed"), "{error}");
    }
}

/// While the audit database is down the worker keeps the batch
/// unacknowledged and retries; once it is back, everything is written.
#[tokio::test]
#[cfg_attr(
    aal_no_redis,
    ignore = "set AUDIT_TEST_REDIS_URL to run the broker tests"
)]
async fn worker_retries_while_the_database_is_down() {
    let Some(url) = redis_url() else { return };
    let stream = Stream::new(&url);
    let dir = tempfile::tempdir().unwrap();
    let later = dir.path().join("later");
    let options: sqlx::sqlite::SqliteConnectOptions =
        format!("sqlite://{}/audit.db", later.display())
            .parse()
            .unwrap();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .acquire_timeout(Duration::from_secs(2))
        .connect_lazy_with(options.create_if_missing(true));
    let auditor = Auditor::builder(stream.config())
        .database("default", pool)
        .build()
        .unwrap();
    for id in 1..=5 {
        let _ = Widget::log_change(&auditor, None, Some(&widget(id, 1)))
            .await
            .unwrap();
    }
    let worker = worker(&auditor, "w1").block(Duration::from_millis(50));
    let err = worker.drain_once().await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
    assert_eq!(worker.stats().acked, 0);
    assert_eq!(stream.len(&stream.name).await, 5, "still in the stream");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        worker
            .run(async {
                let _ = stopped.await;
            })
            .await;
        worker
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::create_dir_all(&later).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while stream.len(&stream.name).await > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    let worker = running.await.unwrap();
    assert_eq!(worker.stats().acked, 5);
    for id in 1..=5 {
        assert_eq!(WidgetLog::for_object(&auditor, &id).await.unwrap().len(), 1);
    }
    assert!(auditor.stats().retried > 0);
}

/// A row the database refuses, in each position of a batch in turn, goes to
/// the dead-letter stream and the rest are written; a lock timeout (another
/// session holds the log table) is not the rows' fault: the batch stays
/// pending, nothing is set aside, and it is written once the lock is gone.
#[tokio::test]
#[cfg_attr(
    aal_no_redis,
    ignore = "set AUDIT_TEST_REDIS_URL to run the broker tests"
)]
async fn refused_rows_are_set_aside_and_lock_timeouts_retried() {
    use awesome_audit_log_tests::suite::{batch_refused_at, locked_out, refuse_widget_13};
    let Some(url) = redis_url() else { return };
    for db in databases().await {
        let stream = Stream::new(&url);
        refuse_widget_13(&db).await;
        let producer = db.auditor(stream.config());
        for position in 0..5 {
            let widgets = batch_refused_at(5, position);
            let _ = Widget::log_changes(&producer, widgets.iter().map(|w| (None, Some(w))))
                .await
                .unwrap();
        }
        let (database, holder) = locked_out(&db).await;
        let consumer = Auditor::builder(stream.config())
            .database("default", database)
            .build()
            .unwrap();
        let worker = worker(&consumer, "w1").batch_size(5);
        let locked = worker.drain_once().await;
        assert!(locked.is_err(), "{:?}: {locked:?}", db.kind);
        assert_eq!(stream.len(&stream.dead()).await, 0, "{:?}", db.kind);
        holder.release().await;
        assert_eq!(worker.drain().await.unwrap(), 25, "{:?}", db.kind);
        assert_eq!(db.count("widget_log").await, 20, "{:?}", db.kind);
        assert_eq!(stream.len(&stream.dead()).await, 5, "{:?}", db.kind);
        assert_eq!(worker.stats().rejected, 5, "{:?}", db.kind);
        assert_eq!(stream.len(&stream.name).await, 0, "{:?}", db.kind);
    }
}
