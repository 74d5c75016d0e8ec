//! The audit context in trigger rows: inside a scope, the rows the triggers
//! write in an auditor's transaction (or in the application's own, handed
//! the context with `triggers::set_context`) carry the context `log_change`
//! writes in the same scope; outside one, NULL; and no context reaches
//! another request through a pooled connection, whether its transaction
//! committed, rolled back or was dropped.

use awesome_audit_log::context::{self, AuditContext, EntryPoint};
use awesome_audit_log::{AuditConfig, Auditor, triggers};
use sqlx::AssertSqlSafe;

use super::triggers::{Context, context_of, gadget, setup};
use crate::harness::TestPool;
use crate::models::{Gadget, GadgetLog};
use crate::{Kind, TestDb};

/// Runs `$body` with `$pool` the test's pool (or `$source`'s pool of the
/// same kind) and `$DB` its sqlx database type.
macro_rules! on_pool {
    ($source:expr, $pool:ident, $DB:ident => $body:block) => {
        match $source {
            TestPool::Sqlite($pool) => {
                #[allow(dead_code)]
                type $DB = sqlx::Sqlite;
                $body
            }
            TestPool::Postgres($pool) => {
                #[allow(dead_code)]
                type $DB = sqlx::Postgres;
                $body
            }
            TestPool::MySql($pool) => {
                #[allow(dead_code)]
                type $DB = sqlx::MySql;
                $body
            }
        }
    };
}

const NO_CONTEXT: Context = ([const { None }; 8], None);

/// A request's context, of user `user`.
fn request(user: i64) -> AuditContext {
    AuditContext::new(EntryPoint::Http)
        .with_route("/gadgets/{id}")
        .with_path(format!("/gadgets/{user}?x='1'"))
        // Longer than the column on MySQL and PostgreSQL: cut alike.
        .with_method("PROPPATCH-EXTENDED")
        .with_ip("203.0.113.9")
        .with_user(Some(user), Some(format!("user-{user} ünï")))
        .with_user_agent("agent/1.0")
}

/// The row of `gadget(id)` inserted with plain SQL on `conn`.
fn insert(kind: Kind, id: i64) -> AssertSqlSafe<String> {
    let token = match kind {
        Kind::Postgres => "'0190f1c2-aaaa-7bbb-8ccc-0123456789ab'".to_owned(),
        Kind::MySql => "UNHEX('0190f1c2aaaa7bbb8ccc0123456789ab')".to_owned(),
        Kind::Sqlite => "X'0190f1c2aaaa7bbb8ccc0123456789ab'".to_owned(),
    };
    AssertSqlSafe(format!(
        "INSERT INTO gadget (id, name, qty_col, active, note, day, seen_at, token, data, count, secret, cache) \
         VALUES ({id}, 'g', 1, TRUE, NULL, '2026-02-28', '2026-11-28 06:18:28', {token}, '{{}}', NULL, 's', 'c')"
    ))
}

/// The context `log_change` writes in a scope of `ctx`, once the triggers
/// are uninstalled (object 9's row).
async fn context_logged_by_call(auditor: &Auditor, ctx: AuditContext) -> Context {
    Gadget::uninstall_triggers(auditor).await.unwrap();
    let by_call = context::scope(ctx, async {
        let _ = Gadget::log_change(auditor, None, Some(&gadget(9)))
            .await
            .unwrap();
        rows(auditor, 9).await.remove(0)
    })
    .await;
    context_of(&by_call)
}

/// A pool of `size` connections to the test's database.
async fn small_pool(db: &TestDb, size: u32) -> TestPool {
    macro_rules! connect {
        () => {
            sqlx::pool::PoolOptions::new()
                .max_connections(size)
                .connect(&db.url)
                .await
                .unwrap()
        };
    }
    match &db.pool {
        TestPool::Sqlite(_) => TestPool::Sqlite(connect!()),
        TestPool::Postgres(_) => TestPool::Postgres(connect!()),
        TestPool::MySql(_) => TestPool::MySql(connect!()),
    }
}

/// Another process's auditor on `pool`: the triggers were installed by
/// another, so it is told to hand the context over.
fn context_auditor(pool: &TestPool) -> Auditor {
    let database = match pool {
        TestPool::Sqlite(pool) => awesome_audit_log::Database::from(pool.clone()),
        TestPool::Postgres(pool) => pool.clone().into(),
        TestPool::MySql(pool) => pool.clone().into(),
    };
    Auditor::builder(AuditConfig::default())
        .database("default", database)
        .trigger_context()
        .build()
        .unwrap()
}

/// An auditor's `begin` cancelled at any point (a request that times out
/// while its transaction begins: before `BEGIN`, during it, during the
/// hand-over, after it) leaves no context on the connection: on a pool of
/// one connection, the next user of the connection reads none.
///
/// (On PostgreSQL, sqlx's `begin` cancelled after sending `BEGIN` but before
/// its answer leaves that transaction open on the connection, whoever began
/// it. The auditor's `begin`, which sends the context with `BEGIN`, runs on
/// a task of its own that finishes what it sent, so no context is left in
/// such a transaction.)
pub async fn cancelled_begins_leave_no_context(db: TestDb) {
    let _installer = setup(&db, AuditConfig::default()).await;
    let one = small_pool(&db, 1).await;
    let auditor = context_auditor(&one);
    let seen = match db.kind {
        Kind::Postgres => {
            "SELECT COALESCE(current_setting('awesome_audit_log.user_name', true), '')"
        }
        Kind::MySql => "SELECT CAST(COALESCE(@awesome_audit_log_user_name, '') AS CHAR)",
        Kind::Sqlite => "SELECT COALESCE((SELECT user_name FROM awesome_audit_log_context), '')",
    };
    // Ten sweeps, each until a begin is given polls enough to finish: where
    // a poll ends moves with the timing, so one sweep can pass by the point
    // where a statement is sent but not yet answered.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    for _sweep in 0..10 {
        sweep_cancelled_begins(&one, &auditor, seen, deadline).await;
    }
}

/// Begins on `one` cancelled after 1, 2, … polls, until one finishes; after
/// each, the next user of the connection must read no context with `seen`.
async fn sweep_cancelled_begins(
    one: &TestPool,
    auditor: &Auditor,
    seen: &'static str,
    deadline: tokio::time::Instant,
) {
    for polls in 1.. {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no begin finished in {polls} polls"
        );
        let finished = context::scope(request(7), async {
            on_pool!(&one, _pool, DB => {
                // Begun or not, the transaction is dropped unfinished.
                poll_at_most(polls, auditor.begin::<DB>("default"))
                    .await
                    .map(|begun| begun.expect("the begin fails"))
                    .is_some()
            })
        })
        .await;
        let user: String = on_pool!(&one, pool, DB => {
            sqlx::query_scalar(seen).fetch_one(pool).await.unwrap()
        });
        assert_eq!(
            user, "",
            "cancelled after {polls} polls: the next user of the connection sees a context"
        );
        if finished {
            return;
        }
    }
}

/// Polls `work` at most `polls` times, letting other tasks (and the
/// sockets) run between polls, then drops it: a cancellation at a point
/// that moves through the work as `polls` grows, whatever the timers'
/// resolution.
async fn poll_at_most<F: Future>(polls: usize, work: F) -> Option<F::Output> {
    let mut work = std::pin::pin!(work);
    for _ in 0..polls {
        let poll = std::future::poll_fn(|cx| std::task::Poll::Ready(work.as_mut().poll(cx))).await;
        if let std::task::Poll::Ready(output) = poll {
            return Some(output);
        }
        tokio::task::yield_now().await;
    }
    None
}

/// The rows of object `id`, in order.
async fn rows(auditor: &Auditor, id: i64) -> Vec<GadgetLog> {
    GadgetLog::for_object(auditor, &id).await.unwrap()
}

/// Context values that a request controls reach the trigger rows exactly,
/// whatever quotes, backslashes, dollar quotes or SQL they hold (on
/// PostgreSQL they travel as literals with the transaction's `BEGIN`), and
/// run nothing.
pub async fn hostile_context_values_arrive_intact(db: TestDb) {
    let auditor = setup(&db, AuditConfig::default()).await;
    let kind = db.kind;
    let ctx = AuditContext::new(EntryPoint::Http)
        .with_route("/a'b\\'c")
        .with_path("/x?q=');DROP TABLE gadget;--&e=E'\\'")
        .with_method("GET")
        .with_ip("::1")
        .with_user(Some(-3), Some("o'hara \\ \"q\" $1 %s Zoë 🚀".into()))
        .with_user_agent("agent\\';SELECT pg_sleep(5);-- $aal$ x$aal")
        .with_correlation_id("c'\\");
    context::scope(ctx.clone(), async {
        on_pool!(&db.pool, _pool, DB => {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            sqlx::query(insert(kind, 1)).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        });
    })
    .await;
    let expected = context_logged_by_call(&auditor, ctx).await;
    assert_eq!(expected.1, Some(-3));
    assert_eq!(
        expected.0[5].as_deref(),
        Some("o'hara \\ \"q\" $1 %s Zoë 🚀")
    );
    let trigger_rows = rows(&auditor, 1).await;
    assert_eq!(trigger_rows.len(), 1, "the table is still there");
    assert_eq!(context_of(&trigger_rows[0]), expected);
}

/// A context value with a NUL character: MySQL/MariaDB and SQLite keep it,
/// so it reaches the trigger row as it reaches a `log_change` row;
/// PostgreSQL's text cannot hold it, so the auditor's `begin` fails with
/// the database's error, as `log_change` does. The context's settings fail
/// in the statement that carries `BEGIN` after them, which must leave the
/// connection as it found it: no transaction open, no context (a pool of
/// one), later transactions unharmed.
pub async fn context_values_with_nul_are_kept_or_refused(db: TestDb) {
    let _installer = setup(&db, AuditConfig::default()).await;
    let one = small_pool(&db, 1).await;
    let auditor = context_auditor(&one);
    let kind = db.kind;
    let ctx = request(5)
        .with_user_agent("agent\0/1")
        .with_correlation_id("c-5");
    // The one connection's server process, before the begin.
    let pid = match &one {
        TestPool::Postgres(pool) => Some(
            sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
                .fetch_one(pool)
                .await
                .unwrap(),
        ),
        _ => None,
    };
    let begun = context::scope(ctx.clone(), async {
        on_pool!(&one, _pool, DB => {
            match auditor.begin::<DB>("default").await {
                Ok(mut tx) => {
                    sqlx::query(insert(kind, 1)).execute(&mut *tx).await.unwrap();
                    tx.commit().await.unwrap();
                    Ok(())
                }
                Err(error) => Err(error),
            }
        })
    })
    .await;
    if kind != Kind::Postgres {
        begun.unwrap();
        let expected = context_logged_by_call(&auditor, ctx).await;
        assert_eq!(expected.0[6].as_deref(), Some("agent\0/1"));
        assert_eq!(context_of(&rows(&auditor, 1).await[0]), expected);
        return;
    }
    let error = begun.unwrap_err();
    assert!(
        matches!(error, awesome_audit_log::Error::TriggerContext { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("0x00"), "{error}");
    let TestPool::Postgres(pool) = &one else {
        unreachable!()
    };
    let (after, user): (i32, String) = sqlx::query_as(
        "SELECT pg_backend_pid(), COALESCE(current_setting('awesome_audit_log.user_name', true), '')",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(Some(after), pid, "the connection was replaced");
    assert_eq!(user, "");
    let TestPool::Postgres(other) = &db.pool else {
        unreachable!()
    };
    let state: String = sqlx::query_scalar("SELECT state FROM pg_stat_activity WHERE pid = $1")
        .bind(after)
        .fetch_one(other)
        .await
        .unwrap();
    assert_eq!(state, "idle", "the connection is left in a transaction");
    // The next request's transaction, on the same connection, records its
    // own context.
    let later = request(6).with_correlation_id("c-6");
    context::scope(later.clone(), async {
        let mut tx = auditor.begin::<sqlx::Postgres>("default").await.unwrap();
        sqlx::query(insert(kind, 2))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    })
    .await;
    let row = rows(&auditor, 2).await.remove(0);
    assert_eq!(
        context_of(&row),
        context_logged_by_call(&auditor, later).await
    );
}

/// Inside a scope, the rows the triggers write in an auditor's transaction
/// and in the application's own (with `set_context`) carry, column by
/// column, the context `log_change` writes in the same scope; outside a
/// scope (auditor's transaction, plain statement) they carry none.
pub async fn trigger_rows_carry_the_scope_context(db: TestDb) {
    let auditor = setup(&db, AuditConfig::default()).await;
    let kind = db.kind;
    let ctx = request(7).with_correlation_id("corr-7");
    context::scope(ctx.clone(), async {
        on_pool!(&db.pool, pool, DB => {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            sqlx::query(insert(kind, 1)).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            assert!(triggers::set_context(&mut tx).await.unwrap());
            sqlx::query(insert(kind, 2)).execute(&mut *tx).await.unwrap();
            sqlx::query(AssertSqlSafe("UPDATE gadget SET qty_col = 5 WHERE id = 2".to_owned()))
                .execute(&mut *tx)
                .await
                .unwrap();
            triggers::clear_context(&mut tx).await.unwrap();
            tx.commit().await.unwrap();
        });
    })
    .await;
    // Outside a scope: an auditor's transaction, a plain statement.
    on_pool!(&db.pool, pool, DB => {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        sqlx::query(insert(kind, 3)).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        sqlx::query(insert(kind, 4)).execute(pool).await.unwrap();
    });
    let expected = context_logged_by_call(&auditor, ctx).await;
    assert_eq!(expected.1, Some(7));
    assert_eq!(expected.0[7].as_deref(), Some("corr-7"));
    for id in [1, 2] {
        let rows = rows(&auditor, id).await;
        assert_eq!(rows.len(), id as usize, "{rows:#?}");
        for row in &rows {
            assert_eq!(context_of(row), expected, "object {id}: {row:#?}");
        }
    }
    for id in [3, 4] {
        let rows = rows(&auditor, id).await;
        assert_eq!(rows.len(), 1);
        assert_eq!(context_of(&rows[0]), NO_CONTEXT, "object {id}");
    }
}

/// Many concurrent scopes (50 tasks, each its own user) on a pool of two
/// connections, each writing through the triggers in an auditor's
/// transaction that commits, rolls back or is dropped mid-way, between
/// plain statements outside any scope: every row carries exactly its own
/// scope's user (the plain ones none), and rolled-back or dropped changes
/// leave no row.
pub async fn no_context_leaks_through_pooled_connections(db: TestDb) {
    let installer = setup(&db, AuditConfig::default()).await;
    let kind = db.kind;
    let small = small_pool(&db, 2).await;
    let auditor = context_auditor(&small);
    let mut tasks = Vec::new();
    for user in 1..=50_i64 {
        let auditor = auditor.clone();
        let small = small.clone();
        tasks.push(tokio::spawn(async move {
            let work = async {
                on_pool!(&small, pool, DB => {
                    let mut tx = auditor.begin::<DB>("default").await.unwrap();
                    sqlx::query(insert(kind, user)).execute(&mut *tx).await.unwrap();
                    tokio::task::yield_now().await;
                    sqlx::query(AssertSqlSafe(format!(
                        "UPDATE gadget SET qty_col = qty_col + 1 WHERE id = {user}"
                    )))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                    match user % 5 {
                        0 => tx.rollback().await.unwrap(),
                        1 => drop(tx),
                        _ => tx.commit().await.unwrap(),
                    }
                    let _ = pool;
                });
            };
            context::scope(request(user), work).await;
            // The next user of a connection, outside any scope.
            on_pool!(&small, pool, DB => {
                sqlx::query(insert(kind, 1000 + user)).execute(pool).await.unwrap();
            });
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for user in 1..=50_i64 {
        let rows = rows(&installer, user).await;
        if user % 5 < 2 {
            assert!(rows.is_empty(), "user {user}: {rows:#?}");
            continue;
        }
        assert_eq!(rows.len(), 2, "user {user}: {rows:#?}");
        for row in &rows {
            assert_eq!(row.user_id, Some(user), "{row:#?}");
            assert_eq!(
                row.user_name.as_deref(),
                Some(format!("user-{user} ünï").as_str())
            );
            assert_eq!(
                row.path.as_deref(),
                Some(format!("/gadgets/{user}?x='1'").as_str())
            );
        }
        assert_eq!(rows[0].correlation_id, rows[1].correlation_id);
        let plain = rows_of(&installer, 1000 + user).await;
        assert_eq!(context_of(&plain), NO_CONTEXT, "after user {user}");
    }
    for user in (1..=50_i64).filter(|user| user % 5 < 2) {
        let plain = rows_of(&installer, 1000 + user).await;
        assert_eq!(context_of(&plain), NO_CONTEXT, "after user {user}");
    }
    on_pool!(&small, pool, DB => { pool.close().await; });
}

/// The one row of object `id`.
async fn rows_of(auditor: &Auditor, id: i64) -> GadgetLog {
    let mut rows = rows(auditor, id).await;
    assert_eq!(rows.len(), 1, "object {id}: {rows:#?}");
    rows.remove(0)
}

/// On a pool of one connection: a transaction that committed, rolled back,
/// was dropped or cancelled with its request after writing in a scope
/// leaves nothing of its context
/// for the next statement on the connection, outside any scope; nor does
/// the application's own transaction that cleared its context.
pub async fn ended_transactions_leave_no_context(db: TestDb) {
    let installer = setup(&db, AuditConfig::default()).await;
    let kind = db.kind;
    on_pool!(&db.pool, shared, DB => {
        let pool = sqlx::pool::PoolOptions::<DB>::new()
            .max_connections(1)
            .connect(&db.url)
            .await
            .unwrap();
        let auditor = Auditor::builder(AuditConfig::default())
            .database("default", pool.clone())
            .trigger_context()
            .build()
            .unwrap();
        let ends = [(1, "commit"), (2, "rollback"), (3, "drop"), (4, "own"), (5, "cancel")];
        for (user, end) in ends {
            if end == "cancel" {
                // A request cancelled mid-transaction (a timeout): its
                // future, transaction and all, is dropped at an await.
                let work = context::scope(request(user), async {
                    let mut tx = auditor.begin::<DB>("default").await.unwrap();
                    sqlx::query(insert(kind, user)).execute(&mut *tx).await.unwrap();
                    std::future::pending::<()>().await;
                    drop(tx);
                });
                let cancelled = tokio::time::timeout(std::time::Duration::from_millis(200), work).await;
                assert!(cancelled.is_err());
            }
            context::scope(request(user), async {
                if end == "cancel" {
                    return;
                }
                if end == "own" {
                    let mut tx = pool.begin().await.unwrap();
                    triggers::set_context(&mut tx).await.unwrap();
                    sqlx::query(insert(kind, user)).execute(&mut *tx).await.unwrap();
                    triggers::clear_context(&mut tx).await.unwrap();
                    tx.commit().await.unwrap();
                    return;
                }
                let mut tx = auditor.begin::<DB>("default").await.unwrap();
                sqlx::query(insert(kind, user)).execute(&mut *tx).await.unwrap();
                match end {
                    "commit" => tx.commit().await.unwrap(),
                    "rollback" => tx.rollback().await.unwrap(),
                    _ => drop(tx),
                }
            })
            .await;
            sqlx::query(insert(kind, 100 + user)).execute(&pool).await.unwrap();
            let plain = rows_of(&installer, 100 + user).await;
            assert_eq!(context_of(&plain), NO_CONTEXT, "after {end}");
        }
        assert_eq!(rows_of(&installer, 1).await.user_id, Some(1));
        assert_eq!(rows_of(&installer, 4).await.user_id, Some(4));
        for user in [2, 3, 5] {
            assert!(rows(&installer, user).await.is_empty());
        }
        pool.close().await;
        let _ = shared;
    });
}
