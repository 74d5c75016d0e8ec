//! What the log rows hold: before, after and changes of inserts, updates
//! and deletes, unchanged updates, redacted, skipped and renamed fields, odd
//! values, timestamps, batches and the history read back.

use awesome_audit_log::{Action, AuditConfig, Error, LogOutcome};
use serde_json::json;

use super::fixtures::widget;
use crate::models::{Account, AccountLog, Widget, WidgetLog};
use crate::{Kind, TestDb};

/// Insert, update and delete rows hold the original's before/after/changes.
pub async fn insert_update_delete_rows(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let created = widget(7, 2);
    let updated = widget(7, 5);
    for (before, after) in [
        (None, Some(&created)),
        (Some(&created), Some(&updated)),
        (Some(&updated), None),
    ] {
        let outcome = Widget::log_change(&auditor, before, after).await.unwrap();
        assert_eq!(outcome, LogOutcome::Written);
    }

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
    let _ = Account::log_change(&auditor, Some(&before), Some(&after))
        .await
        .unwrap();
    let after2 = Account {
        name: "Grace".into(),
        tags: vec![],
        ..after.clone()
    };
    let _ = Account::log_change(&auditor, Some(&after), Some(&after2))
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

/// `redact` masks, `skip` leaves out, `rename` renames.
pub async fn redact_skip_and_rename(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let a = Account::sample("acc-1");
    let b = Account {
        api_key: "n3w".into(),
        ..a.clone()
    };
    let _ = Account::log_change(&auditor, None, Some(&a)).await.unwrap();
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
    let _ = Account::log_change(&auditor, None, Some(&odd))
        .await
        .unwrap();
    let inf = Account {
        balance: f64::INFINITY,
        ..odd.clone()
    };
    let _ = Account::log_change(&auditor, Some(&odd), Some(&inf))
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
            let _ = result.unwrap();
            let rows = AccountLog::for_object(&auditor, "nul").await.unwrap();
            assert_eq!(
                rows[0].after.as_ref().unwrap()["display_name"],
                json!("a\0b")
            );
        }
    }
}

/// `created_at` is taken when `log_change` is called, in UTC, to the microsecond.
pub async fn timestamps_within_the_call(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let start = chrono::Utc::now();
    let _ = Widget::log_change(&auditor, None, Some(&widget(1, 1)))
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

/// The history comes back oldest first, typed, for one object only.
pub async fn history_is_oldest_first(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    for qty in 1..=5 {
        let old = widget(1, qty - 1);
        let new = widget(1, qty);
        let _ = Widget::log_change(&auditor, (qty > 1).then_some(&old), Some(&new))
            .await
            .unwrap();
        let _ = Widget::log_change(&auditor, None, Some(&widget(2, qty)))
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

/// The rows read back serialise as JSON objects keyed by the log table's
/// columns, `action` in lower case and `created_at` in RFC 3339 (what an
/// HTTP handler returns as `Json(history)`), and deserialise back equal.
pub async fn history_rows_as_json(db: TestDb) {
    const COLUMNS: [&str; 16] = [
        "id",
        "action",
        "object_pk",
        "before",
        "after",
        "changes",
        "entry_point",
        "route",
        "path",
        "method",
        "ip",
        "user_id",
        "user_name",
        "user_agent",
        "created_at",
        "correlation_id",
    ];
    let auditor = db.auditor(AuditConfig::default());
    let created = widget(9, 2);
    let updated = widget(9, 5);
    let ctx = awesome_audit_log::context::AuditContext::job("shop.jobs.recount", Some("recount"))
        .with_user(Some(7), Some("ada".to_owned()));
    awesome_audit_log::context::scope(ctx, async {
        assert_eq!(
            Widget::log_change(&auditor, None, Some(&created))
                .await
                .unwrap(),
            LogOutcome::Written
        );
        assert_eq!(
            Widget::log_change(&auditor, Some(&created), Some(&updated))
                .await
                .unwrap(),
            LogOutcome::Written
        );
    })
    .await;

    let rows = WidgetLog::for_object(&auditor, &9).await.unwrap();
    let text = serde_json::to_string(&rows).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let [insert, update] = json.as_array().expect("an array").as_slice() else {
        panic!("two rows: {text}")
    };
    for (object, row) in [insert, update].into_iter().zip(&rows) {
        let object = object.as_object().expect("an object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        let mut columns = COLUMNS.to_vec();
        keys.sort_unstable();
        columns.sort_unstable();
        assert_eq!(keys, columns, "{text}");
        assert_eq!(object["id"], row.id);
        assert_eq!(object["object_pk"], "9");
        assert_eq!(object["user_id"], 7);
        assert_eq!(object["user_name"], "ada");
        assert_eq!(object["ip"], serde_json::Value::Null);
        let created_at = object["created_at"].as_str().expect("a string");
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(created_at).expect("RFC 3339"),
            row.created_at,
            "{created_at}"
        );
    }
    assert_eq!(insert["action"], "insert");
    assert_eq!(update["action"], "update");
    assert_eq!(insert["before"], serde_json::Value::Null);
    assert_eq!(insert["after"], json!({"id": 9, "name": "B", "qty": 2}));
    assert_eq!(update["changes"], json!({"qty": {"from": 2, "to": 5}}));

    let back: Vec<WidgetLog> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, rows);
}
