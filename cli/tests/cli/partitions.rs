//! `partition maintain`: a partitioned log table (written the Django
//! original's way too) checked OK, maintained in a dry run and for real,
//! with JSON and text output; unpartitioned tables skipped or refused; and
//! the databases without partitioning refused with exit status 2.

use awesome_audit_log::chrono::{DateTime, Days, TimeZone, Utc};
use awesome_audit_log_codegen::ddl::create_table_statements;
use awesome_audit_log_codegen::migrations::file_content_partitioned;
use awesome_audit_log_codegen::partition::{
    PartitionBy, create_partition, create_partitioned_table_statements, partition_name,
};
use awesome_audit_log_tests::{Kind, TestDb};

use crate::tables::{original, original_insert, rows};
use crate::tool;

fn midnight(days_ago: u64) -> DateTime<Utc> {
    let day = Utc::now().date_naive() - Days::new(days_ago);
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
}

fn day_partition(at: DateTime<Utc>) -> String {
    partition_name("widget_log", &at.format("%Y%m%d").to_string())
}

fn literal(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S+00").to_string()
}

async fn partitions(db: &TestDb) -> Vec<Option<String>> {
    db.texts(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = 'widget_log'::regclass ORDER BY 1",
    )
    .await
}

/// `schema check` exits 0 and reports `widget_log` OK.
fn widget_log_checks_ok(url: &str) {
    let check = tool::run(Some(url), &["--json", "schema", "check"]).expect(0);
    assert_eq!(
        check.table("widget_log")["status"],
        "ok",
        "{}",
        check.stdout
    );
}

pub async fn partitions_are_maintained(db: TestDb) {
    let url = db.url.as_str();
    if db.kind != Kind::Postgres {
        for statement in create_table_statements(db.kind.dialect(), None, "widget_log") {
            db.exec(&statement).await;
        }
        let refused = tool::run(Some(url), &["partition", "maintain", "--dry-run"]).expect(2);
        refused.complains(if db.kind == Kind::Sqlite {
            "SQLite has no table partitioning"
        } else {
            "maintenance of partitioned log tables is for PostgreSQL"
        });
        return;
    }
    for statement in create_partitioned_table_statements(None, "widget_log") {
        db.exec(&statement).await;
    }
    // A partition ten days old with a row, and today's, which the
    // Django original's INSERT writes into.
    for (from, to) in [
        (midnight(10), midnight(9)),
        (midnight(0), midnight(0) + Days::new(1)),
    ] {
        db.exec(&create_partition(
            None,
            "widget_log",
            &day_partition(from),
            &literal(from),
            &literal(to),
        ))
        .await;
    }
    db.exec(&format!(
        "INSERT INTO widget_log (action, object_pk, created_at) VALUES ('create', 'old', '{}')",
        literal(midnight(10))
    ))
    .await;
    db.exec(&original_insert(db.kind, "widget_log", "1")).await;
    assert_eq!(db.count("widget_log").await, 2);
    widget_log_checks_ok(url);

    let before = partitions(&db).await;
    let args = [
        "partition",
        "maintain",
        "--by",
        "day",
        "--ahead",
        "2",
        "--older-than",
        "5d",
    ];
    let dry = tool::run(
        Some(url),
        &[&["--json"], &args[..], &["--dry-run"]].concat(),
    )
    .expect(0);
    let plan = dry.json();
    assert_eq!(plan["dry_run"], true);
    let table = &plan["tables"][0];
    assert_eq!(table["status"], "maintained", "{plan}");
    let names = |list: &serde_json::Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|change| change["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let tomorrow = midnight(0) + Days::new(1);
    assert_eq!(
        names(&table["created"]),
        [
            day_partition(tomorrow),
            day_partition(tomorrow + Days::new(1))
        ]
    );
    assert_eq!(names(&table["expired"]), [day_partition(midnight(10))]);
    assert_eq!(table["expired"][0]["rows"], 1);
    assert_eq!(partitions(&db).await, before, "a dry run changes nothing");

    let done = tool::run(Some(url), &args).expect(0);
    done.says(&format!("created {}", day_partition(tomorrow)))
        .says(&format!("dropped {}", day_partition(midnight(10))))
        .says("1 row(s)");
    assert_eq!(partitions(&db).await.len(), before.len() + 1);
    assert_eq!(
        db.count("widget_log").await,
        1,
        "the old row went with its partition"
    );
    tool::run(Some(url), &args).expect(0).says("nothing to do");
    tool::run(Some(url), &["schema", "check"]).expect(0);

    // An unpartitioned log table: skipped among the managed ones, a
    // failure when named.
    for statement in create_table_statements(db.kind.dialect(), None, "gizmo_log") {
        db.exec(&statement).await;
    }
    tool::run(Some(url), &["partition", "maintain"])
        .expect(0)
        .says("gizmo_log: skipped, it is not partitioned");
    tool::run(
        Some(url),
        &["partition", "maintain", "--table", "gizmo_log"],
    )
    .expect(1)
    .says("gizmo_log: FAILED");
}

/// The migration file the schema export writes for a model partitioned by
/// day, applied statement by statement: `schema check` reports the table
/// OK with its DEFAULT partition only (the usual table on MySQL/MariaDB and
/// SQLite), and on PostgreSQL `partition maintain` then creates today's
/// partition and moves into it the row logged before it ran.
pub async fn exported_partitioned_tables_check_ok(db: TestDb) {
    let url = db.url.as_str();
    let file = file_content_partitioned(
        db.kind.dialect(),
        None,
        "widget_log",
        Some(PartitionBy::Day),
    );
    for statement in file.split(";\n").filter(|s| !s.trim().is_empty()) {
        db.exec(statement).await;
    }
    widget_log_checks_ok(url);
    if db.kind != Kind::Postgres {
        return;
    }
    assert_eq!(
        partitions(&db).await,
        [Some("widget_log_default".to_owned())]
    );
    db.exec(
        "INSERT INTO widget_log (action, object_pk, created_at) VALUES ('create', 'early', now())",
    )
    .await;
    assert_eq!(db.count("widget_log_default").await, 1);

    tool::run(
        Some(url),
        &["partition", "maintain", "--by", "day", "--ahead", "1"],
    )
    .expect(0)
    .says(&format!("created {}", day_partition(midnight(0))));
    assert_eq!(partitions(&db).await.len(), 3);
    assert_eq!(db.count("widget_log_default").await, 0);
    assert_eq!(db.count(&day_partition(midnight(0))).await, 1);
    assert_eq!(db.count("widget_log").await, 1);
    widget_log_checks_ok(url);
}

/// `partition convert`: this version's table and the Django original's
/// (repaired first with `schema apply`, as the guide says), each with rows,
/// converted without losing one; `schema check` is clean afterwards and
/// maintenance takes the converted tables.
pub async fn tables_are_converted(db: TestDb) {
    let url = db.url.as_str();
    if db.kind != Kind::Postgres {
        db.exec(&original(db.kind, "widget_log")).await;
        tool::run(
            Some(url),
            &[
                "--table",
                "widget_log",
                "partition",
                "convert",
                "--by",
                "day",
            ],
        )
        .expect(2);
        return;
    }
    for statement in create_table_statements(db.kind.dialect(), None, "widget_log") {
        db.exec(&statement).await;
    }
    db.exec(&original(db.kind, "gizmo_log")).await;
    for pk in ["1", "2", "3"] {
        db.exec(&original_insert(db.kind, "widget_log", pk)).await;
        db.exec(&original_insert(db.kind, "gizmo_log", pk)).await;
    }
    tool::run(
        Some(url),
        &["--table", "gizmo_log", "schema", "apply", "--yes"],
    )
    .expect(0);
    let rows_before = rows(&db, None, "widget_log").await;
    let convert = [
        "--table",
        "widget_log",
        "--table",
        "gizmo_log",
        "partition",
        "convert",
        "--by",
        "week",
    ];
    let dry = tool::run(Some(url), &[&convert[..], &["--dry-run"]].concat()).expect(0);
    dry.says("ATTACH PARTITION")
        .says("-- dry run: nothing was changed");
    let kinds = || async {
        db.texts(
            "SELECT relname::text || ' ' || relkind::text FROM pg_class \
             WHERE relname IN ('widget_log', 'gizmo_log') ORDER BY 1",
        )
        .await
    };
    assert_eq!(
        kinds().await,
        [
            Some("gizmo_log r".to_owned()),
            Some("widget_log r".to_owned())
        ]
    );
    tool::run(Some(url), &convert)
        .expect(0)
        .says("widget_log: converted, partitioned")
        .says("gizmo_log: converted, partitioned");
    assert_eq!(
        kinds().await,
        [
            Some("gizmo_log p".to_owned()),
            Some("widget_log p".to_owned())
        ]
    );
    assert_eq!(rows(&db, None, "widget_log").await, rows_before);
    assert_eq!(db.count("gizmo_log").await, 3);
    let check = tool::run(Some(url), &["--json", "schema", "check"]).expect(0);
    for table in ["widget_log", "gizmo_log"] {
        assert_eq!(check.table(table)["status"], "ok", "{}", check.stdout);
    }
    // New rows take the same id sequence.
    db.exec(&original_insert(db.kind, "widget_log", "4")).await;
    let ids = db.ids("SELECT id FROM widget_log").await;
    assert_eq!(ids.len(), 4);
    assert!(ids[3] > ids[2]);
    tool::run(Some(url), &["partition", "maintain", "--dry-run"])
        .expect(0)
        .says("widget_log: partitions by week");
    tool::run(Some(url), &convert).expect(1).says("FAILED");
}
