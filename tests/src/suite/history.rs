//! Reading the log back: filters and keyset pages that agree with a plain
//! reading of the same rows, the state as of any moment, every object's
//! state, diffs, restores, rows the Django original wrote, and queries
//! across models.

use std::time::Duration;

use awesome_audit_log::context::{self, AuditContext, EntryPoint};
use awesome_audit_log::history::{AsOf, At, AuditLog, Cursor, PatchOp, Unrestorable};
use awesome_audit_log::{Action, AuditConfig, Auditor, Error, LogOutcome};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde_json::Value;

use super::fixtures::widget;
use crate::models::{Account, AccountField, Gizmo, Widget, WidgetField, WidgetLog};
use crate::{Kind, TestDb};

/// A moment strictly between two writes.
async fn mark() -> DateTime<Utc> {
    tokio::time::sleep(Duration::from_millis(3)).await;
    let now = Utc::now();
    tokio::time::sleep(Duration::from_millis(3)).await;
    now
}

async fn log(
    auditor: &Auditor,
    ctx: AuditContext,
    before: Option<&Widget>,
    after: Option<&Widget>,
) {
    let outcome = context::scope(ctx, Widget::log_change(auditor, before, after))
        .await
        .unwrap();
    assert_eq!(outcome, LogOutcome::Written);
}

fn job(user: i64) -> AuditContext {
    AuditContext::job("shop.jobs.recount", Some("recount")).with_user(Some(user), None)
}

fn request(user: i64) -> AuditContext {
    AuditContext::new(EntryPoint::Http)
        .with_method("POST")
        .with_user(Some(user), Some(format!("user{user}")))
}

fn with_name(id: i64, qty: i32, name: &str) -> Widget {
    Widget {
        name: name.to_owned(),
        ..widget(id, qty)
    }
}

/// Every filter, alone and combined, in both orders, returns exactly the
/// rows a plain in-memory reading of the object's rows selects; keyset
/// pages of every size add up to the same rows, also while rows are being
/// added; the stream reads them all.
pub async fn history_filters_agree_with_a_plain_reading(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let v1 = widget(5, 1);
    let v2 = widget(5, 2);
    let v3 = with_name(5, 2, "C");
    let v4 = with_name(5, 7, "D");
    log(&auditor, request(1), None, Some(&v1)).await;
    let t1 = mark().await;
    log(&auditor, job(2), Some(&v1), Some(&v2)).await;
    log(&auditor, request(1), Some(&v2), Some(&v3)).await;
    let t2 = mark().await;
    log(&auditor, job(2), Some(&v3), Some(&v4)).await;
    log(&auditor, request(3), Some(&v4), None).await;
    log(&auditor, job(1), None, Some(&v1)).await;
    // Another object's rows must never show up.
    log(&auditor, request(1), None, Some(&widget(55, 1))).await;

    let plain = Widget::history(&auditor, &5).all().await.unwrap();
    assert_eq!(plain.len(), 6);
    let changed = |row: &WidgetLog, key: &str| {
        row.changes
            .as_ref()
            .and_then(Value::as_object)
            .is_some_and(|changes| changes.contains_key(key))
    };
    type Case = (
        &'static str,
        Box<
            dyn Fn(
                awesome_audit_log::history::History<'_, Widget>,
            ) -> awesome_audit_log::history::History<'_, Widget>,
        >,
        Box<dyn Fn(&WidgetLog) -> bool>,
    );
    let cases: Vec<Case> = vec![
        ("no filter", Box::new(|h| h), Box::new(|_| true)),
        (
            "updates",
            Box::new(|h| h.action(Action::Update)),
            Box::new(|r| r.action == Action::Update),
        ),
        (
            "inserts or deletes",
            Box::new(|h| h.action(Action::Insert).action(Action::Delete)),
            Box::new(|r| r.action != Action::Update),
        ),
        (
            "user 2",
            Box::new(|h| h.user(2)),
            Box::new(|r| r.user_id == Some(2)),
        ),
        (
            "since t1",
            Box::new(move |h| h.since(t1)),
            Box::new(move |r| r.created_at >= t1),
        ),
        (
            "until t2",
            Box::new(move |h| h.until(t2)),
            Box::new(move |r| r.created_at < t2),
        ),
        (
            "between t1 and t2",
            Box::new(move |h| h.since(t1).until(t2)),
            Box::new(move |r| r.created_at >= t1 && r.created_at < t2),
        ),
        (
            "jobs",
            Box::new(|h| h.entry_point(EntryPoint::CeleryTask)),
            Box::new(|r| r.entry_point.as_deref() == Some("celery_task")),
        ),
        (
            "qty changed",
            Box::new(|h| h.changed(WidgetField::Qty)),
            Box::new(move |r| changed(r, "qty")),
        ),
        (
            "name or qty changed",
            Box::new(|h| h.changed(WidgetField::Name).changed(WidgetField::Qty)),
            Box::new(move |r| changed(r, "name") || changed(r, "qty")),
        ),
        (
            "updates of qty by user 2 after t1",
            Box::new(move |h| {
                h.action(Action::Update)
                    .changed(WidgetField::Qty)
                    .user(2)
                    .since(t1)
            }),
            Box::new(move |r| {
                r.action == Action::Update
                    && changed(r, "qty")
                    && r.user_id == Some(2)
                    && r.created_at >= t1
            }),
        ),
    ];
    for (name, filter, keep) in &cases {
        let expected: Vec<WidgetLog> = plain.iter().filter(|r| keep(r)).cloned().collect();
        assert!(
            !expected.is_empty() || *name == "never",
            "{name}: the case selects something"
        );
        let oldest = filter(Widget::history(&auditor, &5)).all().await.unwrap();
        assert_eq!(oldest, expected, "{name}, oldest first");
        let newest = filter(Widget::history(&auditor, &5).newest_first())
            .all()
            .await
            .unwrap();
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(newest, reversed, "{name}, newest first");
        let streamed: Vec<WidgetLog> = filter(Widget::history(&auditor, &5))
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed, expected, "{name}, streamed");
    }
    // Keyset pages of every size, both orders.
    for size in 1..=4 {
        for newest in [false, true] {
            let mut expected = plain.clone();
            if newest {
                expected.reverse();
            }
            let mut read = Vec::new();
            let mut cursor: Option<Cursor> = None;
            let mut pages = 0;
            loop {
                pages += 1;
                let mut query = Widget::history(&auditor, &5).limit(size);
                if newest {
                    query = query.newest_first();
                }
                if let Some(cursor) = cursor {
                    // Cursors travel as text.
                    query = query.after(cursor.to_string().parse().unwrap());
                }
                let page = query.fetch().await.unwrap();
                assert!(page.rows.len() as u64 <= size);
                assert!(
                    !page.rows.is_empty(),
                    "a cursor never leads to an empty page"
                );
                read.extend(page.rows);
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(read, expected, "pages of {size}, newest first: {newest}");
            assert_eq!(
                pages,
                expected.len().div_ceil(size as usize),
                "pages of {size}"
            );
        }
    }
    // Rows logged while a client pages oldest first do not shift the pages
    // it has not read: they come after everything that was there.
    let first = Widget::history(&auditor, &5)
        .limit(3)
        .fetch()
        .await
        .unwrap();
    let v5 = widget(5, 9);
    log(&auditor, job(4), Some(&v1), Some(&v5)).await;
    let rest = Widget::history(&auditor, &5)
        .after(first.next.expect("a full page"))
        .all()
        .await
        .unwrap();
    let mut read = first.rows;
    read.extend(rest);
    assert_eq!(read.len(), 7);
    assert_eq!(&read[..6], plain.as_slice());
    assert_eq!(read[6].user_id, Some(4));
    // A stream with a limit stops there.
    let limited: Vec<WidgetLog> = Widget::history(&auditor, &5)
        .limit(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(limited, plain[..2]);
}

/// A deleted object keeps its history; `as_of` answers before creation,
/// between changes, exactly at a change (by row and by its time) and after
/// the deletion.
pub async fn as_of_every_moment(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let v1 = widget(8, 1);
    let v2 = widget(8, 2);
    let before_creation = mark().await;
    log(&auditor, request(1), None, Some(&v1)).await;
    let between = mark().await;
    log(&auditor, request(1), Some(&v1), Some(&v2)).await;
    let after_update = mark().await;
    log(&auditor, request(9), Some(&v2), None).await;

    let rows = Widget::history(&auditor, &8).all().await.unwrap();
    let actions: Vec<Action> = rows.iter().map(|r| r.action).collect();
    assert_eq!(
        actions,
        [Action::Insert, Action::Update, Action::Delete],
        "a deleted object's history"
    );

    let state = |at: At| {
        let auditor = &auditor;
        async move { Widget::as_of(auditor, &8, at).await.unwrap() }
    };
    assert!(matches!(
        state(At::Time(before_creation)).await,
        AsOf::NotCreated
    ));
    assert_eq!(state(At::Time(between)).await.value(), Some(&v1));
    assert_eq!(state(At::row(rows[0].id)).await.value(), Some(&v1));
    assert_eq!(state(At::row(rows[1].id)).await.value(), Some(&v2));
    assert_eq!(
        state(At::Time(rows[1].created_at)).await.value(),
        Some(&v2),
        "exactly at a change"
    );
    assert_eq!(state(At::Time(after_update)).await.value(), Some(&v2));
    match state(At::Time(Utc::now())).await {
        AsOf::Deleted { row } => {
            assert_eq!(row.id, rows[2].id);
            assert_eq!(row.user_id, Some(9), "who deleted it");
            assert_eq!(row.user_name.as_deref(), Some("user9"));
        }
        other => panic!("deleted, not {other:?}"),
    }
    assert!(matches!(
        Widget::as_of(&auditor, &404, Utc::now()).await.unwrap(),
        AsOf::NotCreated
    ));
    match Widget::as_of(&auditor, &8, At::row(i64::MAX)).await {
        Err(Error::UnknownLogRow { table, id }) => {
            assert_eq!((table.as_str(), id), ("widget_log", i64::MAX));
        }
        other => panic!("an unknown row is an error: {other:?}"),
    }
    // The deleted object comes back as it was; it does not exist now.
    let restored = Widget::restore(&auditor, &rows[2], None).await.unwrap();
    assert_eq!(restored, v2);
    // The same restore from a caller who thinks it still exists is stale.
    match Widget::restore(&auditor, &rows[0], Some(v2.clone())).await {
        Err(Error::Stale { last_row, .. }) => assert_eq!(last_row, Some(rows[2].id)),
        other => panic!("stale, not {other:?}"),
    }
}

/// Every object's state at a moment, in SQL: the ones that existed, the
/// ones already deleted, and the ones deleted since.
pub async fn as_of_all_objects(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    for id in 1..=3 {
        log(&auditor, request(1), None, Some(&widget(id, 1))).await;
    }
    log(&auditor, request(1), Some(&widget(1, 1)), None).await;
    log(
        &auditor,
        request(1),
        Some(&widget(2, 1)),
        Some(&widget(2, 5)),
    )
    .await;
    let then = mark().await;
    log(&auditor, request(1), Some(&widget(2, 5)), None).await;
    log(
        &auditor,
        request(1),
        Some(&widget(3, 1)),
        Some(&widget(3, 9)),
    )
    .await;
    log(&auditor, request(1), None, Some(&widget(4, 1))).await;

    let all = Widget::as_of_all(&auditor, then).await.unwrap();
    let pks: Vec<&str> = all.objects.iter().map(|(pk, _)| pk.as_str()).collect();
    assert_eq!(pks.len(), 3, "{pks:?}");
    let existing: Vec<(&str, &Widget)> = all.existing().collect();
    let mut existing = existing;
    existing.sort_by_key(|(pk, _)| pk.to_string());
    assert_eq!(existing, [("2", &widget(2, 5)), ("3", &widget(3, 1))]);
    let deleted: Vec<&str> = all
        .objects
        .iter()
        .filter(|(_, state)| matches!(state, AsOf::Deleted { .. }))
        .map(|(pk, _)| pk.as_str())
        .collect();
    assert_eq!(deleted, ["1"]);
    let since: Vec<&str> = all
        .deleted_since
        .iter()
        .map(|row| row.object_pk.as_str())
        .collect();
    assert_eq!(since, ["2"]);
    // The same through a row id: the last row before `then`.
    let rows = Widget::history(&auditor, &2).all().await.unwrap();
    let by_row = Widget::as_of_all(&auditor, At::row(rows[1].id))
        .await
        .unwrap();
    assert_eq!(by_row.existing().count(), 2);
    let now = Widget::as_of_all(&auditor, Utc::now()).await.unwrap();
    let mut now_existing: Vec<(String, Widget)> = now
        .existing()
        .map(|(pk, w)| (pk.to_owned(), w.clone()))
        .collect();
    now_existing.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        now_existing,
        [
            ("3".to_owned(), widget(3, 9)),
            ("4".to_owned(), widget(4, 1))
        ]
    );
    assert!(now.deleted_since.is_empty());
}

/// Redacted and skipped fields are named as not restorable; a current
/// value fills them in.
pub async fn unrestorable_fields_are_named(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let account = Account::sample("acc-1");
    let _ = Account::log_change(&auditor, None, Some(&account))
        .await
        .unwrap();
    match Account::as_of(&auditor, "acc-1", Utc::now()).await.unwrap() {
        AsOf::Partial(partial) => {
            let fields: Vec<(&str, &Unrestorable)> = partial
                .unrestorable
                .iter()
                .map(|f| (f.field, &f.reason))
                .collect();
            assert_eq!(
                fields,
                [
                    ("api_key", &Unrestorable::Redacted),
                    ("cache", &Unrestorable::Skipped)
                ]
            );
            assert_eq!(partial.state()["display_name"], "Ada");
            let current = Account {
                api_key: "new key".to_owned(),
                cache: vec![9],
                ..Account::sample("acc-1")
            };
            let filled = partial.fill(current.clone()).unwrap();
            assert_eq!(filled, current, "the log's fields, the current secrets");
        }
        other => panic!("partial, not {other:?}"),
    }
    // Brought back after a delete, with nothing current to take them from.
    let _ = Account::log_change(&auditor, Some(&account), None)
        .await
        .unwrap();
    let rows = awesome_audit_log::history::History::<Account>::new(&auditor, "acc-1")
        .all()
        .await
        .unwrap();
    match Account::restore(&auditor, &rows[0], None).await {
        Err(Error::Unrestorable {
            fields, object_pk, ..
        }) => {
            assert_eq!(object_pk, "acc-1");
            let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
            assert_eq!(names, ["api_key", "cache"]);
        }
        other => panic!("the log holds neither field: {other:?}"),
    }
    // A rename is read back under its key, and filters by field use it.
    let renamed = Account {
        name: "Grace".to_owned(),
        ..account.clone()
    };
    let _ = Account::log_change(&auditor, None, Some(&account))
        .await
        .unwrap();
    let _ = Account::log_change(&auditor, Some(&account), Some(&renamed))
        .await
        .unwrap();
    let by_name = Account::history(&auditor, "acc-1")
        .changed(AccountField::Name)
        .action(Action::Update)
        .all()
        .await
        .unwrap();
    assert_eq!(by_name.len(), 1);
    let restored = Account::restore(&auditor, &by_name[0], Some(renamed.clone()))
        .await
        .unwrap();
    assert_eq!(restored, renamed);
}

/// Diffs between any two versions, typed per field and as a JSON Patch
/// that turns one state into the other; a delete shows every field leaving.
pub async fn diffs_between_any_versions(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let v1 = widget(3, 1);
    let v2 = with_name(3, 1, "C");
    let v3 = with_name(3, 4, "C");
    log(&auditor, request(1), None, Some(&v1)).await;
    log(&auditor, request(1), Some(&v1), Some(&v2)).await;
    log(&auditor, request(1), Some(&v2), Some(&v3)).await;
    log(&auditor, request(1), Some(&v3), None).await;
    let rows = Widget::history(&auditor, &3).all().await.unwrap();

    let first_to_last = rows[0].diff(&rows[2]);
    let fields: Vec<Option<WidgetField>> = first_to_last.changes.iter().map(|c| c.field).collect();
    assert_eq!(fields, [Some(WidgetField::Name), Some(WidgetField::Qty)]);
    let qty = first_to_last.field(WidgetField::Qty).unwrap();
    assert_eq!(
        (qty.from_as::<i32>().unwrap(), qty.to_as::<i32>().unwrap()),
        (Some(1), Some(4))
    );
    let mut state = rows[0].after.clone().unwrap();
    apply(&mut state, &first_to_last.json_patch());
    assert_eq!(Some(state), rows[2].after);

    let deleted = rows[2].diff(&rows[3]);
    assert_eq!(deleted.changes.len(), 3, "every field leaves");
    assert!(
        deleted
            .json_patch()
            .iter()
            .all(|op| matches!(op, PatchOp::Remove { .. }))
    );
    assert!(rows[1].diff(&rows[1]).is_empty());
}

/// Applies a JSON Patch of top-level members (what diffs produce).
fn apply(state: &mut Value, patch: &[PatchOp]) {
    let object = state.as_object_mut().unwrap();
    for op in patch {
        match op {
            PatchOp::Add { path, value } | PatchOp::Replace { path, value } => {
                object.insert(path[1..].to_owned(), value.clone());
            }
            PatchOp::Remove { path } => {
                object.remove(&path[1..]);
            }
        }
    }
}

/// A restore goes ahead only from the state the log's last row left.
pub async fn restore_refuses_a_lost_update(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let v1 = widget(4, 1);
    let v2 = widget(4, 2);
    log(&auditor, request(1), None, Some(&v1)).await;
    log(&auditor, request(1), Some(&v1), Some(&v2)).await;
    let rows = Widget::history(&auditor, &4).all().await.unwrap();
    // The caller read v1, but v2 was logged since: stale.
    assert!(matches!(
        Widget::restore(&auditor, &rows[0], Some(v1.clone())).await,
        Err(Error::Stale { .. })
    ));
    // From what the log says now, the restore gives v1 back.
    let restored = Widget::restore(&auditor, &rows[0], Some(v2.clone()))
        .await
        .unwrap();
    assert_eq!(restored, v1);
    log(&auditor, request(1), Some(&v2), Some(&restored)).await;
    assert_eq!(
        Widget::as_of(&auditor, &4, Utc::now())
            .await
            .unwrap()
            .value(),
        Some(&v1)
    );
}

/// Rows the Django original wrote (its 15 columns: no `event_id`, no
/// `correlation_id`, its own timestamp text on SQLite) read back with
/// every filter; a row whose state is not an object is an error, not a
/// panic; a field whose logged value no longer fits its type is reported.
pub async fn rows_the_original_wrote_read_back(db: TestDb) {
    let (json, created_at) = match db.kind {
        Kind::Postgres => ("JSONB", "TIMESTAMPTZ NOT NULL"),
        Kind::MySql => ("JSON", "TIMESTAMP NOT NULL"),
        Kind::Sqlite => ("TEXT", "TEXT NOT NULL"),
    };
    let (id, action) = match db.kind {
        Kind::Postgres => ("BIGSERIAL PRIMARY KEY", "VARCHAR(10) NOT NULL"),
        Kind::MySql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "VARCHAR(10) NOT NULL"),
        Kind::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT NOT NULL"),
    };
    let text = if db.kind == Kind::Sqlite {
        "TEXT"
    } else {
        "VARCHAR(255)"
    };
    db.exec(&format!(
        "CREATE TABLE widget_log (id {id}, action {action}, object_pk TEXT NOT NULL, \
         {q}before{q} {json}, {q}after{q} {json}, changes {json}, entry_point {text}, route TEXT, \
         path TEXT, method {text}, ip TEXT, user_id BIGINT, user_name TEXT, user_agent TEXT, \
         created_at {created_at})",
        q = if db.kind == Kind::MySql { "`" } else { "\"" },
    ))
    .await;
    let time = |s: &str| match db.kind {
        // Django's text form on SQLite.
        Kind::Sqlite => format!("'2026-01-0{s} 10:00:00.000000'"),
        Kind::Postgres => format!("'2026-01-0{s} 10:00:00+00'"),
        Kind::MySql => format!("'2026-01-0{s} 10:00:00'"),
    };
    let q = if db.kind == Kind::MySql { "`" } else { "\"" };
    for (action, before, after, changes, day, user) in [
        (
            "insert",
            "NULL",
            r#"'{"id": 6, "name": "B", "qty": 1}'"#,
            r#"'{"id": {"from": null, "to": 6}, "name": {"from": null, "to": "B"}, "qty": {"from": null, "to": 1}}'"#,
            "1",
            "7",
        ),
        (
            "update",
            r#"'{"id": 6, "name": "B", "qty": 1}'"#,
            r#"'{"id": 6, "name": "B", "qty": 3}'"#,
            r#"'{"qty": {"from": 1, "to": 3}}'"#,
            "2",
            "8",
        ),
        (
            "update",
            r#"'{"id": 6, "name": "B", "qty": 3}'"#,
            r#"'{"id": 6, "name": "B", "qty": 3}'"#,
            r#"'{}'"#,
            "3",
            "8",
        ),
    ] {
        db.exec(&format!(
            "INSERT INTO widget_log (action, object_pk, {q}before{q}, {q}after{q}, changes, entry_point, user_id, created_at) \
             VALUES ('{action}', '6', {before}, {after}, {changes}, 'http', {user}, {})",
            time(day)
        ))
        .await;
    }
    let auditor = db.auditor(AuditConfig::default());
    let rows = Widget::history(&auditor, &6).all().await.unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|row| row.correlation_id.is_none()));
    let qty = Widget::history(&auditor, &6)
        .changed(WidgetField::Qty)
        .all()
        .await
        .unwrap();
    assert_eq!(
        qty.iter().map(|r| r.id).collect::<Vec<_>>(),
        [rows[0].id, rows[1].id]
    );
    assert_eq!(
        Widget::history(&auditor, &6)
            .user(8)
            .all()
            .await
            .unwrap()
            .len(),
        2
    );
    let day2: DateTime<Utc> = "2026-01-02T10:00:00Z".parse().unwrap();
    assert_eq!(
        Widget::history(&auditor, &6)
            .since(day2)
            .all()
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        Widget::history(&auditor, &6)
            .correlation_id("x")
            .all()
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        Widget::as_of(&auditor, &6, day2).await.unwrap().value(),
        Some(&widget(6, 3))
    );
    let all = Widget::as_of_all(&auditor, day2).await.unwrap();
    assert_eq!(all.existing().collect::<Vec<_>>(), [("6", &widget(6, 3))]);
    // Our writes land in the same table and read back with the original's.
    log(
        &auditor,
        request(1),
        Some(&widget(6, 3)),
        Some(&widget(6, 4)),
    )
    .await;
    assert_eq!(Widget::history(&auditor, &6).all().await.unwrap().len(), 4);

    // Untrusted content: a state that is not an object, a value of the
    // wrong type.
    for (pk, after) in [
        ("7", r#"'["not", "an", "object"]'"#),
        ("8", r#"'{"id": 8, "name": "B", "qty": "many"}'"#),
    ] {
        db.exec(&format!(
            "INSERT INTO widget_log (action, object_pk, {q}after{q}, changes, created_at) \
             VALUES ('insert', '{pk}', {after}, '{{}}', {})",
            time("4")
        ))
        .await;
    }
    match Widget::as_of(&auditor, &7, Utc::now()).await {
        Err(Error::Decode { table, message }) => {
            assert_eq!(table, "widget_log");
            assert!(message.contains("an array"), "{message}");
        }
        other => panic!("a decode error, not {other:?}"),
    }
    match Widget::as_of(&auditor, &8, Utc::now()).await.unwrap() {
        AsOf::Partial(partial) => {
            assert_eq!(partial.unrestorable.len(), 1);
            assert_eq!(partial.unrestorable[0].field, "qty");
            assert!(matches!(
                partial.unrestorable[0].reason,
                Unrestorable::Invalid { .. }
            ));
        }
        other => panic!("partial, not {other:?}"),
    }
}

/// What one user did, and what happened in a time range, across models:
/// rows labelled with their model, merged in time order, limited.
pub async fn queries_across_models(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let start = mark().await;
    log(&auditor, request(21), None, Some(&widget(1, 1))).await;
    context::scope(request(21), async {
        let _ = Gizmo::log_change(&auditor, None, Some(&Gizmo { id: 1, qty: 1 }))
            .await
            .unwrap();
    })
    .await;
    log(&auditor, request(22), None, Some(&widget(2, 1))).await;
    let end = mark().await;
    log(&auditor, request(21), Some(&widget(1, 1)), None).await;

    let by_user = AuditLog::by_user(&auditor, 21).fetch().await.unwrap();
    let labelled: Vec<(&str, Action)> = by_user
        .iter()
        .map(|row| (row.model.label(), row.record.action))
        .collect();
    assert_eq!(
        labelled,
        [
            ("shop.widget", Action::Insert),
            ("shop.gizmo", Action::Insert),
            ("shop.widget", Action::Delete)
        ]
    );
    let window = AuditLog::between(&auditor, start, end)
        .newest_first()
        .fetch()
        .await
        .unwrap();
    let users: Vec<Option<i64>> = window.iter().map(|row| row.record.user_id).collect();
    assert_eq!(users, [Some(22), Some(21), Some(21)]);
    let limited = AuditLog::by_user(&auditor, 21)
        .newest_first()
        .limit(1)
        .fetch()
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);
    assert_eq!(limited[0].record.action, Action::Delete);
    let only_gizmo = AuditLog::by_user(&auditor, 21)
        .model::<Gizmo>()
        .fetch()
        .await
        .unwrap();
    assert_eq!(only_gizmo.len(), 1);
    let json = serde_json::to_value(&only_gizmo[0]).unwrap();
    assert_eq!(json["model"], "shop.gizmo");
    assert_eq!(json["record"]["user_id"], 21);

    // One scope, two models: everything it did, and nothing else.
    let correlation_id = context::scope(request(23), async {
        let _ = Widget::log_change(&auditor, None, Some(&widget(9, 1)))
            .await
            .unwrap();
        let _ = Gizmo::log_change(&auditor, None, Some(&Gizmo { id: 9, qty: 2 }))
            .await
            .unwrap();
        context::current()
            .and_then(|ctx| ctx.correlation_id.clone())
            .expect("a scope has a correlation id")
    })
    .await;
    let scoped = AuditLog::by_correlation(&auditor, correlation_id.clone())
        .fetch()
        .await
        .unwrap();
    let labels: Vec<&str> = scoped.iter().map(|row| row.model.label()).collect();
    assert_eq!(labels, ["shop.widget", "shop.gizmo"]);
    assert!(
        scoped
            .iter()
            .all(|row| row.record.correlation_id.as_deref() == Some(correlation_id.as_str()))
    );
    let history = Widget::history(&auditor, &9)
        .correlation_id(correlation_id.clone())
        .all()
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        history[0].correlation_id.as_deref(),
        Some(correlation_id.as_str())
    );
    assert!(
        Widget::history(&auditor, &1)
            .correlation_id(correlation_id)
            .all()
            .await
            .unwrap()
            .is_empty()
    );
}
