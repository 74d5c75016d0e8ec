//! Which models are audited: AUDIT_MODELS, NOT_AUDIT_MODELS, ENABLED, and
//! labels that name no model.

use std::collections::BTreeSet;

use awesome_audit_log::config::{ModelList, ModelSelection};
use awesome_audit_log::{AuditConfig, Auditor, LogOutcome};

use super::fixtures::widget;
use crate::TestDb;
use crate::models::{Gizmo, Widget};

fn only(labels: &[&str]) -> BTreeSet<String> {
    labels.iter().map(|l| (*l).to_owned()).collect()
}

/// AUDIT_MODELS as a list audits only the listed models.
pub async fn audit_models_list(db: TestDb) {
    let mut config = AuditConfig::default();
    config.audit_models = ModelSelection::Only(only(&["shop.widget"]));
    let auditor = db.auditor(config);
    assert_eq!(
        Widget::log_change(&auditor, None, Some(&widget(1, 1)))
            .await
            .unwrap(),
        LogOutcome::Written
    );
    let gizmo = Gizmo { id: 1, qty: 1 };
    assert_eq!(
        Gizmo::log_change(&auditor, None, Some(&gizmo))
            .await
            .unwrap(),
        LogOutcome::NotAudited
    );
    assert_eq!(db.count("widget_log").await, 1);
    assert!(!db.table_exists(None, "gizmo_log").await);
}

/// NOT_AUDIT_MODELS wins over AUDIT_MODELS.
pub async fn not_audit_models_wins(db: TestDb) {
    let mut config = AuditConfig::default();
    config.audit_models = ModelSelection::Only(only(&["shop.widget", "shop.gizmo"]));
    config.not_audit_models = ModelList(only(&["shop.gizmo"]));
    let auditor = db.auditor(config);
    assert_eq!(
        Widget::log_change(&auditor, None, Some(&widget(1, 1)))
            .await
            .unwrap(),
        LogOutcome::Written
    );
    let gizmo = Gizmo { id: 1, qty: 1 };
    assert_eq!(
        Gizmo::log_change(&auditor, None, Some(&gizmo))
            .await
            .unwrap(),
        LogOutcome::NotAudited
    );
    let outcome = Gizmo::log_changes(&auditor, [(None, Some(&gizmo))])
        .await
        .unwrap();
    assert_eq!(outcome.not_audited, 1);
    assert!(!db.table_exists(None, "gizmo_log").await);
    assert_eq!(db.count("widget_log").await, 1);
}

/// ENABLED false logs nothing and creates no table.
pub async fn disabled_logs_nothing(db: TestDb) {
    let mut config = AuditConfig::default();
    config.enabled = false;
    let auditor = db.auditor(config);
    let w = widget(1, 1);
    assert_eq!(
        Widget::log_change(&auditor, None, Some(&w)).await.unwrap(),
        LogOutcome::NotAudited
    );
    assert_eq!(
        Widget::log_change(&auditor, Some(&w), None).await.unwrap(),
        LogOutcome::NotAudited
    );
    assert!(!db.table_exists(None, "widget_log").await);
    assert_eq!(auditor.stats().written, 0);
}

/// A label in AUDIT_MODELS / NOT_AUDIT_MODELS that names no model is a
/// start-up error naming the key (a misspelt opt-out must not pass).
pub async fn unknown_labels_are_rejected(db: TestDb) {
    let mut config = AuditConfig::default();
    config.not_audit_models = ModelList(only(&["shop.widgte"]));
    let err = Auditor::builder(config.clone())
        .database("default", db.database())
        .build()
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("NOT_AUDIT_MODELS") && text.contains("shop.widgte"),
        "{text}"
    );
    assert!(
        text.contains("shop.widget"),
        "lists the known labels: {text}"
    );
    Auditor::builder(config)
        .database("default", db.database())
        .allow_unknown_labels()
        .build()
        .unwrap();
}
