//! The correlation id (one per audit scope, written wherever the table has
//! the column, through every transport), the indexes of new log tables,
//! and tables of the Django original and of earlier versions, written with
//! the columns they have.

use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::context::{self, AuditContext};
use awesome_audit_log::{AuditConfig, LogOutcome};
use awesome_audit_log_codegen::ddl::{
    create_dead_letter_table, create_outbox_table, create_table_statements,
};

use super::fixtures::{
    async_config, earlier_gizmo_log, first_use_inline_and_in_a_transaction, original_widget_log,
    widget, without_columns,
};
use crate::models::{Gizmo, GizmoLog, Widget, WidgetLog};
use crate::{Kind, TestDb};

const OUTBOX: &str = "awesome_audit_log_outbox";
const DEAD: &str = "awesome_audit_log_dead_letter";

/// The correlation ids of `table`'s rows, oldest first.
async fn correlation_ids(db: &TestDb, table: &str) -> Vec<Option<String>> {
    db.texts(&format!("SELECT correlation_id FROM {table} ORDER BY id"))
        .await
}

fn is_uuid_v7(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|uuid| uuid.get_version_num() == 7)
}

fn outbox_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    config
}

/// Every row logged in one scope (inline, in a batch, in a nested scope,
/// in a transaction, through the in-process writer) has the scope's id, a
/// UUID v7; the next scope has another; a row logged outside any scope has
/// none.
pub async fn rows_of_one_scope_share_a_correlation_id(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    let background = db.auditor(async_config());
    let written = |outcome: Result<LogOutcome, _>| {
        assert_eq!(outcome.unwrap(), LogOutcome::Written);
    };
    written(Widget::log_change(&auditor, None, Some(&widget(1, 1))).await);
    context::scope(AuditContext::command("import", "shop import"), async {
        written(Widget::log_change(&auditor, None, Some(&widget(2, 1))).await);
        let batch = Widget::log_changes(
            &auditor,
            [(None, Some(&widget(3, 1))), (None, Some(&widget(4, 1)))],
        )
        .await
        .unwrap();
        assert_eq!(batch.written, 2);
        context::scope(AuditContext::job("shop.jobs.recount", None), async {
            written(Widget::log_change(&auditor, Some(&widget(2, 1)), Some(&widget(2, 2))).await);
        })
        .await;
        for_backend!(db, |DB| {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            written(Widget::log_change_in(&mut tx, None, Some(&widget(5, 1))).await);
            tx.commit().await.unwrap();
        });
        let queued = Widget::log_change(&background, None, Some(&widget(7, 1)))
            .await
            .unwrap();
        assert_eq!(queued, LogOutcome::Queued);
    })
    .await;
    context::scope(AuditContext::shell("fix-prices"), async {
        written(Widget::log_change(&auditor, None, Some(&widget(6, 1))).await);
    })
    .await;
    background.flush().await;

    // In the order they were logged: the writer's row (object 7) last,
    // whenever the writer happened to write it.
    let ids = db
        .texts(
            "SELECT correlation_id FROM widget_log \
             ORDER BY CASE WHEN object_pk = '7' THEN 1 ELSE 0 END, id",
        )
        .await;
    assert_eq!(ids.len(), 8, "{ids:?}");
    assert_eq!(ids[0], None, "outside a scope");
    let first = ids[1].clone().unwrap();
    assert!(is_uuid_v7(&first), "{first}");
    assert!(
        ids[1..6]
            .iter()
            .all(|id| id.as_deref() == Some(first.as_str())),
        "{ids:?}"
    );
    let second = ids[6].clone().unwrap();
    assert!(is_uuid_v7(&second) && second != first, "{ids:?}");
    assert_eq!(ids[7].as_deref(), Some(first.as_str()), "the writer's row");
}

/// A new log table, created on a pool connection or inside a transaction
/// (here in PG_SCHEMA's schema), has the correlation id column and the four
/// indexes; two tables whose names are too long for whole index names get
/// all their indexes too (PostgreSQL would cut equal names and skip the
/// second table's).
pub async fn new_log_tables_get_their_indexes(db: TestDb) {
    let mut config = AuditConfig::default();
    config.pg_schema = Some("audit_logs".to_owned());
    let schema = (db.kind == Kind::Postgres).then_some("audit_logs");
    let auditor = db.auditor(config);
    first_use_inline_and_in_a_transaction(&db, &auditor).await;
    let object_pk = match db.kind {
        Kind::MySql => "object_pk(191)",
        Kind::Postgres | Kind::Sqlite => "object_pk",
    };
    let expected = |table: &str| {
        [
            ("object", vec![object_pk, "created_at", "id"]),
            ("created", vec!["created_at"]),
            ("user", vec!["user_id", "created_at"]),
            ("correlation", vec!["correlation_id"]),
        ]
        .map(|(suffix, columns)| (format!("{table}_{suffix}_idx"), columns))
    };
    for table in ["widget_log", "gizmo_log"] {
        let columns = db.columns(schema, table).await;
        assert_eq!(columns.len(), 17, "{table}: {columns:?}");
        assert_eq!(columns[15..], ["event_id", "correlation_id"], "{table}");
        let indexes = db.indexes(schema, table).await;
        for (name, columns) in expected(table) {
            let found: Option<Vec<&str>> = indexes
                .get(&name)
                .map(|columns| columns.iter().map(String::as_str).collect());
            assert_eq!(found, Some(columns), "{table} `{name}`: {indexes:?}");
        }
    }

    // Log table names of 63 characters (PostgreSQL's longest), alike in
    // their first 57.
    let tables = ["a", "b"].map(|tail| format!("{}_{tail}_log", "l".repeat(57)));
    for table in &tables {
        for statement in create_table_statements(db.kind.dialect(), None, table) {
            db.exec(&statement).await;
        }
    }
    for table in &tables {
        let indexes = db.indexes(None, table).await;
        let ours: Vec<&String> = indexes
            .keys()
            .filter(|name| name.ends_with("_idx"))
            .collect();
        assert_eq!(ours.len(), 4, "{table}: {indexes:?}");
        assert!(ours.iter().all(|name| name.len() <= 63), "{ours:?}");
    }
}

/// A log table the Django original created (15 columns) and one an
/// earlier version created (16: no `correlation_id`, no indexes) are
/// written to as they are: inline and inside transactions, on first use
/// either way, rolled back, and by the in-process writer (whose event ids
/// go only where the column is), from inside a scope; they read back with
/// no correlation id, and no column is added.
pub async fn tables_of_the_original_and_earlier_versions_stay_writable(db: TestDb) {
    db.exec(&original_widget_log(db.kind)).await;
    db.exec(&earlier_gizmo_log(db.kind)).await;
    let original = db.columns(None, "widget_log").await;
    let earlier = db.columns(None, "gizmo_log").await;
    assert_eq!((original.len(), earlier.len()), (15, 16));

    let gizmo = |id: i64| Gizmo { id, qty: 1 };
    // Each round with a new auditor, as a new process: the first write of
    // each table is inline in one round, inside a transaction in the other.
    for round in 0..2_i64 {
        let auditor = db.auditor(AuditConfig::default());
        let (inline, in_tx) = (10 * round + 1, 10 * round + 2);
        context::scope(AuditContext::shell("legacy"), async {
            let log_inline = async || {
                let _ = Widget::log_change(&auditor, None, Some(&widget(inline, 1)))
                    .await
                    .unwrap();
                let _ = Gizmo::log_change(&auditor, None, Some(&gizmo(inline)))
                    .await
                    .unwrap();
            };
            if round == 0 {
                log_inline().await;
            }
            for_backend!(db, |DB| {
                for (id, commit) in [(in_tx, true), (99, false)] {
                    let mut tx = auditor.begin::<DB>("default").await.unwrap();
                    let _ = Widget::log_change_in(&mut tx, None, Some(&widget(id, 1)))
                        .await
                        .unwrap();
                    let _ = Gizmo::log_change_in(&mut tx, None, Some(&gizmo(id)))
                        .await
                        .unwrap();
                    if commit {
                        tx.commit().await.unwrap();
                    } else {
                        tx.rollback().await.unwrap();
                    }
                }
            });
            if round == 1 {
                log_inline().await;
            }
        })
        .await;
    }
    assert_eq!(db.count("widget_log").await, 4);
    assert_eq!(db.count("gizmo_log").await, 4);

    // The in-process writer: rows with event ids, in a scope.
    let background = db.auditor(async_config());
    context::scope(AuditContext::job("shop.jobs.recount", None), async {
        let _ = Widget::log_change(&background, None, Some(&widget(30, 1)))
            .await
            .unwrap();
        let _ = Gizmo::log_change(&background, None, Some(&gizmo(30)))
            .await
            .unwrap();
    })
    .await;
    background.flush().await;
    assert_eq!(background.stats().written, 2);
    assert_eq!(db.count("widget_log").await, 5);
    assert_eq!(db.count("gizmo_log").await, 5);
    let event_ids = db.texts("SELECT event_id FROM gizmo_log ORDER BY id").await;
    assert!(event_ids[..4].iter().all(Option::is_none), "{event_ids:?}");
    assert!(event_ids[4].is_some(), "the earlier table keeps event ids");

    let auditor = db.auditor(AuditConfig::default());
    for id in [1, 2, 11, 12, 30] {
        let widgets = WidgetLog::for_object(&auditor, &id).await.unwrap();
        let gizmos = GizmoLog::for_object(&auditor, &id).await.unwrap();
        assert_eq!((widgets.len(), gizmos.len()), (1, 1), "object {id}");
        assert_eq!(widgets[0].correlation_id, None);
        assert_eq!(gizmos[0].correlation_id, None);
        assert!(widgets[0].entry_point.is_some(), "the context is kept");
    }
    assert!(
        WidgetLog::for_object(&auditor, &99)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.columns(None, "widget_log").await, original);
    assert_eq!(db.columns(None, "gizmo_log").await, earlier);
}

/// Inserts an outbox row the worker sets aside (an unknown entry point),
/// with a correlation id when the outbox has the column.
async fn untrusted_outbox_row(db: &TestDb, event_id: &str, correlation_id: Option<&str>) {
    let now = match db.kind {
        Kind::Postgres => "now()",
        Kind::MySql => "NOW(6)",
        Kind::Sqlite => "'2026-11-28T00:00:00.000000+00:00'",
    };
    let (column, value) = match correlation_id {
        Some(id) => (", correlation_id", format!(", '{id}'")),
        None => ("", String::new()),
    };
    db.exec(&format!(
        "INSERT INTO {OUTBOX} \
         (action, object_pk, after, entry_point, created_at, event_id, log_table{column}) VALUES \
         ('insert', '8', '{{\"id\": 8}}', 'cron', {now}, '{event_id}', 'widget_log'{value})"
    ))
    .await;
}

/// Logs widgets `first` (in a transaction) and `second` (outside one)
/// through the outbox in one scope; returns the scope's correlation id.
async fn queue_in_a_scope(
    db: &TestDb,
    auditor: &awesome_audit_log::Auditor,
    first: i64,
    second: i64,
) -> String {
    context::scope(AuditContext::shell("queue"), async {
        for_backend!(db, |DB| {
            let mut tx = auditor.begin::<DB>("default").await.unwrap();
            let outcome = Widget::log_change_in(&mut tx, None, Some(&widget(first, 1)))
                .await
                .unwrap();
            assert_eq!(outcome, LogOutcome::Queued);
            tx.commit().await.unwrap();
        });
        let outcome = Widget::log_change(auditor, None, Some(&widget(second, 1)))
            .await
            .unwrap();
        assert_eq!(outcome, LogOutcome::Queued);
        context::current().unwrap().correlation_id.clone().unwrap()
    })
    .await
}

/// The outbox carries the scope's correlation id into the log table. An
/// outbox and a dead-letter table made by an earlier version (without the
/// column) keep working: their rows move without it, and rows set aside
/// are copied with the columns both tables have.
pub async fn outbox_delivers_the_correlation_id(db: TestDb) {
    let dialect = db.kind.dialect();
    db.exec(&without_columns(
        &create_outbox_table(dialect, None),
        &["correlation_id"],
    ))
    .await;
    db.exec(&without_columns(
        &create_dead_letter_table(dialect, None),
        &["correlation_id"],
    ))
    .await;
    let drain = async |auditor: &awesome_audit_log::Auditor| {
        auditor
            .outbox_worker("default")
            .unwrap()
            .drain()
            .await
            .unwrap()
    };

    // An earlier outbox, an earlier dead-letter table.
    let auditor = db.auditor(outbox_config());
    let _ = queue_in_a_scope(&db, &auditor, 1, 2).await;
    untrusted_outbox_row(&db, "evil-1", None).await;
    assert_eq!(drain(&auditor).await, 3);
    assert_eq!(correlation_ids(&db, "widget_log").await, [None, None]);
    assert_eq!(db.count(DEAD).await, 1);

    // This version's outbox (a new process creates it), the earlier
    // dead-letter table.
    db.exec(&format!("DROP TABLE {OUTBOX}")).await;
    let auditor = db.auditor(outbox_config());
    let id = queue_in_a_scope(&db, &auditor, 3, 4).await;
    assert!(is_uuid_v7(&id), "{id}");
    assert!(
        db.columns(None, OUTBOX)
            .await
            .contains(&"correlation_id".to_owned())
    );
    untrusted_outbox_row(&db, "evil-2", Some("c-2")).await;
    assert_eq!(drain(&auditor).await, 3);
    assert_eq!(
        correlation_ids(&db, "widget_log").await,
        [None, None, Some(id.clone()), Some(id)]
    );
    assert_eq!(db.count(DEAD).await, 2);

    // This version's dead-letter table keeps the correlation id.
    db.exec(&format!("DROP TABLE {DEAD}")).await;
    let auditor = db.auditor(outbox_config());
    untrusted_outbox_row(&db, "evil-3", Some("c-3")).await;
    assert_eq!(drain(&auditor).await, 1);
    assert_eq!(correlation_ids(&db, DEAD).await, [Some("c-3".to_owned())]);
}
