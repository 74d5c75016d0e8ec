//! What several groups of cases share: the widget they log, the widget
//! table and its rows, a second audit database, and an outage of the audit
//! database.

use awesome_audit_log::{AuditConfig, Auditor};

use crate::TestDb;
use crate::models::Widget;

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
