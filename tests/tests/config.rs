//! Start-up checks of the configuration against the databases it is built
//! with, on each backend, and what an auditor shows of its settings.

use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::{AuditConfig, Auditor, ConfigError, Error};
use awesome_audit_log_tests::models::Widget;
use awesome_audit_log_tests::{Kind, TestDb};

/// An outbox configuration with `rows` per INSERT: an outbox row is the
/// widest one (17 bind parameters).
fn outbox_chunks_of(rows: usize) -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    config.bulk_chunk_size = Some(rows);
    config
}

/// The largest BULK_CHUNK_SIZE each backend takes: SQLite allows 32766 bind
/// parameters per statement, MySQL / MariaDB 65535; PostgreSQL binds one
/// array per column but is held to the same bound as MySQL.
fn max_chunk(kind: Kind) -> usize {
    match kind {
        Kind::Sqlite => 32_766 / 17,
        Kind::Postgres | Kind::MySql => 65_535 / 17,
    }
}

#[tokio::test]
async fn bulk_chunk_size_is_held_to_each_databases_bind_limit() {
    for kind in [Kind::Sqlite, Kind::MySql, Kind::Postgres] {
        let Some(db) = TestDb::new(kind).await else {
            continue;
        };
        let max = max_chunk(kind);

        // At the limit: built, and a batch of two chunks is written.
        let auditor = Auditor::builder(outbox_chunks_of(max))
            .database("default", db.database())
            .build()
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let widgets: Vec<Widget> = (1..=i64::try_from(max).unwrap() + 1)
            .map(|id| Widget {
                id,
                name: "w".into(),
                qty: 1,
            })
            .collect();
        let _ = Widget::log_changes(&auditor, widgets.iter().map(|w| (None, Some(w))))
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(
            db.count("awesome_audit_log_outbox").await,
            i64::try_from(max).unwrap() + 1,
            "{kind:?}"
        );

        // One row more: refused at start-up, naming the key, the value and the limit.
        let err = Auditor::builder(outbox_chunks_of(max + 1))
            .database("default", db.database())
            .build()
            .expect_err("a chunk above the bind limit");
        let Error::Config(ConfigError::Invalid { key, value, reason }) = &err else {
            panic!("{kind:?}: {err}");
        };
        assert_eq!(*key, "BULK_CHUNK_SIZE", "{kind:?}");
        assert_eq!(*value, (max + 1).to_string(), "{kind:?}");
        assert!(reason.contains(&max.to_string()), "{kind:?}: {reason}");
    }
}

#[tokio::test]
#[cfg_attr(
    aal_no_mysql,
    ignore = "set AUDIT_TEST_MYSQL_URL to run this case on MySQL / MariaDB"
)]
async fn the_smallest_limit_of_all_configured_databases_applies() {
    let Some(sqlite) = TestDb::new(Kind::Sqlite).await else {
        return;
    };
    let Some(mysql) = TestDb::new(Kind::MySql).await else {
        return;
    };
    let chunk = max_chunk(Kind::Sqlite) + 1;
    // The SQLite database is not the audit database, but outbox rows of
    // changes made in it are written there.
    let err = Auditor::builder(outbox_chunks_of(chunk))
        .database("default", mysql.database())
        .database("local", sqlite.database())
        .build()
        .expect_err("too many rows for SQLite");
    let message = err.to_string();
    assert!(
        message.contains("BULK_CHUNK_SIZE") && message.contains("local"),
        "{message}"
    );
    assert!(
        Auditor::builder(outbox_chunks_of(chunk))
            .database("default", mysql.database())
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn debug_output_hides_the_redis_password() {
    let db = TestDb::new(Kind::Sqlite).await.expect("SQLite");
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Redis;
    config.redis_url = Some("redis://audit:s3cr3t-pw@redis.internal:6380/2".to_owned());

    let shown = format!("{config:?} {config:#?}");
    assert!(!shown.contains("s3cr3t-pw"), "{shown}");
    assert!(
        shown.contains("redis://audit:***@redis.internal:6380/2"),
        "{shown}"
    );

    let auditor = Auditor::builder(config)
        .database("default", db.database())
        .build()
        .expect("the broker connects on first use");
    for shown in [format!("{auditor:?}"), format!("{auditor:#?}")] {
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(shown.contains("redis.internal:6380"), "{shown}");
    }
}
