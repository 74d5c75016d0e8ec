//! Capture by generated triggers: the rows the triggers write equal the rows
//! `log_change` writes for the same changes; plain SQL is logged; rolled
//! back changes leave no row; installation checks the table and follows
//! the configuration.

use awesome_audit_log::config::ModelList;
use awesome_audit_log::triggers::TriggerOutcome;
use awesome_audit_log::{AuditConfig, Auditor, Error};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use sqlx::AssertSqlSafe;

use super::fixtures::original_log_table;
use crate::harness::TestPool;
use crate::models::{Badge, BadgeLog, Gadget, GadgetLog};
use crate::{Kind, TestDb};

/// The model's table; `qty` lives in `qty_col`.
pub fn create_table(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => {
            "CREATE TABLE gadget (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty_col INTEGER NOT NULL, \
             active BOOLEAN NOT NULL, note TEXT, day DATE NOT NULL, seen_at TIMESTAMPTZ NOT NULL, \
             token UUID NOT NULL, data JSONB NOT NULL, count BIGINT, secret TEXT NOT NULL, cache TEXT NOT NULL)"
        }
        Kind::MySql => {
            "CREATE TABLE gadget (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, qty_col INT NOT NULL, \
             active BOOLEAN NOT NULL, note TEXT, day DATE NOT NULL, seen_at DATETIME(6) NOT NULL, \
             token BINARY(16) NOT NULL, data JSON NOT NULL, count BIGINT, secret TEXT NOT NULL, cache TEXT NOT NULL)"
        }
        Kind::Sqlite => {
            "CREATE TABLE gadget (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty_col INTEGER NOT NULL, \
             active BOOLEAN NOT NULL, note TEXT, day TEXT NOT NULL, seen_at TEXT NOT NULL, \
             token BLOB NOT NULL, data TEXT NOT NULL, count INTEGER, secret TEXT NOT NULL, cache TEXT NOT NULL)"
        }
    }
}

const COLUMNS: &str =
    "id, name, qty_col, active, note, day, seen_at, token, data, count, secret, cache";

/// A gadget with a value of every rendered type.
pub fn gadget(id: i64) -> Gadget {
    Gadget {
        id,
        name: format!("Gadget \"{id}\" ünïcode"),
        qty: 2,
        active: true,
        note: None,
        day: NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
        seen_at: at("2026-11-28T06:18:28.123456Z"),
        token: uuid::Uuid::parse_str("0190f1c2-aaaa-7bbb-8ccc-0123456789ab").unwrap(),
        data: json!({"b": [1, 2, {"c": null}], "a": "x", "n": -3}),
        count: Some(i64::MAX),
        secret: "s3cret".into(),
        cache: "warm".into(),
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// `$1, $2, ...` or `?, ?, ...` for `n` values.
fn placeholders(kind: Kind, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| match kind {
            Kind::MySql => "?".to_owned(),
            _ => format!("${i}"),
        })
        .collect()
}

/// Runs `sql` on the test's pool with `gadget`'s fields bound in
/// [`COLUMNS`] order (then its id, for an update), in a transaction that
/// commits or rolls back as `commit` says.
pub async fn write(db: &TestDb, sql: &str, gadget: &Gadget, commit: bool) {
    let with_id = sql.starts_with("UPDATE");
    macro_rules! run {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.unwrap();
            let query = sqlx::query(AssertSqlSafe(sql.to_owned()))
                .bind(gadget.id)
                .bind(&gadget.name)
                .bind(gadget.qty)
                .bind(gadget.active)
                .bind(&gadget.note)
                .bind(gadget.day)
                .bind(gadget.seen_at)
                .bind(gadget.token)
                .bind(&gadget.data)
                .bind(gadget.count)
                .bind(&gadget.secret)
                .bind(&gadget.cache);
            let query = if with_id {
                query.bind(gadget.id)
            } else {
                query
            };
            query.execute(&mut *tx).await.unwrap();
            if commit {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
        }};
    }
    match &db.pool {
        TestPool::Sqlite(pool) => run!(pool),
        TestPool::Postgres(pool) => run!(pool),
        TestPool::MySql(pool) => run!(pool),
    }
}

/// The INSERT of a whole row.
pub fn insert_sql(kind: Kind) -> String {
    let p = placeholders(kind, 12);
    format!("INSERT INTO gadget ({COLUMNS}) VALUES ({})", p.join(", "))
}

/// The UPDATE of every column of the row with the last value's id.
fn update_sql(kind: Kind) -> String {
    let p = placeholders(kind, 13);
    let sets: Vec<String> = COLUMNS
        .split(", ")
        .zip(&p)
        .map(|(column, p)| format!("{column} = {p}"))
        .collect();
    format!("UPDATE gadget SET {} WHERE id = {}", sets.join(", "), p[12])
}

/// Inserts, updates to `changed`, deletes: through plain SQL.
async fn write_sequence(db: &TestDb, first: &Gadget, changed: &Gadget) {
    write(db, &insert_sql(db.kind), first, true).await;
    write(db, &update_sql(db.kind), changed, true).await;
    db.exec(&format!("DELETE FROM gadget WHERE id = {}", first.id))
        .await;
}

/// A row as compared: every column but `id`, `created_at` and `event_id`.
type Compared = (
    String,
    String,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
    Option<serde_json::Value>,
    Context,
);

fn compared(row: &GadgetLog) -> Compared {
    (
        row.action.to_string(),
        row.object_pk.clone(),
        row.before.clone(),
        row.after.clone(),
        row.changes.clone(),
        context_of(row),
    )
}

/// The context columns of a row: the eight text ones, then `user_id`.
pub(super) type Context = ([Option<String>; 8], Option<i64>);

/// The context columns of `row`.
pub(super) fn context_of(row: &GadgetLog) -> Context {
    (
        [
            row.entry_point.clone(),
            row.route.clone(),
            row.path.clone(),
            row.method.clone(),
            row.ip.clone(),
            row.user_name.clone(),
            row.user_agent.clone(),
            row.correlation_id.clone(),
        ],
        row.user_id,
    )
}

pub(super) async fn setup(db: &TestDb, config: AuditConfig) -> Auditor {
    db.exec(create_table(db.kind)).await;
    let auditor = db.auditor(config);
    assert_eq!(
        Gadget::install_triggers(&auditor).await.unwrap(),
        TriggerOutcome::Installed
    );
    auditor
}

/// The rows the triggers write for an insert, an update and a delete made
/// with plain SQL equal, column by column, the rows `log_change` writes for
/// the same changes; with microseconds, milliseconds and whole seconds in
/// the timestamp, a NULL becoming a value, a redacted field changing, and
/// a field stored in a column of another name.
pub async fn trigger_rows_equal_log_change_rows(db: TestDb) {
    let auditor = setup(&db, AuditConfig::default()).await;
    let first = gadget(1);
    let changed = Gadget {
        qty: 3,
        active: false,
        note: Some("now set".into()),
        day: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        seen_at: at("2026-11-28T06:18:28.120Z"),
        token: uuid::Uuid::parse_str("ffffffff-0000-4000-8000-00000000000a").unwrap(),
        data: json!([true, 1.5, "y"]),
        count: None,
        secret: "other".into(),
        ..first.clone()
    };
    let third = Gadget {
        seen_at: at("2026-11-28T06:18:28Z"),
        ..changed.clone()
    };
    let start = Utc::now();
    write_sequence(&db, &first, &changed).await;
    write_sequence(&db, &changed, &third).await;
    let end = Utc::now();
    Gadget::uninstall_triggers(&auditor).await.unwrap();
    for (a, b) in [(&first, &changed), (&changed, &third)] {
        for (before, after) in [(None, Some(a)), (Some(a), Some(b)), (Some(b), None)] {
            let _ = Gadget::log_change(&auditor, before, after).await.unwrap();
        }
    }
    let rows = GadgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.len(), 12, "{rows:#?}");
    let (by_triggers, by_calls) = rows.split_at(6);
    for (trigger, call) in by_triggers.iter().zip(by_calls) {
        assert_eq!(
            compared(trigger),
            compared(call),
            "trigger row {trigger:#?}"
        );
        // The statement's time, on the database's clock (the same machine):
        // within the writes, give or take the database's precision.
        let slack = chrono::Duration::milliseconds(5);
        assert!(
            trigger.created_at >= start - slack && trigger.created_at <= end + slack,
            "{} not within {start}..{end}",
            trigger.created_at
        );
    }
    assert_eq!(
        by_triggers[1].changes.as_ref().unwrap()["qty"],
        json!({"from": 2, "to": 3})
    );
    assert!(
        by_triggers[1]
            .after
            .as_ref()
            .unwrap()
            .get("cache")
            .is_none()
    );
    assert_eq!(
        by_triggers[4].changes.as_ref().unwrap(),
        &json!({"seen_at": {"from": "2026-11-28T06:18:28.120Z", "to": "2026-11-28T06:18:28Z"}})
    );
    // No row has an event id: `log_change` gives one only to the events
    // of the asynchronous transports, and the triggers give none.
    let ids = db
        .texts("SELECT event_id FROM gadget_log ORDER BY id")
        .await;
    assert_eq!(ids.len(), 12);
    assert!(ids.iter().all(Option::is_none), "{ids:?}");
}

/// The table of `Badge`: its UUID key as sqlx stores a `Uuid`.
pub fn create_badge_table(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "CREATE TABLE badge (id UUID PRIMARY KEY, label TEXT NOT NULL)",
        Kind::MySql => "CREATE TABLE badge (id BINARY(16) PRIMARY KEY, label TEXT NOT NULL)",
        Kind::Sqlite => "CREATE TABLE badge (id BLOB PRIMARY KEY, label TEXT NOT NULL)",
    }
}

/// A UUID primary key is logged as its hyphenated text, as `log_change`
/// writes it, whether the database stores it natively or as 16 bytes; the
/// rows equal those of `log_change`.
pub async fn uuid_keys_are_logged_as_text(db: TestDb) {
    db.exec(create_badge_table(db.kind)).await;
    let auditor = db.auditor(AuditConfig::default());
    assert_eq!(
        Badge::install_triggers(&auditor).await.unwrap(),
        TriggerOutcome::Installed
    );
    let first = Badge {
        id: uuid::Uuid::parse_str("0190f2a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6").unwrap(),
        label: "first".into(),
    };
    let renamed = Badge {
        label: "renamed".into(),
        ..first.clone()
    };
    let p = placeholders(db.kind, 2);
    let insert = format!("INSERT INTO badge (id, label) VALUES ({}, {})", p[0], p[1]);
    let update = format!("UPDATE badge SET label = {} WHERE id = {}", p[0], p[1]);
    let delete = format!("DELETE FROM badge WHERE id = {}", p[0]);
    macro_rules! run {
        ($pool:expr) => {{
            sqlx::query(AssertSqlSafe(insert))
                .bind(first.id)
                .bind(&first.label)
                .execute($pool)
                .await
                .unwrap();
            sqlx::query(AssertSqlSafe(update))
                .bind(&renamed.label)
                .bind(first.id)
                .execute($pool)
                .await
                .unwrap();
            sqlx::query(AssertSqlSafe(delete))
                .bind(first.id)
                .execute($pool)
                .await
                .unwrap();
        }};
    }
    match &db.pool {
        TestPool::Sqlite(pool) => run!(pool),
        TestPool::Postgres(pool) => run!(pool),
        TestPool::MySql(pool) => run!(pool),
    }
    Badge::uninstall_triggers(&auditor).await.unwrap();
    for (before, after) in [
        (None, Some(&first)),
        (Some(&first), Some(&renamed)),
        (Some(&renamed), None),
    ] {
        let _ = Badge::log_change(&auditor, before, after).await.unwrap();
    }
    let rows = BadgeLog::for_object(&auditor, &first.id).await.unwrap();
    assert_eq!(rows.len(), 6, "{rows:#?}");
    let key = "0190f2a4-5b6c-7d8e-9fa0-b1c2d3e4f5a6";
    let (by_triggers, by_calls) = rows.split_at(3);
    for (trigger, call) in by_triggers.iter().zip(by_calls) {
        assert_eq!(trigger.object_pk, key);
        assert_eq!(
            (
                &trigger.action,
                &trigger.before,
                &trigger.after,
                &trigger.changes
            ),
            (&call.action, &call.before, &call.after, &call.changes),
            "trigger row {trigger:#?}"
        );
    }
    assert_eq!(by_triggers[0].after.as_ref().unwrap()["id"], key);
}

/// A bulk `UPDATE` from outside the application logs one row per changed
/// object; an update that changes only a skipped field, or nothing, logs
/// nothing, as `log_change` does; a rolled-back change leaves no row.
pub async fn plain_sql_changes_are_logged(db: TestDb) {
    let auditor = setup(&db, AuditConfig::default()).await;
    for id in 1..=3 {
        write(&db, &insert_sql(db.kind), &gadget(id), true).await;
    }
    db.exec("UPDATE gadget SET qty_col = qty_col + 1 WHERE id <= 2")
        .await;
    db.exec("UPDATE gadget SET cache = 'cold'").await;
    db.exec("UPDATE gadget SET qty_col = qty_col").await;
    let rolled_back = Gadget {
        qty: 40,
        ..gadget(3)
    };
    write(&db, &update_sql(db.kind), &rolled_back, false).await;
    write(&db, &insert_sql(db.kind), &gadget(4), false).await;
    for id in 1..=2 {
        let rows = GadgetLog::for_object(&auditor, &id).await.unwrap();
        assert_eq!(rows.len(), 2, "{rows:#?}");
        assert_eq!(
            rows[1].changes.as_ref().unwrap(),
            &json!({"qty": {"from": 2, "to": 3}})
        );
    }
    assert_eq!(GadgetLog::for_object(&auditor, &3).await.unwrap().len(), 1);
    assert_eq!(db.count("gadget_log").await, 5);
}

/// With LOG_UNCHANGED_UPDATES the triggers log an update that changes no
/// stored field with empty `changes`, like `log_change`.
pub async fn unchanged_updates_follow_the_setting(db: TestDb) {
    let mut config = AuditConfig::default();
    config.log_unchanged_updates = true;
    let auditor = setup(&db, config).await;
    let g = gadget(1);
    write(&db, &insert_sql(db.kind), &g, true).await;
    db.exec("UPDATE gadget SET cache = 'cold'").await;
    Gadget::uninstall_triggers(&auditor).await.unwrap();
    let _ = Gadget::log_change(&auditor, Some(&g), Some(&g))
        .await
        .unwrap();
    let rows = GadgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(compared(&rows[1]), compared(&rows[2]));
    assert_eq!(rows[1].changes, Some(json!({})));
}

/// Installing twice replaces the triggers (one row per change still);
/// uninstalling stops the logging; a model that NOT_AUDIT_MODELS names
/// gets no triggers; a table without a field's column is refused, naming
/// the column, and nothing is installed.
pub async fn installation_is_idempotent_and_checked(db: TestDb) {
    let auditor = setup(&db, AuditConfig::default()).await;
    assert_eq!(
        Gadget::install_triggers(&auditor).await.unwrap(),
        TriggerOutcome::Installed
    );
    write(&db, &insert_sql(db.kind), &gadget(1), true).await;
    assert_eq!(db.count("gadget_log").await, 1);
    // The triggers log it: a call would log it twice, and is refused.
    let g = gadget(1);
    let refused = Gadget::log_change(&auditor, None, Some(&g)).await;
    assert!(
        matches!(
            refused,
            Err(Error::CapturedByTriggers {
                model: "shop.gadget"
            })
        ),
        "{refused:?}"
    );
    let refused = Gadget::log_changes(&auditor, [(None, Some(&g))]).await;
    assert!(
        matches!(refused, Err(Error::CapturedByTriggers { .. })),
        "{refused:?}"
    );
    assert_eq!(db.count("gadget_log").await, 1);

    let mut config = AuditConfig::default();
    config.not_audit_models = ModelList(["shop.gadget".to_owned()].into_iter().collect());
    let excluded = db.auditor(config);
    assert_eq!(
        Gadget::install_triggers(&excluded).await.unwrap(),
        TriggerOutcome::NotAudited
    );
    write(&db, &insert_sql(db.kind), &gadget(2), true).await;
    assert_eq!(db.count("gadget_log").await, 1, "no triggers left");

    Gadget::install_triggers(&auditor).await.unwrap();
    Gadget::uninstall_triggers(&auditor).await.unwrap();
    Gadget::uninstall_triggers(&auditor).await.unwrap();
    write(&db, &insert_sql(db.kind), &gadget(3), true).await;
    assert_eq!(db.count("gadget_log").await, 1);
    // Uninstalled: calls log again.
    let _ = Gadget::log_change(&auditor, None, Some(&gadget(3)))
        .await
        .unwrap();
    assert_eq!(db.count("gadget_log").await, 2);

    db.exec("DROP TABLE gadget").await;
    db.exec(&create_table(db.kind).replace("qty_col", "qty"))
        .await;
    match Gadget::install_triggers(&auditor).await {
        Err(Error::Triggers { model, reason }) => {
            assert_eq!(model, "shop.gadget");
            assert!(
                reason.contains("no column `qty_col` (field key `qty`)"),
                "{reason}"
            );
        }
        other => panic!("expected Error::Triggers, got {other:?}"),
    }
}

/// Into a log table the Django original created (no `event_id`), the
/// triggers write the original's columns; on PostgreSQL, PG_SCHEMA holds
/// the log table and the trigger function, and the model's table is found
/// by the search path.
pub async fn triggers_write_the_original_tables_and_follow_pg_schema(db: TestDb) {
    let ddl = match db.kind {
        Kind::Postgres => GadgetLog::DDL_POSTGRES,
        Kind::MySql => GadgetLog::DDL_MYSQL,
        Kind::Sqlite => GadgetLog::DDL_SQLITE,
    };
    db.exec(&original_log_table(ddl)).await;
    let auditor = setup(&db, AuditConfig::default()).await;
    write(&db, &insert_sql(db.kind), &gadget(1), true).await;
    let rows = GadgetLog::for_object(&auditor, &1).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].after.as_ref().unwrap()["qty"], 2);
    assert!(
        !db.columns(None, "gadget_log")
            .await
            .contains(&"event_id".to_owned())
    );
    Gadget::uninstall_triggers(&auditor).await.unwrap();
    if db.kind != Kind::Postgres {
        return;
    }
    let mut config = AuditConfig::default();
    config.pg_schema = Some("audit_logs".to_owned());
    let in_schema = db.auditor(config);
    Gadget::install_triggers(&in_schema).await.unwrap();
    write(&db, &insert_sql(db.kind), &gadget(2), true).await;
    assert_eq!(db.count("audit_logs.gadget_log").await, 1);
    assert_eq!(
        db.count("gadget_log").await,
        1,
        "the public table is left alone"
    );
    let functions = db
        .ids(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_proc p JOIN pg_namespace n \
             ON n.oid = p.pronamespace WHERE n.nspname = 'audit_logs' AND p.proname = 'gadget_audit_fn'",
        )
        .await;
    assert_eq!(functions, [1]);
    let rows = GadgetLog::for_object(&in_schema, &2).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].created_at <= Utc::now());
    Gadget::uninstall_triggers(&in_schema).await.unwrap();
    let functions = db
        .ids("SELECT CAST(COUNT(*) AS BIGINT) FROM pg_proc WHERE proname = 'gadget_audit_fn'")
        .await;
    assert_eq!(functions, [0]);
}
