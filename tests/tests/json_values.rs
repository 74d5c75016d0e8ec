//! Whatever JSON `log_change` writes, the read APIs return: the extremes of
//! the number types (read back exactly, also from PostgreSQL's JSONB, which
//! prints numbers in full) and documents nested deeper than serde_json's
//! default recursion limit, through `for_object` and through the outbox
//! worker, on every backend. A document a database cannot hold (MySQL and
//! MariaDB refuse deep nesting) is a typed error, never an unreadable row.
//!
//! The model holds a `serde_json::Value`. It lives in this target rather
//! than in the suite's library, whose models are exactly those that the
//! `schema_export` target expects to find.

use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::{AuditConfig, Error, LogOutcome, audited};
use awesome_audit_log_tests::{Kind, TestDb};
use serde_json::{Value, json};

/// Any JSON document.
#[audited(table = "reading", label = "lab.reading")]
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Primary key.
    pub id: i64,
    /// The document.
    pub value: Value,
}

/// `depth` levels of arrays and objects around a number.
fn nested(depth: usize) -> Value {
    (0..depth).fold(json!(1.5), |inner, level| {
        if level % 2 == 0 {
            Value::Array(vec![inner])
        } else {
            Value::Object([("k".to_owned(), inner)].into_iter().collect())
        }
    })
}

/// The documents to round-trip, and whether the database can hold them.
fn documents(kind: Kind) -> Vec<(&'static str, Value, bool)> {
    // MariaDB's JSON check refuses nesting deeper than 32 levels (MySQL's
    // JSON type 100); the snapshot adds one level, `changes` two more.
    let deep_ok = kind != Kind::MySql;
    vec![
        ("f64::MAX", json!(f64::MAX), true),
        ("-f64::MAX", json!(-f64::MAX), true),
        ("f64::MIN_POSITIVE", json!(f64::MIN_POSITIVE), true),
        ("smallest subnormal", json!(5e-324), true),
        ("1e-300", json!(1e-300), true),
        ("0.1", json!(0.1), true),
        ("i64::MIN", json!(i64::MIN), true),
        ("u64::MAX", json!(u64::MAX), true),
        (
            "numbers in a document",
            json!({"max": f64::MAX, "tiny": 1e-300, "min": i64::MIN, "big": u64::MAX, "pi": std::f64::consts::PI}),
            true,
        ),
        ("nested 29 deep", nested(29), true),
        ("nested 200 deep", nested(200), deep_ok),
        ("nested 2000 deep", nested(2000), deep_ok),
    ]
}

fn outbox_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    config
}

async fn round_trip(db: TestDb) {
    let inline = db.auditor(AuditConfig::default());
    let outbox = db.auditor(outbox_config());
    let documents = documents(db.kind);
    let mut ids = 0..;
    for (name, value, storable) in &documents {
        for (auditor, through_outbox) in [(&inline, false), (&outbox, true)] {
            let id = ids.next().unwrap_or_default();
            let reading = Reading {
                id,
                value: value.clone(),
            };
            let logged = Reading::log_change(auditor, None, Some(&reading)).await;
            if !storable {
                assert!(
                    matches!(logged, Err(Error::Database { .. })),
                    "{name} (outbox: {through_outbox}): {logged:?}"
                );
                continue;
            }
            let outcome = logged.unwrap_or_else(|e| panic!("{name}: {e}"));
            if through_outbox {
                assert_eq!(outcome, LogOutcome::Queued);
                let moved = outbox
                    .outbox_worker("default")
                    .unwrap()
                    .drain()
                    .await
                    .unwrap_or_else(|e| panic!("{name} through the outbox: {e}"));
                assert_eq!(moved, 1, "{name} through the outbox");
            }
            let rows = ReadingLog::for_object(auditor, &id)
                .await
                .unwrap_or_else(|e| panic!("{name} (outbox: {through_outbox}): {e}"));
            let [row] = &rows[..] else {
                panic!("{name}: one row, got {}", rows.len())
            };
            assert!(
                row.after.as_ref().map(|after| &after["value"]) == Some(value),
                "{name} (outbox: {through_outbox}): `after` differs"
            );
            assert!(
                row.changes.as_ref().map(|changes| &changes["value"]["to"]) == Some(value),
                "{name} (outbox: {through_outbox}): `changes` differs"
            );
        }
    }
}

/// Runs the round trip on `kind` with stacks of 64 MiB: a document 2000
/// levels deep takes more than a test thread's 2 MiB to clone, compare,
/// serialise and drop in a debug build (recursive in serde_json, in the
/// application and in the library alike), so an application that keeps
/// such documents runs on big stacks too.
fn on_big_stacks(kind: Kind) {
    const STACK: usize = 64 << 20;
    let test = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(STACK)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async move {
                    if let Some(db) = TestDb::new(kind).await {
                        round_trip(db).await;
                    }
                });
        })
        .expect("test thread");
    if let Err(panic) = test.join() {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn sqlite() {
    on_big_stacks(Kind::Sqlite);
}

#[test]
#[cfg_attr(
    aal_no_postgres,
    ignore = "set AUDIT_TEST_POSTGRES_URL to run the PostgreSQL case"
)]
fn postgres() {
    on_big_stacks(Kind::Postgres);
}

#[test]
#[cfg_attr(
    aal_no_mysql,
    ignore = "set AUDIT_TEST_MYSQL_URL to run the MySQL / MariaDB case"
)]
fn mysql() {
    on_big_stacks(Kind::MySql);
}
