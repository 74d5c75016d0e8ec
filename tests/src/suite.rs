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
            transaction_on_the_audit_database,
            transaction_with_another_audit_database,
            server_that_comes_back_is_used_again,
            pg_schema_holds_the_log_tables,
            writes_into_tables_the_original_created,
            async_rows_equal_sync_rows,
            async_writer_survives_an_outage,
            async_flush_and_shutdown,
            async_drop_policy_counts,
            outbox_moves_each_row_exactly_once,
            outbox_redelivery_is_a_no_op,
            outbox_survives_sigkill,
            async_transaction_rows_wait_for_commit,
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
    // Several rounds, each racing on a table that does not exist yet: the
    // losing creators see different errors on PostgreSQL (23505, 42P07, 42710).
    for round in 0..5 {
        if round > 0 {
            db.exec("DROP TABLE widget_log").await;
        }
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
        assert_eq!(db.count("widget_log").await, 80, "round {round}");
    }
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

/// Runs `$body` with `$DB` the sqlx database type of `$db`'s backend.
macro_rules! for_backend {
    ($db:expr, |$DB:ident| $body:block) => {
        match $db.kind {
            Kind::Sqlite => {
                type $DB = sqlx::Sqlite;
                $body
            }
            Kind::Postgres => {
                type $DB = sqlx::Postgres;
                $body
            }
            Kind::MySql => {
                type $DB = sqlx::MySql;
                $body
            }
        }
    };
}

const CREATE_WIDGET: &str =
    "CREATE TABLE widget (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL)";

fn insert_widget_sql(w: &Widget) -> sqlx::AssertSqlSafe<String> {
    // Test values only (integers and a fixed name), never user input.
    sqlx::AssertSqlSafe(format!(
        "INSERT INTO widget (id, name, qty) VALUES ({}, 'B', {})",
        w.id, w.qty
    ))
}

/// Same database: the log row is written inside the caller's transaction:
/// commit keeps change and row, rollback (or drop) removes both, and the
/// table's first-use creation does not spoil the transaction.
pub async fn transaction_on_the_audit_database(db: TestDb) {
    db.exec(CREATE_WIDGET).await;
    let auditor = db.auditor(AuditConfig::default());
    for_backend!(db, |DB| {
        // First use inside a transaction, then roll back: nothing remains.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        assert!(tx.logs_inside());
        let w1 = widget(1, 1);
        sqlx::raw_sql(insert_widget_sql(&w1))
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(
            Widget::log_change_in(&mut tx, None, Some(&w1))
                .await
                .unwrap(),
            LogOutcome::Written
        );
        // The transaction is still usable after the table was created in it.
        sqlx::raw_sql(insert_widget_sql(&widget(2, 1)))
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(db.count("widget").await, 0);
        if db.table_exists(None, "widget_log").await {
            assert_eq!(db.count("widget_log").await, 0);
        }

        // Commit keeps both.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        sqlx::raw_sql(insert_widget_sql(&w1))
            .execute(&mut *tx)
            .await
            .unwrap();
        Widget::log_change_in(&mut tx, None, Some(&w1))
            .await
            .unwrap();
        let w1b = widget(1, 2);
        let batch = Widget::log_changes_in(&mut tx, [(Some(&w1), Some(&w1b))])
            .await
            .unwrap();
        assert_eq!(batch.written, 1);
        tx.commit().await.unwrap();
        assert_eq!(db.count("widget").await, 1);
        assert_eq!(db.count("widget_log").await, 2);

        // Dropping an open transaction rolls back change and row alike.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let w3 = widget(3, 1);
        sqlx::raw_sql(insert_widget_sql(&w3))
            .execute(&mut *tx)
            .await
            .unwrap();
        Widget::log_change_in(&mut tx, None, Some(&w3))
            .await
            .unwrap();
        drop(tx);
        assert_eq!(db.count("widget").await, 1);
        assert_eq!(db.count("widget_log").await, 2);
        assert!(
            WidgetLog::for_object(&auditor, &3)
                .await
                .unwrap()
                .is_empty()
        );

        // A transaction the application began itself can be wrapped.
        let own = auditor.begin::<DB>("default").await.unwrap().into_inner();
        let mut tx = auditor.transaction("default", own).unwrap();
        Widget::log_change_in(&mut tx, None, Some(&w3))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(WidgetLog::for_object(&auditor, &3).await.unwrap().len(), 1);
    });
}

/// A second fresh database of `db`'s kind as the `audit` alias, with `db`
/// as `default`; `None` when the server is not configured.
async fn with_audit_database(db: &TestDb, mut config: AuditConfig) -> Option<(TestDb, Auditor)> {
    let audit_db = TestDb::new(db.kind).await?;
    config.database_alias = "audit".to_owned();
    let auditor = Auditor::builder(config)
        .database("default", db.database())
        .database("audit", audit_db.database())
        .build()
        .unwrap();
    Some((audit_db, auditor))
}

/// Another audit database: rows wait for the commit, and a rollback leaves none.
pub async fn transaction_with_another_audit_database(db: TestDb) {
    let Some((audit_db, auditor)) = with_audit_database(&db, AuditConfig::default()).await else {
        return;
    };
    db.exec(CREATE_WIDGET).await;
    for_backend!(db, |DB| {
        let w = widget(1, 1);
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        assert!(!tx.logs_inside());
        sqlx::raw_sql(insert_widget_sql(&w))
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(
            Widget::log_change_in(&mut tx, None, Some(&w))
                .await
                .unwrap(),
            LogOutcome::Deferred
        );
        let gizmo = Gizmo { id: 1, qty: 1 };
        Gizmo::log_change_in(&mut tx, None, Some(&gizmo))
            .await
            .unwrap();
        assert!(
            !audit_db.table_exists(None, "widget_log").await,
            "nothing before the commit"
        );
        tx.commit().await.unwrap();
        assert_eq!(audit_db.count("widget_log").await, 1);
        assert_eq!(audit_db.count("gizmo_log").await, 1);
        assert!(!db.table_exists(None, "widget_log").await);

        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let w2 = widget(2, 1);
        sqlx::raw_sql(insert_widget_sql(&w2))
            .execute(&mut *tx)
            .await
            .unwrap();
        Widget::log_change_in(&mut tx, None, Some(&w2))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(
            audit_db.count("widget_log").await,
            1,
            "a rolled-back change is never logged"
        );
        assert!(
            WidgetLog::for_object(&auditor, &2)
                .await
                .unwrap()
                .is_empty()
        );

        // The created_at of a deferred row is still the time of the call.
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        let before_call = chrono::Utc::now();
        Widget::log_change_in(&mut tx, None, Some(&widget(5, 1)))
            .await
            .unwrap();
        let after_call = chrono::Utc::now();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        tx.commit().await.unwrap();
        let row = &WidgetLog::for_object(&auditor, &5).await.unwrap()[0];
        assert!(row.created_at.timestamp_micros() >= before_call.timestamp_micros());
        assert!(row.created_at.timestamp_micros() <= after_call.timestamp_micros());

        let err = auditor.begin::<DB>("missing").await.err().unwrap();
        assert!(matches!(err, Error::UnknownAlias { .. }), "{err}");
    });
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
        Widget::log_change(&auditor, None, Some(&w)).await.unwrap();
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

/// PG_SCHEMA puts the log tables into that schema, created when missing;
/// other databases have no schemas and ignore it.
pub async fn pg_schema_holds_the_log_tables(db: TestDb) {
    let mut config = AuditConfig::default();
    config.pg_schema = Some("audit_logs".to_owned());
    let auditor = db.auditor(config);
    Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    let mut tx_rows = 0;
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        Gizmo::log_change_in(&mut tx, None, Some(&Gizmo { id: 1, qty: 1 }))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        tx_rows += 1;
    });
    assert_eq!(WidgetLog::for_object(&auditor, &1).await.unwrap().len(), 1);
    match db.kind {
        Kind::Postgres => {
            assert!(db.table_exists(Some("audit_logs"), "widget_log").await);
            assert!(db.table_exists(Some("audit_logs"), "gizmo_log").await);
            assert!(!db.table_exists(Some("public"), "widget_log").await);
            assert_eq!(db.count("audit_logs.gizmo_log").await, tx_rows);
        }
        Kind::Sqlite | Kind::MySql => {
            assert!(db.table_exists(None, "widget_log").await);
            assert_eq!(db.count("gizmo_log").await, tx_rows);
        }
    }
}

/// A log table created by the original (MySQL: `TIMESTAMP` created_at)
/// keeps receiving rows, in strict mode.
pub async fn writes_into_tables_the_original_created(db: TestDb) {
    let original_created_at = match db.kind {
        Kind::MySql => "TIMESTAMP NOT NULL",
        Kind::Postgres => "TIMESTAMPTZ NOT NULL",
        Kind::Sqlite => "TEXT NOT NULL",
    };
    let ddl = WidgetLog::DDL_SQLITE.to_owned();
    let ddl = match db.kind {
        Kind::MySql => WidgetLog::DDL_MYSQL.replace("DATETIME(6) NOT NULL", original_created_at),
        Kind::Postgres => WidgetLog::DDL_POSTGRES.to_owned(),
        Kind::Sqlite => ddl,
    };
    db.exec(&ddl).await;
    if let crate::harness::TestPool::MySql(pool) = &db.pool {
        let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(
            mode.contains("STRICT_TRANS_TABLES"),
            "the server runs in strict mode: {mode}"
        );
    }
    let auditor = db.auditor(AuditConfig::default());
    let start = chrono::Utc::now();
    Widget::log_change(&auditor, None, Some(&widget(1, 1)))
        .await
        .unwrap();
    let row = &WidgetLog::for_object(&auditor, &1).await.unwrap()[0];
    // TIMESTAMP keeps whole seconds only.
    assert!(
        row.created_at.timestamp() >= start.timestamp() && row.created_at <= chrono::Utc::now()
    );
    assert_eq!(row.after, Some(json!({"id": 1, "name": "B", "qty": 1})));
}

fn async_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_retry_base_ms = 20;
    config.async_retry_max_ms = 200;
    config
}

/// A way to keep the audit database away for a while: the proxy down, or
/// (SQLite) a database file whose directory does not exist yet.
struct Outage {
    proxy: Option<crate::harness::FlakyProxy>,
    missing: Option<(tempfile::TempDir, std::path::PathBuf)>,
}

impl Outage {
    async fn new(db: &TestDb) -> (Outage, awesome_audit_log::Database) {
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

    fn down(&self) {
        if let Some(proxy) = &self.proxy {
            proxy.down();
        }
    }

    fn up(&self) {
        if let Some(proxy) = &self.proxy {
            proxy.up();
        }
        if let Some((_, missing)) = &self.missing {
            std::fs::create_dir_all(missing).unwrap();
        }
    }
}

/// ASYNC rows equal the rows the synchronous path writes for the same changes.
pub async fn async_rows_equal_sync_rows(db: TestDb) {
    let sync = db.auditor(AuditConfig::default());
    let background = db.auditor(async_config());
    let changes = |id: i64| {
        let a = Account::sample(&format!("acc-{id}"));
        let b = Account {
            balance: 99.5,
            api_key: "other".into(),
            ..a.clone()
        };
        (a, b)
    };
    let (a1, b1) = changes(1);
    let (a2, b2) = changes(2);
    for (auditor, a, b) in [(&sync, &a1, &b1), (&background, &a2, &b2)] {
        Account::log_change(auditor, None, Some(a)).await.unwrap();
        Account::log_change(auditor, Some(a), Some(b))
            .await
            .unwrap();
        Account::log_changes(auditor, [(Some(b), None)])
            .await
            .unwrap();
    }
    assert_eq!(
        Account::log_change(&background, None, Some(&a2))
            .await
            .unwrap(),
        LogOutcome::Queued
    );
    background.flush().await;
    let strip = |rows: Vec<AccountLog>| {
        rows.into_iter()
            .map(|r| {
                let text = |v: Option<serde_json::Value>| {
                    v.map(|v| v.to_string().replace("acc-1", "acc-2"))
                };
                (r.action, text(r.before), text(r.after), text(r.changes))
            })
            .collect::<Vec<_>>()
    };
    let sync_rows = strip(AccountLog::for_object(&sync, "acc-1").await.unwrap());
    let async_rows = strip(AccountLog::for_object(&sync, "acc-2").await.unwrap());
    assert_eq!(sync_rows.len(), 3);
    assert_eq!(async_rows[..3], sync_rows[..]);
    assert_eq!(background.stats().queued, 4);
    assert_eq!(background.stats().written, 4);
}

/// ASYNC: `created_at` is the time of the call even when the writer is held
/// back for 2 seconds, and nothing is lost while the database is down.
pub async fn async_writer_survives_an_outage(db: TestDb) {
    let (outage, database) = Outage::new(&db).await;
    let auditor = Auditor::builder(async_config())
        .database("default", database)
        .build()
        .unwrap();
    if outage.proxy.is_some() {
        // Make the table exist, so the outage is the only obstacle.
        Widget::log_change(&auditor, None, Some(&widget(0, 0)))
            .await
            .unwrap();
        auditor.flush().await;
    }
    outage.down();
    let before = chrono::Utc::now();
    for qty in 1..=50 {
        let old = widget(1, qty - 1);
        let new = widget(1, qty);
        assert_eq!(
            Widget::log_change(&auditor, Some(&old), Some(&new))
                .await
                .unwrap(),
            LogOutcome::Queued
        );
    }
    let after = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    outage.up();
    auditor.flush().await;

    let stats = auditor.stats();
    assert!(stats.retried > 0, "the writer retried: {stats:?}");
    assert_eq!(stats.failed, 0);
    let rows = WidgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.len(), 50, "no row lost");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(
            row.changes,
            Some(json!({"qty": {"from": i, "to": i + 1}})),
            "order kept"
        );
        assert!(row.created_at.timestamp_micros() >= before.timestamp_micros());
        assert!(
            row.created_at.timestamp_micros() <= after.timestamp_micros(),
            "event time, not write time"
        );
    }
}

/// ASYNC: flush waits for what was queued; after shutdown rows are written inline.
pub async fn async_flush_and_shutdown(db: TestDb) {
    let auditor = db.auditor(async_config());
    let widgets: Vec<Widget> = (0..300).map(|i| widget(i, 1)).collect();
    for w in &widgets {
        Widget::log_change(&auditor, None, Some(w)).await.unwrap();
    }
    auditor.flush().await;
    assert_eq!(db.count("widget_log").await, 300);
    let clone = auditor.clone();
    Widget::log_change(&clone, Some(&widgets[0]), None)
        .await
        .unwrap();
    auditor.shutdown().await;
    assert_eq!(db.count("widget_log").await, 301, "shutdown flushes");
    assert_eq!(
        Widget::log_change(&clone, Some(&widgets[1]), None)
            .await
            .unwrap(),
        LogOutcome::Written,
        "after shutdown rows are written inline"
    );
    assert_eq!(db.count("widget_log").await, 302);
}

/// ASYNC with ASYNC_QUEUE_FULL = drop: a full queue drops rows, and counts them.
pub async fn async_drop_policy_counts(db: TestDb) {
    let (outage, database) = Outage::new(&db).await;
    let mut config = async_config();
    config.async_queue_size = 2;
    config.async_queue_full = awesome_audit_log::config::QueueFull::Drop;
    let auditor = Auditor::builder(config)
        .database("default", database)
        .build()
        .unwrap();
    outage.down();
    let mut dropped = 0;
    for i in 0..40 {
        if Widget::log_change(&auditor, None, Some(&widget(i, 1)))
            .await
            .unwrap()
            == LogOutcome::Dropped
        {
            dropped += 1;
        }
    }
    outage.up();
    auditor.flush().await;
    let stats = auditor.stats();
    assert!(dropped > 0, "a queue of 2 behind a dead database overflows");
    assert_eq!(stats.dropped, dropped);
    assert_eq!(stats.written + stats.dropped, 40, "{stats:?}");
}

fn outbox_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = awesome_audit_log::config::AsyncTransport::Outbox;
    config
}

/// The outbox: rows commit with the change, roll back with it, and workers
/// (two at once where the database can lock rows) move each exactly once;
/// a redelivered event is not logged twice.
pub async fn outbox_moves_each_row_exactly_once(db: TestDb) {
    db.exec(CREATE_WIDGET).await;
    let auditor = db.auditor(outbox_config());
    for_backend!(db, |DB| {
        for id in 1..=60 {
            let w = widget(id, 1);
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            assert!(tx.logs_inside());
            sqlx::raw_sql(insert_widget_sql(&w))
                .execute(&mut *tx)
                .await
                .unwrap();
            assert_eq!(
                Widget::log_change_in(&mut tx, None, Some(&w))
                    .await
                    .unwrap(),
                LogOutcome::Queued
            );
            if id % 3 == 0 {
                tx.rollback().await.unwrap();
            } else {
                tx.commit().await.unwrap();
            }
        }
    });
    // Outside a transaction the row goes to the audit database's outbox.
    assert_eq!(
        Widget::log_change(&auditor, None, Some(&widget(100, 1)))
            .await
            .unwrap(),
        LogOutcome::Queued
    );
    assert_eq!(db.count("awesome_audit_log_outbox").await, 41);
    assert!(
        !db.table_exists(None, "widget_log").await,
        "nothing moved yet"
    );

    let worker = auditor.outbox_worker("default").unwrap().batch_size(7);
    let moved = if db.kind == Kind::Sqlite {
        worker.drain().await.unwrap()
    } else {
        let other = worker.clone();
        let (a, b) = tokio::join!(worker.drain(), other.drain());
        a.unwrap() + b.unwrap()
    };
    assert_eq!(moved, 41);
    assert_eq!(db.count("awesome_audit_log_outbox").await, 0);
    assert_eq!(db.count("widget_log").await, 41);
    for id in 1..=60 {
        let rows = WidgetLog::for_object(&auditor, &id).await.unwrap();
        assert_eq!(rows.len(), usize::from(id % 3 != 0), "widget {id}");
    }
    assert_eq!(auditor.stats().written, 41);
}

/// With the log tables in another database, a batch redelivered after a
/// crash (logged, but still in the outbox) is skipped by its event id.
pub async fn outbox_redelivery_is_a_no_op(db: TestDb) {
    let Some((audit_db, auditor)) = with_audit_database(&db, outbox_config()).await else {
        return;
    };
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        Widget::log_changes_in(
            &mut tx,
            [(None, Some(&widget(1, 1))), (None, Some(&widget(2, 1)))],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    });
    // Keep a copy of the outbox, as a crash before its delete would have.
    db.exec("CREATE TABLE outbox_copy AS SELECT * FROM awesome_audit_log_outbox")
        .await;
    let worker = auditor.outbox_worker("default").unwrap();
    assert_eq!(worker.drain().await.unwrap(), 2);
    db.exec("INSERT INTO awesome_audit_log_outbox SELECT * FROM outbox_copy")
        .await;
    assert_eq!(worker.drain().await.unwrap(), 2, "redelivered");
    assert_eq!(
        audit_db.count("widget_log").await,
        2,
        "each event logged once"
    );
    assert_eq!(db.count("awesome_audit_log_outbox").await, 0);
}

/// A process doing audited changes in a loop is killed with SIGKILL; a
/// worker then drains the outbox: every committed change has exactly one log
/// row, no rolled-back change has one.
pub async fn outbox_survives_sigkill(db: TestDb) {
    use tokio::io::AsyncBufReadExt as _;
    db.exec(CREATE_WIDGET).await;
    let exe = std::env::current_exe().unwrap();
    let child_bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .unwrap()
        .join("outbox_child");
    assert!(
        child_bin.exists(),
        "{} is built with the tests",
        child_bin.display()
    );
    let mut child = tokio::process::Command::new(&child_bin)
        .arg(&db.url)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut committed = 0;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while committed < 40 && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(line))) if line.starts_with("committed") => committed += 1,
            Ok(Ok(Some(_))) => {}
            other => panic!("child stopped early: {other:?}"),
        }
    }
    assert!(committed >= 40, "the child committed changes");
    child.start_kill().unwrap(); // SIGKILL, mid-loop
    let status = child.wait().await.unwrap();
    assert!(!status.success());

    let auditor = db.auditor(outbox_config());
    auditor
        .outbox_worker("default")
        .unwrap()
        .drain()
        .await
        .unwrap();
    let widgets = db.ids("SELECT id FROM widget").await;
    let logged = db
        .ids("SELECT CAST(object_pk AS BIGINT) FROM widget_log")
        .await;
    assert!(widgets.len() >= 40);
    assert_eq!(
        logged, widgets,
        "exactly one row per committed change, none for rolled-back ones"
    );
    assert!(
        widgets.iter().all(|id| id % 4 != 3),
        "rolled-back changes are not in the table"
    );
}

/// ASYNC with the log in another database: a transaction's rows are queued
/// only when it commits; a rollback queues nothing.
pub async fn async_transaction_rows_wait_for_commit(db: TestDb) {
    let Some((audit_db, auditor)) = with_audit_database(&db, async_config()).await else {
        return;
    };
    for_backend!(db, |DB| {
        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        assert_eq!(
            Widget::log_change_in(&mut tx, None, Some(&widget(1, 1)))
                .await
                .unwrap(),
            LogOutcome::Deferred
        );
        tx.rollback().await.unwrap();
        auditor.flush().await;
        assert_eq!(auditor.stats().queued, 0, "nothing queued for a rollback");

        let mut tx = auditor.begin::<DB>("default").await.unwrap();
        Widget::log_change_in(&mut tx, None, Some(&widget(2, 1)))
            .await
            .unwrap();
        assert_eq!(
            auditor.stats().queued,
            0,
            "nothing queued before the commit"
        );
        tx.commit().await.unwrap();
        assert_eq!(auditor.stats().queued, 1);
        auditor.flush().await;
    });
    assert_eq!(audit_db.count("widget_log").await, 1);
    assert_eq!(WidgetLog::for_object(&auditor, &2).await.unwrap().len(), 1);
}
