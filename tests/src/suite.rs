//! The behavioural suite, run unchanged against every backend.
//!
//! Each case takes a fresh [`TestDb`] and panics on failure. The test targets
//! instantiate every case with [`crate::suite!`].

use std::collections::BTreeSet;

use awesome_audit_log::config::{ModelList, ModelSelection};
use awesome_audit_log::{Action, AuditConfig, Auditor, Error, LogOutcome};
use serde_json::json;

use crate::models::{Account, AccountLog, Gizmo, Widget, WidgetLog};
use crate::{Kind, TestDb};

/// Generates one `#[tokio::test]` per case of the suite for a backend.
#[macro_export]
macro_rules! suite {
    ($kind:expr) => {
        $crate::suite!(@cases $kind;
            log_table_created_on_first_use,
            insert_update_delete_rows,
            only_changed_fields_in_changes,
            unchanged_updates,
            audit_models_list,
            not_audit_models_wins,
            disabled_logs_nothing,
            missing_alias_raises,
            missing_alias_skips_and_counts,
            missing_alias_falls_back_to_default,
            unavailable_database,
            timestamps_within_the_call,
            redact_skip_and_rename,
            batch_logging_in_chunks,
            odd_values_do_not_panic,
            history_is_oldest_first,
            concurrent_first_use_loses_nothing,
            unknown_labels_are_rejected,
        );
    };
    (@cases $kind:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                if let Some(db) = $crate::TestDb::new($kind).await {
                    $crate::suite::$case(db).await;
                }
            }
        )*
    };
}

fn widget(id: i64, qty: i32) -> Widget {
    Widget {
        id,
        name: "B".to_owned(),
        qty,
    }
}

fn only(labels: &[&str]) -> BTreeSet<String> {
    labels.iter().map(|l| (*l).to_owned()).collect()
}

/// The log table does not exist before the first row and does after.
pub async fn log_table_created_on_first_use(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    assert!(!db.table_exists(None, "widget_log").await);
    let outcome = Widget::log_change(&auditor, None, Some(&widget(1, 2)))
        .await
        .unwrap();
    assert_eq!(outcome, LogOutcome::Written);
    assert!(db.table_exists(None, "widget_log").await);
    assert_eq!(db.count("widget_log").await, 1);
    Widget::log_change(&auditor, None, Some(&widget(2, 2)))
        .await
        .unwrap();
    assert_eq!(db.count("widget_log").await, 2);
    assert_eq!(auditor.stats().written, 2);
}

/// Insert, update and delete rows hold the original's before/after/changes.
pub async fn insert_update_delete_rows(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let created = widget(7, 2);
    let updated = widget(7, 5);
    Widget::log_change(&auditor, None, Some(&created))
        .await
        .unwrap();
    Widget::log_change(&auditor, Some(&created), Some(&updated))
        .await
        .unwrap();
    Widget::log_change(&auditor, Some(&updated), None)
        .await
        .unwrap();

    let rows = WidgetLog::for_object(&auditor, &7).await.unwrap();
    let actions: Vec<Action> = rows.iter().map(|r| r.action).collect();
    assert_eq!(actions, [Action::Insert, Action::Update, Action::Delete]);
    assert!(rows.iter().all(|r| r.object_pk == "7"));

    let [insert, update, delete] = &rows[..] else {
        panic!("three rows")
    };
    assert_eq!(insert.before, None);
    assert_eq!(insert.after, Some(json!({"id": 7, "name": "B", "qty": 2})));
    assert_eq!(
        insert.changes,
        Some(
            json!({"id": {"from": null, "to": 7}, "name": {"from": null, "to": "B"}, "qty": {"from": null, "to": 2}})
        )
    );
    assert_eq!(update.before, Some(json!({"id": 7, "name": "B", "qty": 2})));
    assert_eq!(update.after, Some(json!({"id": 7, "name": "B", "qty": 5})));
    assert_eq!(update.changes, Some(json!({"qty": {"from": 2, "to": 5}})));
    assert_eq!(delete.before, Some(json!({"id": 7, "name": "B", "qty": 5})));
    assert_eq!(delete.after, None);
    assert_eq!(
        delete.changes,
        Some(
            json!({"id": {"from": 7, "to": null}, "name": {"from": "B", "to": null}, "qty": {"from": 5, "to": null}})
        )
    );
    // Outside any context scope the context columns are NULL.
    for row in &rows {
        assert_eq!(
            (&row.entry_point, &row.route, &row.path, &row.method),
            (&None, &None, &None, &None)
        );
        assert_eq!(
            (&row.ip, row.user_id, &row.user_name, &row.user_agent),
            (&None, None, &None, &None)
        );
    }
    assert!(
        WidgetLog::for_object(&auditor, &8)
            .await
            .unwrap()
            .is_empty()
    );
}

/// An update that changes one field lists only that field.
pub async fn only_changed_fields_in_changes(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let before = Account::sample("a-1");
    let after = Account {
        balance: 11.0,
        ..before.clone()
    };
    Account::log_change(&auditor, Some(&before), Some(&after))
        .await
        .unwrap();
    let after2 = Account {
        name: "Grace".into(),
        tags: vec![],
        ..after.clone()
    };
    Account::log_change(&auditor, Some(&after), Some(&after2))
        .await
        .unwrap();

    let rows = AccountLog::for_object(&auditor, "a-1").await.unwrap();
    assert_eq!(
        rows[0].changes,
        Some(json!({"balance": {"from": 10.5, "to": 11.0}}))
    );
    assert_eq!(
        rows[1].changes,
        Some(
            json!({"display_name": {"from": "Ada", "to": "Grace"}, "tags": {"from": ["a"], "to": []}})
        )
    );
}

/// An update with no change writes no row, unless LOG_UNCHANGED_UPDATES.
pub async fn unchanged_updates(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let w = widget(1, 2);
    assert_eq!(
        Widget::log_change(&auditor, Some(&w), Some(&w))
            .await
            .unwrap(),
        LogOutcome::Unchanged
    );
    // A change to a skipped field is no change.
    let a = Account::sample("a");
    let b = Account {
        cache: vec![9],
        ..a.clone()
    };
    assert_eq!(
        Account::log_change(&auditor, Some(&a), Some(&b))
            .await
            .unwrap(),
        LogOutcome::Unchanged
    );
    assert!(!db.table_exists(None, "widget_log").await);

    let mut config = AuditConfig::default();
    config.log_unchanged_updates = true;
    let auditor = db.auditor(config);
    assert_eq!(
        Widget::log_change(&auditor, Some(&w), Some(&w))
            .await
            .unwrap(),
        LogOutcome::Written
    );
    let rows = WidgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows[0].action, Action::Update);
    assert_eq!(rows[0].changes, Some(json!({})));
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
    Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
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

/// `created_at` is taken when `log_change` is called, in UTC, to the microsecond.
pub async fn timestamps_within_the_call(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let start = chrono::Utc::now();
    Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    let end = chrono::Utc::now();
    let row = &WidgetLog::for_object(&auditor, &1).await.unwrap()[0];
    let start_us = start.timestamp_micros();
    let end_us = end.timestamp_micros();
    let at = row.created_at.timestamp_micros();
    assert!(
        start_us <= at && at <= end_us,
        "{start} <= {} <= {end}",
        row.created_at
    );
    assert_eq!(
        row.created_at.timestamp_subsec_nanos() % 1000,
        0,
        "microsecond precision"
    );
}

/// `redact` masks, `skip` leaves out, `rename` renames.
pub async fn redact_skip_and_rename(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let a = Account::sample("acc-1");
    let b = Account {
        api_key: "n3w".into(),
        ..a.clone()
    };
    Account::log_change(&auditor, None, Some(&a)).await.unwrap();
    assert_eq!(
        Account::log_change(&auditor, Some(&a), Some(&b))
            .await
            .unwrap(),
        LogOutcome::Written
    );

    let rows = AccountLog::for_object(&auditor, "acc-1").await.unwrap();
    let after = rows[0].after.clone().unwrap();
    assert_eq!(
        after,
        json!({
            "uuid": "acc-1", "display_name": "Ada", "api_key": "***", "balance": 10.5,
            "note": null, "tags": ["a"], "updated_at": "2026-01-02T03:04:05.123456Z"
        })
    );
    assert!(after.get("cache").is_none());
    assert_eq!(
        rows[1].changes,
        Some(json!({"api_key": {"from": "***", "to": "***"}}))
    );
    for row in &rows {
        let text = format!("{row:?}");
        assert!(
            !text.contains("s3cret") && !text.contains("n3w"),
            "secret leaked: {text}"
        );
    }
}

/// Many changes in multi-row INSERTs of BULK_CHUNK_SIZE rows.
pub async fn batch_logging_in_chunks(db: TestDb) {
    let mut config = AuditConfig::default();
    config.bulk_chunk_size = Some(100);
    let auditor = db.auditor(config);
    let old: Vec<Widget> = (0..250).map(|i| widget(i, 1)).collect();
    let new: Vec<Widget> = (0..250)
        .map(|i| widget(i, if i % 2 == 0 { 2 } else { 1 }))
        .collect();

    let outcome = Widget::log_changes(&auditor, old.iter().map(|w| (None, Some(w))))
        .await
        .unwrap();
    assert_eq!(outcome.written, 250);
    let outcome = Widget::log_changes(
        &auditor,
        old.iter().zip(&new).map(|(o, n)| (Some(o), Some(n))),
    )
    .await
    .unwrap();
    assert_eq!((outcome.written, outcome.unchanged), (125, 125));
    assert_eq!(db.count("widget_log").await, 375);

    let rows = WidgetLog::for_object(&auditor, &42).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].changes, Some(json!({"qty": {"from": 1, "to": 2}})));
    let empty = Widget::log_changes(&auditor, std::iter::empty())
        .await
        .unwrap();
    assert_eq!(empty.written, 0);
}

/// NaN, infinities, long strings, any Unicode and NULLs never panic.
pub async fn odd_values_do_not_panic(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let odd = Account {
        name: "名前 🦀 \u{202e}rtl\u{202c} \"quoted\" \\ back\nslash".to_owned(),
        balance: f64::NAN,
        note: Some("x".repeat(1_000_000)),
        tags: vec![String::new(), "\u{1F600}".to_owned()],
        ..Account::sample("odd")
    };
    Account::log_change(&auditor, None, Some(&odd))
        .await
        .unwrap();
    let inf = Account {
        balance: f64::INFINITY,
        ..odd.clone()
    };
    Account::log_change(&auditor, Some(&odd), Some(&inf))
        .await
        .unwrap();
    let rows = AccountLog::for_object(&auditor, "odd").await.unwrap();
    let after = rows[0].after.as_ref().unwrap();
    assert_eq!(after["display_name"], json!(odd.name));
    assert_eq!(
        after["balance"],
        json!(null),
        "non-finite floats are stored as null"
    );
    assert_eq!(after["note"].as_str().map(str::len), Some(1_000_000));
    // NaN != inf, though both are stored as null: the change is recorded.
    assert_eq!(
        rows[1].changes,
        Some(json!({"balance": {"from": null, "to": null}}))
    );

    // A NUL character: stored where the database can hold it, a typed error
    // (not a panic) on PostgreSQL, whose JSONB rejects \u0000.
    let nul = Account {
        name: "a\0b".to_owned(),
        ..Account::sample("nul")
    };
    let result = Account::log_change(&auditor, None, Some(&nul)).await;
    match db.kind {
        Kind::Postgres => assert!(matches!(result, Err(Error::Database { .. })), "{result:?}"),
        Kind::Sqlite | Kind::MySql => {
            result.unwrap();
            let rows = AccountLog::for_object(&auditor, "nul").await.unwrap();
            assert_eq!(
                rows[0].after.as_ref().unwrap()["display_name"],
                json!("a\0b")
            );
        }
    }
}

/// The history comes back oldest first, typed, for one object only.
pub async fn history_is_oldest_first(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    for qty in 1..=5 {
        let old = widget(1, qty - 1);
        let new = widget(1, qty);
        Widget::log_change(&auditor, (qty > 1).then_some(&old), Some(&new))
            .await
            .unwrap();
        Widget::log_change(&auditor, None, Some(&widget(2, qty)))
            .await
            .unwrap();
    }
    let rows = WidgetLog::for_object(&auditor, &1).await.unwrap();
    let qtys: Vec<_> = rows
        .iter()
        .map(|r| r.after.as_ref().unwrap()["qty"].clone())
        .collect();
    assert_eq!(qtys, [json!(1), json!(2), json!(3), json!(4), json!(5)]);
    assert!(
        rows.windows(2)
            .all(|w| w[0].created_at <= w[1].created_at && w[0].id < w[1].id)
    );
}

/// 16 tasks logging the first rows of a new model at once: all succeed,
/// no row lost, even when they race to create the table.
pub async fn concurrent_first_use_loses_nothing(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let auditor = auditor.clone();
            tokio::spawn(async move {
                for j in 0..5 {
                    Widget::log_change(&auditor, None, Some(&widget(i * 100 + j, 1))).await?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(db.count("widget_log").await, 80);
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
