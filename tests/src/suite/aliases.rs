//! The audit database alias: missing, unreachable, or down for a while, with
//! RAISE_ERROR_IF_DB_UNAVAILABLE and FALLBACK_TO_DEFAULT.

use awesome_audit_log::{Action, AuditConfig, Auditor, Error, LogOutcome};

use super::fixtures::{Outage, widget};
use crate::TestDb;
use crate::models::{Widget, WidgetLog};

fn alias_config(raise: bool, fallback: bool) -> AuditConfig {
    let mut config = AuditConfig::default();
    config.database_alias = "audit".to_owned();
    config.raise_error_if_db_unavailable = raise;
    config.fallback_to_default = fallback;
    config
}

/// A missing alias with RAISE_ERROR_IF_DB_UNAVAILABLE is a start-up error.
pub async fn missing_alias_raises(db: TestDb) {
    let err = Auditor::builder(alias_config(true, false))
        .database("default", db.database())
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownAlias { alias } if alias == "audit"),
        "{err}"
    );
}

/// Without RAISE a missing alias skips the row with a counted warning.
pub async fn missing_alias_skips_and_counts(db: TestDb) {
    let auditor = Auditor::builder(alias_config(false, false))
        .database("default", db.database())
        .build()
        .unwrap();
    let w = widget(1, 1);
    assert_eq!(
        Widget::log_change(&auditor, None, Some(&w)).await.unwrap(),
        LogOutcome::Skipped
    );
    let batch = Widget::log_changes(&auditor, [(None, Some(&w)), (Some(&w), None)])
        .await
        .unwrap();
    assert_eq!((batch.written, batch.skipped), (0, 2));
    assert_eq!(auditor.stats().skipped, 3);
    assert!(!db.table_exists(None, "widget_log").await);
}

/// With FALLBACK_TO_DEFAULT the row lands in `default`.
pub async fn missing_alias_falls_back_to_default(db: TestDb) {
    let auditor = Auditor::builder(alias_config(false, true))
        .database("default", db.database())
        .build()
        .unwrap();
    let w = widget(3, 1);
    assert_eq!(
        Widget::log_change(&auditor, None, Some(&w)).await.unwrap(),
        LogOutcome::Written
    );
    assert_eq!(db.count("widget_log").await, 1);
    assert_eq!(auditor.stats().fallback, 1);
    assert_eq!(WidgetLog::for_object(&auditor, &3).await.unwrap().len(), 1);
}

/// An alias whose database cannot be reached: a typed error with RAISE, a
/// counted skip without, the `default` database with FALLBACK.
pub async fn unavailable_database(db: TestDb) {
    let w = widget(1, 1);
    let build = |raise, fallback| {
        Auditor::builder(alias_config(raise, fallback))
            .database("default", db.database())
            .database("audit", db.unreachable())
            .build()
            .unwrap()
    };

    let err = Widget::log_change(&build(true, false), None, Some(&w))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unavailable { alias, .. } if alias == "audit"),
        "{err}"
    );

    let skipping = build(false, false);
    assert_eq!(
        Widget::log_change(&skipping, None, Some(&w)).await.unwrap(),
        LogOutcome::Skipped
    );
    assert_eq!(skipping.stats().skipped, 1);
    assert!(!db.table_exists(None, "widget_log").await);

    let falling_back = build(false, true);
    assert_eq!(
        Widget::log_change(&falling_back, None, Some(&w))
            .await
            .unwrap(),
        LogOutcome::Written
    );
    assert_eq!(falling_back.stats().fallback, 1);
    assert_eq!(db.count("widget_log").await, 1);
}

/// A database that goes down and comes back is used again without a
/// restart: errors (with RAISE) while it is down, rows again once it is up.
pub async fn server_that_comes_back_is_used_again(db: TestDb) {
    let mut config = AuditConfig::default();
    config.raise_error_if_db_unavailable = true;
    let (outage, database) = Outage::new(&db).await;
    let auditor = Auditor::builder(config)
        .database("default", database)
        .build()
        .unwrap();
    let w = widget(1, 1);
    if outage.proxy.is_some() {
        let outcome = Widget::log_change(&auditor, None, Some(&w)).await.unwrap();
        assert_eq!(outcome, LogOutcome::Written);
    }
    outage.down();
    let err = Widget::log_change(&auditor, Some(&w), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err}");
    outage.up();
    assert_eq!(
        Widget::log_change(&auditor, Some(&w), None).await.unwrap(),
        LogOutcome::Written
    );
    let rows = WidgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.last().map(|r| r.action), Some(Action::Delete));
}
