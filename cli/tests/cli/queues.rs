//! The queues' commands run as a user runs them: `outbox status` on each
//! backend with rows queued for two log tables (and one set aside), and
//! `broker status` / `broker dead-letters list|retry|drop` against the
//! Redis server of `AUDIT_TEST_REDIS_URL`, each case on a stream of its
//! own, deleted afterwards.

use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::{AuditConfig, Auditor, LogOutcome};
use awesome_audit_log_tests::models::{Gizmo, Widget, WidgetLog};
use awesome_audit_log_tests::stream::TestStream;
use awesome_audit_log_tests::{Kind, TestDb};
use serde_json::Value;

use crate::tool::{Run, run};

fn widget(id: i64) -> Widget {
    Widget {
        id,
        name: "B".to_owned(),
        qty: 2,
    }
}

fn outbox_config() -> AuditConfig {
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    config
}

/// `outbox status --json`, exit 0, as JSON.
fn outbox_status(db: &TestDb) -> Value {
    run(Some(&db.url), &["outbox", "status", "--json"])
        .expect(0)
        .json()
}

/// Rows queued for two log tables are counted per table, with the oldest;
/// a row the worker sets aside shows in the dead-letter table.
pub async fn outbox_status_and_dead_letters_per_table(db: TestDb) {
    let before = outbox_status(&db);
    assert_eq!(before["outbox"]["exists"], false, "{before}");
    assert_eq!(before["outbox"]["rows"], 0);
    assert_eq!(before["dead_letters"]["rows"], 0);
    run(Some(&db.url), &["outbox", "status"])
        .expect(0)
        .says("no such table yet");

    let auditor = db.auditor(outbox_config());
    for id in 1..=3 {
        let queued = Widget::log_change(&auditor, None, Some(&widget(id)))
            .await
            .unwrap();
        assert_eq!(queued, LogOutcome::Queued);
    }
    let gizmo = Gizmo { id: 1, qty: 1 };
    let queued = Gizmo::log_change(&auditor, None, Some(&gizmo))
        .await
        .unwrap();
    assert_eq!(queued, LogOutcome::Queued);

    let status = outbox_status(&db);
    let outbox = &status["outbox"];
    assert_eq!(outbox["exists"], true, "{status}");
    assert_eq!(outbox["rows"], 4, "{status}");
    let per_table: Vec<(String, u64)> = outbox["per_table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["log_table"].as_str().unwrap().to_owned(),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_table,
        [("gizmo_log".to_owned(), 1), ("widget_log".to_owned(), 3)]
    );
    assert!(outbox["oldest"].is_string(), "{status}");
    let age = outbox["oldest_age_seconds"].as_f64().unwrap();
    assert!((0.0..600.0).contains(&age), "{status}");
    run(Some(&db.url), &["outbox", "status"])
        .expect(0)
        .says("outbox (awesome_audit_log_outbox): 4 row(s) waiting")
        .says("widget_log");

    // Every row but widget 4's names no log table: the worker sets them aside.
    let queued = Widget::log_change(&auditor, None, Some(&widget(4)))
        .await
        .unwrap();
    assert_eq!(queued, LogOutcome::Queued);
    db.exec("UPDATE awesome_audit_log_outbox SET log_table = 'not a log' WHERE object_pk <> '4'")
        .await;
    let moved = auditor.outbox_worker("default").unwrap().drain().await;
    let moved = moved.unwrap();
    assert_eq!(moved, 5);
    let status = outbox_status(&db);
    assert_eq!(status["outbox"]["rows"], 0, "{status}");
    assert_eq!(status["outbox"]["oldest"], Value::Null);
    let dead = &status["dead_letters"];
    assert_eq!(dead["exists"], true, "{status}");
    assert_eq!(dead["rows"], 4, "{status}");
    assert_eq!(dead["per_table"][0]["log_table"], "not a log");
    run(Some(&db.url), &["outbox", "status"])
        .expect(0)
        .says("dead letters (awesome_audit_log_dead_letter): 4 row(s) set aside");

    // Listed in pages, with why.
    let dead_letters = |args: &[&str]| {
        let mut all = vec!["outbox", "dead-letters"];
        all.extend_from_slice(args);
        run(Some(&db.url), &all)
    };
    let first = dead_letters(&["list", "--limit", "3", "--json"])
        .expect(0)
        .json();
    let row = &first["rows"][0];
    assert_eq!(row["log_table"], "not a log", "{first}");
    assert_eq!(row["action"], "insert");
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("not a log table name"),
        "{first}"
    );
    assert!(
        row["event_id"].is_string() && row["bytes"].as_u64().unwrap() > 0,
        "{first}"
    );
    let next = first["next_after"].as_i64().unwrap();
    let second = dead_letters(&["list", "--after", &next.to_string(), "--json"])
        .expect(0)
        .json();
    assert_eq!(second["rows"].as_array().unwrap().len(), 1, "{second}");
    assert_eq!(second["next_after"], Value::Null);
    dead_letters(&["list"]).expect(0).says("reason: ");
    let rows: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|page| page["rows"].as_array().unwrap().clone())
        .collect();
    // Widgets 2 and 3 are the rows of these keys; widget 1 and gizmo 1
    // share theirs.
    let of = |object_pk: &str| -> Vec<(String, String)> {
        rows.iter()
            .filter(|row| row["object_pk"] == object_pk)
            .map(|row| {
                (
                    row["id"].as_i64().unwrap().to_string(),
                    row["event_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (ones, two, three) = (of("1"), of("2").remove(0), of("3").remove(0));
    assert_eq!(ones.len(), 2, "{rows:?}");

    // Retried once fixed: widget 2 is written by the worker; widget 3,
    // which was written after all, is not written twice.
    db.exec(
        "UPDATE awesome_audit_log_dead_letter SET log_table = 'widget_log' \
         WHERE object_pk IN ('2', '3')",
    )
    .await;
    let created_at = match db.kind {
        Kind::Postgres => "'2026-11-29T00:00:00Z'",
        Kind::MySql => "'2026-11-29 00:00:00'",
        Kind::Sqlite => "'2026-11-29 00:00:00+00:00'",
    };
    db.exec(&format!(
        "INSERT INTO widget_log (action, object_pk, created_at, event_id) \
         VALUES ('insert', '3', {created_at}, '{}')",
        three.1
    ))
    .await;
    let retried = dead_letters(&["retry", &two.0, &three.0, "--json"])
        .expect(0)
        .json();
    assert_eq!(retried["entries"][0]["outcome"], "queued", "{retried}");
    assert_eq!(retried["entries"][1]["outcome"], "queued", "{retried}");
    dead_letters(&["retry", &two.0]).expect(1).says("not found");
    let status = outbox_status(&db);
    assert_eq!(status["outbox"]["rows"], 2, "{status}");
    assert_eq!(status["dead_letters"]["rows"], 2, "{status}");
    let moved = auditor.outbox_worker("default").unwrap().drain().await;
    let moved = moved.unwrap();
    assert_eq!(moved, 2);
    assert_eq!(
        db.texts("SELECT object_pk FROM widget_log ORDER BY object_pk")
            .await,
        ["2", "3", "4"].map(|pk| Some(pk.to_owned()))
    );
    assert_eq!(outbox_status(&db)["dead_letters"]["rows"], 2);

    // Dropped by id, then all.
    let widget_1 = &ones[0].0;
    dead_letters(&["drop", widget_1])
        .expect(2)
        .complains("--yes");
    dead_letters(&["drop", widget_1, "--yes"])
        .expect(0)
        .says("dropped");
    dead_letters(&["drop", widget_1, "--yes"])
        .expect(1)
        .says("not found");
    let all = dead_letters(&["drop", "--all", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(all["dropped"], 1);
    assert_eq!(outbox_status(&db)["dead_letters"]["rows"], 0);
    dead_letters(&["list"]).expect(0).says("no dead letters");
}

/// Without a database URL, exit 2.
pub async fn outbox_status_needs_a_database(_db: TestDb) {
    run(None, &["outbox", "status"])
        .expect(2)
        .complains("no database URL");
}

/// The tool's view of a stream of the case's own.
struct Stream(TestStream);

impl std::ops::Deref for Stream {
    type Target = TestStream;

    fn deref(&self) -> &TestStream {
        &self.0
    }
}

impl Stream {
    fn new(url: &str) -> Stream {
        Stream(TestStream::new(url))
    }

    fn auditor(&self, db: &TestDb) -> Auditor {
        db.auditor(self.config())
    }

    /// Runs `broker <args>` on this stream.
    fn broker(&self, args: &[&str]) -> Run {
        let mut all = vec!["broker", "--redis-url", &self.url, "--stream", &self.name];
        all.extend_from_slice(args);
        run(None, &all)
    }

    /// `broker status --json`, exit 0.
    fn status(&self) -> Value {
        self.broker(&["status", "--json"]).expect(0).json()
    }

    /// The dead letters' JSON objects, oldest first.
    fn dead_letters(&self) -> Vec<Value> {
        self.broker(&["dead-letters", "list", "--json"])
            .expect(0)
            .json()["entries"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Adds an entry with `fields` to `stream`; returns its id.
    async fn add(&self, stream: &str, fields: &[(&str, &[u8])]) -> String {
        let mut command = redis::cmd("XADD");
        command.arg(stream).arg("*");
        for (name, value) in fields {
            command.arg(*name).arg(*value);
        }
        command
            .query_async(&mut self.connection().await)
            .await
            .unwrap()
    }

    /// The fields of the stream's entries, by id.
    async fn entries(&self) -> Vec<(String, Vec<(String, Vec<u8>)>)> {
        redis::cmd("XRANGE")
            .arg(&self.name)
            .arg("-")
            .arg("+")
            .query_async(&mut self.connection().await)
            .await
            .unwrap()
    }
}

/// The stream's length, the group's pending entries per consumer and the
/// dead letters; a malformed entry set aside by the worker and one planted
/// by hand are listed with why, paged, never retried, and dropped.
pub async fn broker_status_and_dead_letters(db: TestDb, url: String) {
    let stream = Stream::new(&url);
    let empty = stream.status();
    assert_eq!(empty["exists"], false, "{empty}");
    assert_eq!(empty["group"], Value::Null);
    assert_eq!(empty["dead_letters"], 0);

    let auditor = stream.auditor(&db);
    for id in 1..=2 {
        let queued = Widget::log_change(&auditor, None, Some(&widget(id)))
            .await
            .unwrap();
        assert_eq!(queued, LogOutcome::Queued);
    }
    // A consumer takes one entry and has not acknowledged it yet.
    let mut connection = stream.connection().await;
    let group = AuditConfig::default().redis_group;
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&stream.name)
        .arg(&group)
        .arg("0")
        .query_async(&mut connection)
        .await
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(&group)
        .arg("writer-1")
        .arg("COUNT")
        .arg(1)
        .arg("STREAMS")
        .arg(&stream.name)
        .arg(">")
        .query_async(&mut connection)
        .await
        .unwrap();
    let status = stream.status();
    assert_eq!(status["length"], 2, "{status}");
    assert_eq!(status["group"]["name"], group.as_str());
    assert_eq!(status["group"]["pending"], 1, "{status}");
    let consumers = status["group"]["consumers"].as_array().unwrap();
    assert_eq!(consumers.len(), 1, "{status}");
    assert_eq!(consumers[0]["name"], "writer-1");
    assert_eq!(consumers[0]["pending"], 1);
    assert!(consumers[0]["idle_ms"].is_u64(), "{status}");
    stream
        .broker(&["status"])
        .expect(0)
        .says("2 entr(ies) waiting")
        .says("consumer writer-1: 1 pending");

    // A malformed entry the worker sets aside, and one planted in the
    // dead-letter stream by hand (no field the format knows, a field name
    // that is not UTF-8).
    stream
        .add(
            &stream.name,
            &[
                ("v", b"1"),
                ("log_table", b"widget; drop table widget_log"),
                ("event_id", b"e-bad"),
                ("event", b"{}"),
            ],
        )
        .await;
    let worker = auditor.broker_worker("writer-1").unwrap();
    assert_eq!(worker.drain().await.unwrap(), 3);
    assert_eq!(db.count("widget_log").await, 2);
    let planted = stream
        .add(
            &stream.dead(),
            &[("junk", b"\xff\xfe"), ("event", b"not json")],
        )
        .await;

    let status = stream.status();
    assert_eq!(status["length"], 0, "{status}");
    assert_eq!(status["group"]["pending"], 0, "{status}");
    assert_eq!(status["dead_letters"], 2, "{status}");

    let listed = stream.dead_letters();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let set_aside = &listed[0];
    assert!(
        set_aside["reason"].as_str().unwrap().contains("malformed"),
        "{set_aside}"
    );
    assert!(
        set_aside["malformed"]
            .as_str()
            .unwrap()
            .contains("log_table"),
        "{set_aside}"
    );
    assert_eq!(set_aside["event_id"], "e-bad");
    assert!(set_aside["failed_at"].is_string() && set_aside["bytes"].as_u64().unwrap() > 0);
    let by_hand = &listed[1];
    assert_eq!(by_hand["id"], planted.as_str());
    assert_eq!(by_hand["reason"], Value::Null);
    assert!(
        by_hand["malformed"].as_str().unwrap().contains("missing"),
        "{by_hand}"
    );
    stream
        .broker(&["dead-letters", "list"])
        .expect(0)
        .says("MALFORMED")
        .says(&planted);

    // Pages.
    let first = stream
        .broker(&["dead-letters", "list", "--limit", "1", "--json"])
        .expect(0)
        .json();
    let next = first["next_after"].as_str().unwrap().to_owned();
    assert_eq!(first["entries"][0]["id"], set_aside["id"]);
    let second = stream
        .broker(&[
            "dead-letters",
            "list",
            "--limit",
            "1",
            "--after",
            &next,
            "--json",
        ])
        .expect(0)
        .json();
    assert_eq!(second["entries"][0]["id"], planted.as_str());

    // Malformed entries are not retried.
    let set_aside_id = set_aside["id"].as_str().unwrap().to_owned();
    let retried = stream
        .broker(&["dead-letters", "retry", &set_aside_id, "--json"])
        .expect(1)
        .json();
    assert_eq!(retried["entries"][0]["outcome"], "malformed");
    assert_eq!(stream.status()["dead_letters"], 2);
    assert_eq!(stream.status()["length"], 0);

    // Dropping asks; no terminal and no --yes: exit 2, nothing dropped.
    stream
        .broker(&["dead-letters", "drop", &planted])
        .expect(2)
        .complains("--yes");
    assert_eq!(stream.status()["dead_letters"], 2);
    stream
        .broker(&["dead-letters", "drop", &planted, "--yes"])
        .expect(0)
        .says("dropped");
    stream
        .broker(&["dead-letters", "drop", &planted, "--yes"])
        .expect(1)
        .says("not found");
    let all = stream
        .broker(&["dead-letters", "drop", "--all", "--yes", "--json"])
        .expect(0)
        .json();
    assert_eq!(all["dropped"], 1);
    assert!(stream.dead_letters().is_empty());
    stream
        .broker(&["dead-letters", "list"])
        .expect(0)
        .says("no dead letters");
}

/// Usage mistakes exit 2: no Redis URL, an id that is not one, drop
/// without ids or with ids and --all.
pub async fn broker_usage_errors_exit_2(_db: TestDb, url: String) {
    let stream = Stream::new(&url);
    run(None, &["broker", "status"])
        .expect(2)
        .complains("no Redis URL");
    stream
        .broker(&["dead-letters", "retry", "nope"])
        .expect(2)
        .complains("not a stream entry id");
    stream.broker(&["dead-letters", "drop", "--yes"]).expect(2);
    stream
        .broker(&["dead-letters", "drop", "1-0", "--all", "--yes"])
        .expect(2);
    // A server that is not there: exit 1, the password never shown.
    let refused = run(
        None,
        &[
            "broker",
            "--redis-url",
            "redis://:s3cret@127.0.0.1:1",
            "status",
        ],
    )
    .expect(1);
    refused.complains("unavailable");
    assert!(!refused.stderr.contains("s3cret"), "{}", refused.stderr);
    // A URL Redis cannot read: exit 2, the password never shown.
    let invalid = run(
        None,
        &["broker", "--redis-url", "http://:s3cret@h", "status"],
    )
    .expect(2);
    invalid.complains("REDIS_URL");
    assert!(!invalid.stderr.contains("s3cret"), "{}", invalid.stderr);
}

/// A retried dead letter goes back to the stream and a worker writes it;
/// one whose event was written after all is not written twice.
pub async fn retried_dead_letters_are_written_once(db: TestDb, url: String) {
    let stream = Stream::new(&url);
    let auditor = stream.auditor(&db);
    let worker = auditor.broker_worker("writer-1").unwrap();
    // Widget 1: written, and (as after a lost acknowledgement) also in the
    // dead-letter stream.
    let _ = Widget::log_change(&auditor, None, Some(&widget(1)))
        .await
        .unwrap();
    let (_, fields) = stream.entries().await.remove(0);
    let copy = |fields: &[(String, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
        let mut fields = fields.to_vec();
        fields.push(("error".to_owned(), b"refused for the test".to_vec()));
        fields
    };
    let add_dead = |fields: Vec<(String, Vec<u8>)>| {
        let stream = &stream;
        async move {
            let pairs: Vec<(&str, &[u8])> = fields
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_slice()))
                .collect();
            stream.add(&stream.dead(), &pairs).await
        }
    };
    let written_twice = add_dead(copy(&fields)).await;
    assert_eq!(worker.drain().await.unwrap(), 1);
    // Widget 2: only in the dead-letter stream.
    let _ = Widget::log_change(&auditor, None, Some(&widget(2)))
        .await
        .unwrap();
    let (id, fields) = stream.entries().await.remove(0);
    let never_written = add_dead(copy(&fields)).await;
    let _: u64 = redis::cmd("XDEL")
        .arg(&stream.name)
        .arg(&id)
        .query_async(&mut stream.connection().await)
        .await
        .unwrap();
    assert_eq!(stream.status()["length"], 0);

    let retried = stream
        .broker(&[
            "dead-letters",
            "retry",
            &written_twice,
            &never_written,
            "--json",
        ])
        .expect(0)
        .json();
    let outcomes: Vec<&str> = retried["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["retried", "retried"]);
    let status = stream.status();
    assert_eq!(
        (status["length"].as_u64(), status["dead_letters"].as_u64()),
        (Some(2), Some(0))
    );
    // Retrying again finds nothing: nothing is added twice.
    stream
        .broker(&["dead-letters", "retry", &written_twice])
        .expect(1)
        .says("not found");
    assert_eq!(stream.status()["length"], 2);

    assert_eq!(worker.drain().await.unwrap(), 2);
    assert_eq!(WidgetLog::for_object(&auditor, &1).await.unwrap().len(), 1);
    assert_eq!(WidgetLog::for_object(&auditor, &2).await.unwrap().len(), 1);
    assert_eq!(db.count("widget_log").await, 2);
    assert_eq!(stream.status()["length"], 0);
}

/// PostgreSQL: the outbox of PG_SCHEMA is read with `--schema`, and only
/// there.
pub async fn outbox_status_reads_the_schema(db: TestDb) {
    let mut config = outbox_config();
    config.pg_schema = Some("audit_queue".to_owned());
    let auditor = db.auditor(config);
    let queued = Widget::log_change(&auditor, None, Some(&widget(1)))
        .await
        .unwrap();
    assert_eq!(queued, LogOutcome::Queued);

    let in_schema = run(
        Some(&db.url),
        &["--schema", "audit_queue", "outbox", "status", "--json"],
    )
    .expect(0)
    .json();
    assert_eq!(in_schema["outbox"]["rows"], 1, "{in_schema}");
    assert_eq!(
        in_schema["outbox"]["per_table"][0]["log_table"],
        "widget_log"
    );
    let elsewhere = outbox_status(&db);
    assert_eq!(elsewhere["outbox"]["exists"], false, "{elsewhere}");
    run(
        Some(&db.url),
        &["--schema", "no such schema", "outbox", "status"],
    )
    .expect(2)
    .complains("--schema");
}

/// PostgreSQL: a dead letter the outbox still refuses (a NUL character,
/// which JSONB cannot hold) is not retried and stays, with the reason.
pub async fn outbox_retry_refused_stays(db: TestDb) {
    let auditor = db.auditor(outbox_config());
    let queued = Widget::log_change(&auditor, None, Some(&widget(1)))
        .await
        .unwrap();
    assert_eq!(queued, LogOutcome::Queued);
    db.exec("UPDATE awesome_audit_log_outbox SET log_table = 'not a log'")
        .await;
    let worker = auditor.outbox_worker("default").unwrap();
    assert_eq!(worker.drain().await.unwrap(), 1);
    db.exec(
        "UPDATE awesome_audit_log_dead_letter \
         SET log_table = 'widget_log', after = '{\"name\": \"\\u0000\"}'",
    )
    .await;
    let id = db.ids("SELECT id FROM awesome_audit_log_dead_letter").await[0].to_string();
    let retried = run(
        Some(&db.url),
        &["outbox", "dead-letters", "retry", &id, "--json"],
    )
    .expect(1)
    .json();
    assert_eq!(retried["entries"][0]["outcome"], "refused", "{retried}");
    assert!(retried["entries"][0]["reason"].is_string(), "{retried}");
    let status = outbox_status(&db);
    assert_eq!(status["dead_letters"]["rows"], 1, "{status}");
    assert_eq!(status["outbox"]["rows"], 0, "{status}");
}
