//! What several groups of cases share: the widget they log, the widget
//! table and its rows, a second audit database, and an outage of the audit
//! database.

use awesome_audit_log::{AuditConfig, Auditor};

use crate::models::{Gizmo, GizmoLog, Widget, WidgetLog};
use crate::{Kind, TestDb};

pub(super) fn widget(id: i64, qty: i32) -> Widget {
    Widget {
        id,
        name: "B".to_owned(),
        qty,
    }
}

pub(super) const CREATE_WIDGET: &str =
    "CREATE TABLE widget (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL)";

pub(super) fn insert_widget_sql(w: &Widget) -> sqlx::AssertSqlSafe<String> {
    // Test values only (integers and a fixed name), never user input.
    sqlx::AssertSqlSafe(format!(
        "INSERT INTO widget (id, name, qty) VALUES ({}, 'B', {})",
        w.id, w.qty
    ))
}

/// A second fresh database of `db`'s kind as the `audit` alias, with `db`
/// as `default`; `None` when the server is not configured.
pub(super) async fn with_audit_database(
    db: &TestDb,
    mut config: AuditConfig,
) -> Option<(TestDb, Auditor)> {
    let audit_db = TestDb::new(db.kind).await?;
    config.database_alias = "audit".to_owned();
    let auditor = Auditor::builder(config)
        .database("default", db.database())
        .database("audit", audit_db.database())
        .build()
        .unwrap();
    Some((audit_db, auditor))
}

/// A way to keep the audit database away for a while: the proxy down, or
/// (SQLite) a database file whose directory does not exist yet.
pub(super) struct Outage {
    pub(super) proxy: Option<crate::harness::FlakyProxy>,
    pub(super) missing: Option<(tempfile::TempDir, std::path::PathBuf)>,
}

impl Outage {
    pub(super) async fn new(db: &TestDb) -> (Outage, awesome_audit_log::Database) {
        if let Some((proxy, database)) = db.behind_proxy().await {
            return (
                Outage {
                    proxy: Some(proxy),
                    missing: None,
                },
                database,
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("later");
        let options: sqlx::sqlite::SqliteConnectOptions =
            format!("sqlite://{}/audit.db", missing.display())
                .parse()
                .unwrap();
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy_with(options.create_if_missing(true));
        (
            Outage {
                proxy: None,
                missing: Some((dir, missing)),
            },
            pool.into(),
        )
    }

    pub(super) fn down(&self) {
        if let Some(proxy) = &self.proxy {
            proxy.down();
        }
    }

    pub(super) fn up(&self) {
        if let Some(proxy) = &self.proxy {
            proxy.up();
        }
        if let Some((_, missing)) = &self.missing {
            std::fs::create_dir_all(missing).unwrap();
        }
    }
}

/// ASYNC with the in-process writer, retrying fast (20 ms doubling to 200 ms).
pub(super) fn async_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_retry_base_ms = 20;
    config.async_retry_max_ms = 200;
    config
}

/// `ddl` (what this version creates: a table, then its indexes) as the
/// table alone without `columns`: a table the Django original (no
/// `event_id`, no `correlation_id`) or an earlier version of this library
/// (no `correlation_id`, no indexes) created.
pub(super) fn without_columns(ddl: &str, columns: &[&str]) -> String {
    let create = ddl.split(";\n").next().unwrap_or_default();
    let dropped = |line: &str| {
        let line = line.trim_start();
        line.starts_with("INDEX ")
            || columns.iter().any(|column| {
                line.starts_with(&format!("\"{column}\" "))
                    || line.starts_with(&format!("`{column}` "))
            })
    };
    let mut lines: Vec<String> = create
        .lines()
        .filter(|line| !dropped(line))
        .map(str::to_owned)
        .collect();
    // The last column before `)` takes no comma.
    let close = lines
        .iter()
        .position(|line| line.starts_with(')'))
        .expect("a closing line");
    let last = lines[close - 1].trim_end_matches(',').to_owned();
    lines[close - 1] = last;
    lines.join("\n")
}

/// A log table as the Django original creates it, from `ddl`, what this
/// version creates: the original's 15 columns, `TIMESTAMP` on MySQL, no
/// index.
pub(super) fn original_log_table(ddl: &str) -> String {
    without_columns(ddl, &["event_id", "correlation_id"])
        .replace("DATETIME(6) NOT NULL", "TIMESTAMP NOT NULL")
}

/// `widget_log` as the Django original creates it ([`original_log_table`]).
pub(super) fn original_widget_log(kind: Kind) -> String {
    original_log_table(match kind {
        Kind::Postgres => WidgetLog::DDL_POSTGRES,
        Kind::MySql => WidgetLog::DDL_MYSQL,
        Kind::Sqlite => WidgetLog::DDL_SQLITE,
    })
}

/// The log table `gizmo_log` as this library created it before
/// `correlation_id`: 16 columns, no index.
pub(super) fn earlier_gizmo_log(kind: Kind) -> String {
    let ddl = match kind {
        Kind::Postgres => GizmoLog::DDL_POSTGRES,
        Kind::MySql => GizmoLog::DDL_MYSQL,
        Kind::Sqlite => GizmoLog::DDL_SQLITE,
    };
    without_columns(ddl, &["correlation_id"])
}

/// Logs widget 1 inline and gizmo 1 inside a committed transaction: the
/// first use of `widget_log` on a pool connection, of `gizmo_log` inside a
/// transaction.
pub(super) async fn first_use_inline_and_in_a_transaction(db: &TestDb, auditor: &Auditor) {
    let outcome = Widget::log_change(auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    assert_eq!(outcome, awesome_audit_log::LogOutcome::Written);
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let _ = Gizmo::log_change_in(&mut tx, None, Some(&Gizmo { id: 1, qty: 1 }))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    });
}

/// Tasks that keep logging changes of one object each through
/// `auditor.log_change` until stopped: writer `n` logs object `100 + n`,
/// created with the value 0, then one update after another, each adding 1.
pub(super) struct Writers {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    logged: std::sync::Arc<std::sync::atomic::AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<Written>>,
}

/// What one writer logged.
pub(super) struct Written {
    /// Its object.
    pub id: i64,
    /// The value of each change it logged, in order (0 for the insert).
    pub values: Vec<i64>,
    /// Its slowest `log_change`.
    pub slowest: std::time::Duration,
}

impl Writers {
    /// Starts `count` writers; `make(id, value)` builds the object.
    pub(super) fn start<M>(auditor: &Auditor, count: i64, make: fn(i64, i64) -> M) -> Writers
    where
        M: awesome_audit_log::Audited + Send + Sync + 'static,
    {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let logged = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let tasks = (0..count)
            .map(|writer| {
                let auditor = auditor.clone();
                let stop = std::sync::Arc::clone(&stop);
                let logged = std::sync::Arc::clone(&logged);
                tokio::spawn(async move {
                    let id = 100 + writer;
                    let mut current = make(id, 0);
                    let mut values = vec![0];
                    let mut slowest = std::time::Duration::ZERO;
                    let mut before = None;
                    loop {
                        let started = std::time::Instant::now();
                        let outcome = auditor
                            .log_change(before.as_ref(), Some(&current))
                            .await
                            .unwrap();
                        slowest = slowest.max(started.elapsed());
                        assert_eq!(outcome, awesome_audit_log::LogOutcome::Written);
                        logged.fetch_add(1, Ordering::SeqCst);
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let value = values.len() as i64;
                        values.push(value);
                        before = Some(std::mem::replace(&mut current, make(id, value)));
                        tokio::task::yield_now().await;
                    }
                    Written {
                        id,
                        values,
                        slowest,
                    }
                })
            })
            .collect();
        Writers {
            stop,
            logged,
            tasks,
        }
    }

    /// The changes logged so far, by all of them.
    pub(super) fn logged(&self) -> u64 {
        self.logged.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until they logged `changes` in all.
    pub(super) async fn wait_for(&self, changes: u64) {
        while self.logged() < changes {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Stops them; what each logged.
    pub(super) async fn stop(self) -> Vec<Written> {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut written = Vec::new();
        for task in self.tasks {
            written.push(task.await.unwrap());
        }
        written
    }
}
