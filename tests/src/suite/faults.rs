//! Faults injected into the write path: a row the database refuses in every
//! batch position, lock timeouts, answers lost after a commit, a dropped
//! auditor, concurrent shutdowns, a table whose creation rolled back or that
//! was renamed away, small pools, rows larger than a statement may be. Each
//! case counts exactly one row (or one dead letter) per change, with
//! nothing stuck.

use std::time::Duration;

use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::{AuditConfig, Auditor, Database, Error};

use super::fixtures::{Outage, async_config, widget};
use crate::models::{Gizmo, Widget, WidgetLog};
use crate::{Kind, TestDb};

/// The dead-letter table.
const DEAD: &str = "awesome_audit_log_dead_letter";

/// Creates `widget_log` as the auditor would, with a rule that refuses the
/// rows of widget 13: a CHECK constraint (a trigger on SQLite, which cannot
/// add one to an existing table).
pub async fn refuse_widget_13(db: &TestDb) {
    match db.kind {
        Kind::Postgres => db.exec(WidgetLog::DDL_POSTGRES).await,
        Kind::MySql => db.exec(WidgetLog::DDL_MYSQL).await,
        Kind::Sqlite => db.exec(WidgetLog::DDL_SQLITE).await,
    }
    match db.kind {
        Kind::Sqlite => {
            db.exec(
                "CREATE TRIGGER refuse_13 BEFORE INSERT ON widget_log \
                 WHEN NEW.object_pk = '13' BEGIN SELECT RAISE(ABORT, 'widget 13 is refused'); END",
            )
            .await;
        }
        Kind::Postgres | Kind::MySql => {
            db.exec("ALTER TABLE widget_log ADD CONSTRAINT refuse_13 CHECK (object_pk <> '13')")
                .await;
        }
    }
}

/// `len` new widgets, the one at `position` widget 13 (which
/// [`refuse_widget_13`] makes the database refuse), the others with ids
/// of their own for each position.
pub fn batch_refused_at(len: i64, position: i64) -> Vec<Widget> {
    (0..len)
        .map(|i| {
            let id = if i == position {
                13
            } else {
                100 * (position + 1) + i
            };
            widget(id, 1)
        })
        .collect()
}

/// Waits up to `limit` for `check` to hold.
async fn eventually(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check().await
}

/// The in-process writer: a batch with a refused row in each position in
/// turn writes every other row, and keeps the refused one in the
/// dead-letter table with the reason.
pub async fn writer_isolates_a_refused_row_in_every_position(db: TestDb) {
    refuse_widget_13(&db).await;
    let mut config = async_config();
    config.async_linger_ms = 50;
    let auditor = db.auditor(config);
    const BATCH: i64 = 9;
    for position in 0..BATCH {
        let widgets = batch_refused_at(BATCH, position);
        let changes = widgets.iter().map(|w| (None, Some(w)));
        let outcome = Widget::log_changes(&auditor, changes).await.unwrap();
        assert_eq!(outcome.queued, BATCH as usize);
        tokio::time::timeout(Duration::from_secs(30), auditor.flush())
            .await
            .expect("flush returns");
    }
    let stats = auditor.stats();
    assert_eq!(
        db.count("widget_log").await,
        BATCH * (BATCH - 1),
        "{stats:?}"
    );
    assert_eq!(db.count(DEAD).await, BATCH, "{stats:?}");
    assert_eq!(stats.dead_lettered, BATCH as u64);
    assert_eq!(stats.written, (BATCH * (BATCH - 1)) as u64);
    assert_eq!(stats.failed, 0);
    let dead = db
        .ids(&format!(
            "SELECT CAST(object_pk AS BIGINT) FROM {DEAD} WHERE log_table = 'widget_log' \
             AND reason LIKE '%refused by the database%' AND after IS NOT NULL"
        ))
        .await;
    assert_eq!(dead, vec![13; BATCH as usize]);
}

/// The outbox: rows the log table refuses, anywhere in a batch, go to the
/// dead-letter table (copied as they were) and the queue moves on.
pub async fn outbox_moves_past_refused_rows(db: TestDb) {
    refuse_widget_13(&db).await;
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    let auditor = db.auditor(config);
    // Widget 13 at positions 0, 5, 10 and 15: with batches of 4, each
    // position in a batch once.
    let ids: Vec<i64> = (0..16)
        .map(|i| if i % 5 == 0 { 13 } else { 100 + i })
        .collect();
    for_backend!(db, |DB| {
        for id in &ids {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            let _ = Widget::log_change_in(&mut tx, None, Some(&widget(*id, 1)))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    });
    let worker = auditor.outbox_worker("default").unwrap().batch_size(4);
    let moved = tokio::time::timeout(Duration::from_secs(30), worker.drain())
        .await
        .expect("the worker is not stuck")
        .unwrap();
    assert_eq!(moved, ids.len());
    assert_eq!(db.count("awesome_audit_log_outbox").await, 0);
    assert_eq!(db.count("widget_log").await, 12);
    assert_eq!(db.count(DEAD).await, 4);
    let dead = db
        .ids(&format!(
            "SELECT CAST(object_pk AS BIGINT) FROM {DEAD} \
             WHERE reason LIKE '%refused%' AND event_id IS NOT NULL AND after LIKE '%\"qty\"%'"
        ))
        .await;
    assert_eq!(dead, vec![13; 4]);
    assert_eq!(auditor.stats().dead_lettered, 4);
}

/// Lock and statement timeouts (another session holds the log table) are
/// retried by the writer until the lock is gone: nothing lost.
pub async fn writer_retries_lock_timeouts(db: TestDb) {
    // The table exists before the lock is taken.
    let warm = db.auditor(AuditConfig::default());
    let _ = Widget::log_change(&warm, None, Some(&widget(0, 0)))
        .await
        .unwrap();
    let (database, holder) = locked_out(&db).await;
    let auditor = Auditor::builder(async_config())
        .database("default", database)
        .build()
        .unwrap();
    for id in 1..=30 {
        let _ = Widget::log_change(&auditor, None, Some(&widget(id, 1)))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    holder.release().await;
    tokio::time::timeout(Duration::from_secs(30), auditor.flush())
        .await
        .expect("flush returns");
    let stats = auditor.stats();
    assert_eq!(db.count("widget_log").await, 31, "{stats:?}");
    assert!(stats.retried > 0, "the lock was never hit: {stats:?}");
    assert_eq!((stats.failed, stats.dead_lettered), (0, 0), "{stats:?}");
}

/// A session holding a lock on `widget_log`; see [`locked_out`].
pub struct LockHolder(Box<dyn FnOnce() -> futures_util::future::BoxFuture<'static, ()> + Send>);

impl LockHolder {
    /// Lets go of the lock.
    pub async fn release(self) {
        (self.0)().await;
    }
}

/// `holder`'s lock, let go of by running `release` on it.
fn holding<C>(mut holder: C, release: &'static str) -> LockHolder
where
    C: sqlx::Connection + 'static,
    for<'c> &'c mut C: sqlx::Executor<'c, Database = C::Database>,
{
    use futures_util::FutureExt;
    LockHolder(Box::new(move || {
        async move {
            sqlx::raw_sql(release).execute(&mut holder).await.unwrap();
            holder.close().await.unwrap();
        }
        .boxed()
    }))
}

/// A session holding a lock on `widget_log` (which must exist), and a
/// database whose sessions give up waiting for such a lock quickly.
pub async fn locked_out(db: &TestDb) -> (Database, LockHolder) {
    use sqlx::ConnectOptions;
    match db.kind {
        Kind::Postgres => {
            let options: sqlx::postgres::PgConnectOptions = db.url.parse().unwrap();
            let mut holder = options.connect().await.unwrap();
            sqlx::raw_sql("BEGIN; LOCK TABLE widget_log IN ACCESS EXCLUSIVE MODE")
                .execute(&mut holder)
                .await
                .unwrap();
            let pool = sqlx::PgPool::connect_with(options.options([("lock_timeout", "100ms")]))
                .await
                .unwrap();
            (pool.into(), holding(holder, "ROLLBACK"))
        }
        Kind::MySql => {
            let options: sqlx::mysql::MySqlConnectOptions = db.url.parse().unwrap();
            let mut holder = options.connect().await.unwrap();
            sqlx::raw_sql("LOCK TABLES widget_log WRITE")
                .execute(&mut holder)
                .await
                .unwrap();
            let pool = sqlx::mysql::MySqlPoolOptions::new()
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::raw_sql("SET SESSION lock_wait_timeout = 1")
                            .execute(conn)
                            .await
                            .map(drop)
                    })
                })
                .connect_with(options)
                .await
                .unwrap();
            (pool.into(), holding(holder, "UNLOCK TABLES"))
        }
        Kind::Sqlite => {
            let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().unwrap();
            let mut holder = options.connect().await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut holder)
                .await
                .unwrap();
            let pool =
                sqlx::SqlitePool::connect_with(options.busy_timeout(Duration::from_millis(100)))
                    .await
                    .unwrap();
            (pool.into(), holding(holder, "ROLLBACK"))
        }
    }
}

/// A table whose first-use creation rolled back with the transaction, or
/// that was renamed away later, is created again: the cache remembers a
/// table only once its creation committed, and forgets one that has gone.
pub async fn tables_are_remembered_only_once_committed(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&widget(1, 1)))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&widget(2, 1)))
            .await
            .expect("a table whose creation rolled back is created again");
        tx.commit().await.unwrap();
        assert_eq!(db.count("widget_log").await, 1);

        // Known to exist (a write outside a transaction proves it), then
        // renamed away as a rotation would: the first write inside a
        // transaction may fail (PostgreSQL aborts the transaction at the
        // missing table), the next ones create it again.
        let _ = Widget::log_change(&auditor, None, Some(&widget(6, 1)))
            .await
            .unwrap();
        db.exec("ALTER TABLE widget_log RENAME TO widget_log_old")
            .await;
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let first = Widget::log_change_in(&mut tx, None, Some(&widget(3, 1))).await;
        if first.is_ok() {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
        for id in 4..=5 {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            let _ = Widget::log_change_in(&mut tx, None, Some(&widget(id, 1)))
                .await
                .expect("a table that has gone is created again");
            tx.commit().await.unwrap();
        }
        let expected = if first.is_ok() { 3 } else { 2 };
        assert_eq!(db.count("widget_log_old").await, 2);
        assert_eq!(db.count("widget_log").await, expected);
    });
}

/// Dropping every auditor without `shutdown()`: the writer still writes
/// what was queued, then ends (its task and connections gone); two
/// concurrent `shutdown()`s both return only once the rows are written.
pub async fn writer_ends_with_its_auditor_and_shutdowns_wait(db: TestDb) {
    let (outage, database) = Outage::new(&db).await;
    let alive = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let before = alive();
    let sessions_before = db.sessions().await;
    let auditor = Auditor::builder(async_config())
        .database("default", database.clone())
        .build()
        .unwrap();
    outage.down();
    for id in 1..=10 {
        let _ = Widget::log_change(&auditor, None, Some(&widget(id, 1)))
            .await
            .unwrap();
    }
    drop(auditor);
    tokio::time::sleep(Duration::from_millis(300)).await;
    outage.up();
    // Read through the same database (on SQLite the outage's own file).
    let reader = Auditor::builder(AuditConfig::default())
        .database("default", database)
        .build()
        .unwrap();
    let mut written = 0;
    assert!(
        eventually(Duration::from_secs(30), async || {
            written = 0;
            for id in 1..=10 {
                written += WidgetLog::for_object(&reader, &id).await.unwrap().len();
            }
            written == 10
        })
        .await,
        "the rows queued before the drop are written: {written} of 10"
    );
    drop(reader);
    assert!(
        eventually(Duration::from_secs(15), async || alive() <= before).await,
        "the writer's task ends with its last auditor: {} tasks alive, {before} before",
        alive()
    );
    let mut sessions = None;
    assert!(
        eventually(Duration::from_secs(15), async || {
            sessions = db.sessions().await;
            sessions <= sessions_before
        })
        .await,
        "the writer's connections are closed: {sessions:?} sessions, {sessions_before:?} before"
    );

    // Two shutdowns at once, while the database is away.
    let (outage, database) = Outage::new(&db).await;
    let auditor = Auditor::builder(async_config())
        .database("default", database)
        .build()
        .unwrap();
    outage.down();
    for id in 11..=20 {
        let _ = Widget::log_change(&auditor, None, Some(&widget(id, 1)))
            .await
            .unwrap();
    }
    let shutdowns: Vec<_> = (0..2)
        .map(|_| {
            let auditor = auditor.clone();
            tokio::spawn(async move { auditor.shutdown().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        shutdowns.iter().all(|shutdown| !shutdown.is_finished()),
        "no shutdown returns while its rows are not written"
    );
    outage.up();
    for shutdown in shutdowns {
        tokio::time::timeout(Duration::from_secs(30), shutdown)
            .await
            .expect("shutdown returns")
            .unwrap();
        let mut written = 0;
        for id in 11..=20 {
            written += WidgetLog::for_object(&auditor, &id).await.unwrap().len();
        }
        assert_eq!(written, 10, "written when shutdown returns");
    }
}

/// Answers lost after the server committed (the connection cut before the
/// answer arrives) make the writer retry, and the retry writes nothing
/// twice: exactly one row per change.
pub async fn writer_writes_once_after_lost_answers(db: TestDb) {
    let (proxy, database) = db.behind_proxy_with(false).await.expect("a server backend");
    let auditor = Auditor::builder(async_config())
        .database("default", database)
        .build()
        .unwrap();
    let _ = Widget::log_change(&auditor, None, Some(&widget(0, 0)))
        .await
        .unwrap();
    auditor.flush().await;
    for round in 0..4 {
        proxy.lose_answers(true);
        for id in 1..=25 {
            let _ = Widget::log_change(&auditor, None, Some(&widget(round * 100 + id, 1)))
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        proxy.lose_answers(false);
        tokio::time::timeout(Duration::from_secs(30), auditor.flush())
            .await
            .expect("flush returns");
    }
    let stats = auditor.stats();
    assert!(stats.retried > 0, "no answer was lost: {stats:?}");
    assert_eq!(db.count("widget_log").await, 101, "{stats:?}");
    let distinct = db
        .ids("SELECT CAST(COUNT(DISTINCT object_pk) AS BIGINT) FROM widget_log")
        .await;
    assert_eq!(distinct, vec![101]);
}

/// First use of a log table inside transactions on a pool that holds just
/// those transactions: the table is created without a second connection
/// from the pool, so nobody waits for ever.
pub async fn first_use_in_transactions_on_a_full_pool(db: TestDb) {
    let pool: Database = match db.kind {
        Kind::Postgres => sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&db.url)
            .await
            .unwrap()
            .into(),
        Kind::MySql => sqlx::mysql::MySqlPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&db.url)
            .await
            .unwrap()
            .into(),
        Kind::Sqlite => unreachable!("server backends only"),
    };
    let auditor = Auditor::builder(AuditConfig::default())
        .database("default", pool)
        .build()
        .unwrap();
    for_backend!(db, |DB| {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = (1..=2)
            .map(|id| {
                let auditor = auditor.clone();
                let barrier = std::sync::Arc::clone(&barrier);
                tokio::spawn(async move {
                    let mut tx = auditor.begin::<DB>("default").await.unwrap();
                    barrier.wait().await;
                    let _ = Gizmo::log_change_in(&mut tx, None, Some(&Gizmo { id, qty: 1 }))
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                })
            })
            .collect();
        for task in tasks {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("no transaction waits for ever")
                .unwrap();
        }
    });
    assert_eq!(db.count("gizmo_log").await, 2);
}

/// A row larger than the database takes in one statement: on MySQL /
/// MariaDB (`max_allowed_packet`) a typed error before anything is sent,
/// and in the background writer a dead letter (without its JSON) while the
/// rows around it are written; PostgreSQL writes it.
pub async fn rows_larger_than_a_statement(db: TestDb) {
    let limit: i64 = match &db.pool {
        crate::harness::TestPool::MySql(pool) => {
            sqlx::query_scalar("SELECT CAST(@@max_allowed_packet AS SIGNED)")
                .fetch_one(pool)
                .await
                .unwrap()
        }
        _ => 16 * 1024 * 1024,
    };
    let big = Widget {
        name: "x".repeat(limit as usize + 1024),
        ..widget(2, 1)
    };
    let sync = db.auditor(AuditConfig::default());
    let result = Widget::log_change(&sync, None, Some(&big)).await;
    let background = db.auditor(async_config());
    let (small1, small3) = (widget(1, 1), widget(3, 1));
    let _ = Widget::log_changes(
        &background,
        [
            (None, Some(&small1)),
            (None, Some(&big)),
            (None, Some(&small3)),
        ],
    )
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(60), background.flush())
        .await
        .expect("flush returns");
    match db.kind {
        Kind::MySql => {
            assert!(
                matches!(result, Err(Error::RowTooLarge { .. })),
                "{result:?}"
            );
            assert_eq!(db.count("widget_log").await, 2);
            assert_eq!(background.stats().dead_lettered, 1);
            let dead = db
                .ids(&format!(
                    "SELECT CAST(object_pk AS SIGNED) FROM {DEAD} \
                     WHERE after IS NULL AND reason LIKE '%max_allowed_packet%'"
                ))
                .await;
            assert_eq!(dead, vec![2]);
        }
        _ => {
            let _ = result.unwrap();
            assert_eq!(db.count("widget_log").await, 4);
        }
    }
}

/// Outbox rows are read back as untrusted input: a log table name that is
/// not a plain identifier ending in `_log` (here one that tries to close
/// the quote and drop a table) and an unknown entry point are never used;
/// such rows go to the dead-letter table as they were, and the rows around
/// them are moved.
pub async fn outbox_sets_aside_rows_it_cannot_trust(db: TestDb) {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    let auditor = db.auditor(config);
    for_backend!(db, |DB| {
        for id in [1, 2] {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            let _ = Widget::log_change_in(&mut tx, None, Some(&widget(id, 1)))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    });
    let now = match db.kind {
        Kind::Postgres => "now()",
        Kind::MySql => "NOW(6)",
        Kind::Sqlite => "'2026-11-28T00:00:00.000000+00:00'",
    };
    db.exec(&format!(
        "INSERT INTO awesome_audit_log_outbox \
         (action, object_pk, after, entry_point, created_at, event_id, log_table) VALUES \
         ('insert', '7', '{{\"id\": 7}}', NULL, {now}, 'evil-1', \
          'widget_log\"; DROP TABLE widget_log; -- `_log'), \
         ('insert', '8', '{{\"id\": 8}}', 'cron', {now}, 'evil-2', 'widget_log')"
    ))
    .await;
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let _ = Widget::log_change_in(&mut tx, None, Some(&widget(3, 1)))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    });
    let worker = auditor.outbox_worker("default").unwrap();
    let moved = tokio::time::timeout(Duration::from_secs(30), worker.drain())
        .await
        .expect("the worker is not stuck")
        .unwrap();
    assert_eq!(moved, 5);
    assert_eq!(db.count("awesome_audit_log_outbox").await, 0);
    assert_eq!(db.count("widget_log").await, 3, "the log table is intact");
    let dead = db
        .ids(&format!(
            "SELECT CAST(object_pk AS BIGINT) FROM {DEAD} \
             WHERE reason LIKE '%not a log table name%' OR reason LIKE '%unknown entry point%' \
             ORDER BY object_pk"
        ))
        .await;
    assert_eq!(dead, vec![7, 8]);
}

fn outbox_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    config
}

/// Logs widgets `ids` through the outbox, one transaction each.
async fn log_through_the_outbox(db: &TestDb, auditor: &Auditor, ids: impl Iterator<Item = i64>) {
    for_backend!(db, |DB| {
        for id in ids {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            let _ = Widget::log_change_in(&mut tx, None, Some(&widget(id, 1)))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
    });
}

/// The outbox worker meets a lock timeout (another session holds the log
/// table): an error, nothing set aside, every row still in the outbox; once
/// the lock is gone, each row moves once.
pub async fn outbox_waits_out_lock_timeouts(db: TestDb) {
    let auditor = db.auditor(outbox_config());
    let _ = Widget::log_change(
        &db.auditor(AuditConfig::default()),
        None,
        Some(&widget(0, 0)),
    )
    .await
    .unwrap();
    log_through_the_outbox(&db, &auditor, 1..=10).await;
    let (database, holder) = locked_out(&db).await;
    let worker = Auditor::builder(outbox_config())
        .database("default", database)
        .build()
        .unwrap()
        .outbox_worker("default")
        .unwrap();
    let locked = worker.drain_once().await;
    assert!(locked.is_err(), "{locked:?}");
    assert_eq!(db.count("awesome_audit_log_outbox").await, 10);
    assert_eq!(db.count_if_exists(DEAD).await, 0);
    holder.release().await;
    assert_eq!(worker.drain().await.unwrap(), 10);
    assert_eq!(db.count("widget_log").await, 11);
    assert_eq!(db.count("awesome_audit_log_outbox").await, 0);
}

/// The outbox worker's connection loses answers (its insert or its commit
/// was done, the answer never came): it retries, and each change lands once.
pub async fn outbox_moves_once_through_lost_answers(db: TestDb) {
    let auditor = db.auditor(outbox_config());
    log_through_the_outbox(&db, &auditor, 1..=40).await;
    let (proxy, database) = db.behind_proxy_with(false).await.expect("a server backend");
    let worker = Auditor::builder(outbox_config())
        .database("default", database)
        .build()
        .unwrap()
        .outbox_worker("default")
        .unwrap()
        .batch_size(7);
    let mut failures = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while db.count("awesome_audit_log_outbox").await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the outbox drains");
        // Every other batch loses its answers.
        proxy.lose_answers(failures % 2 == 0);
        match worker.drain_once().await {
            Ok(_) => {}
            Err(_) => {
                failures += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    proxy.lose_answers(false);
    assert!(failures > 0, "no answer was lost");
    assert_eq!(db.count("widget_log").await, 40);
    let distinct = db
        .ids("SELECT CAST(COUNT(DISTINCT object_pk) AS BIGINT) FROM widget_log")
        .await;
    assert_eq!(distinct, vec![40]);
}
