//! `triggers status`, `install` and `uninstall`: embedded (the test binary
//! as the application, with `Gadget` declared with triggers) and
//! standalone, on the `gadget` table of the trigger suite. What is
//! installed is checked by what it does: a plain SQL write logged, or not.

use awesome_audit_log::Dialect;
use awesome_audit_log::triggers::trigger_names;
use awesome_audit_log_tests::models::Gadget;
use awesome_audit_log_tests::suite::{
    create_gadget_table, gadget, insert_gadget_sql, write_gadget,
};
use awesome_audit_log_tests::{Kind, TestDb};
use serde_json::Value;

use crate::tool::{self, Run, embedded};

/// No configuration variable: the defaults.
const DEFAULTS: &[(&str, &str)] = &[];

/// `triggers status --json` of the embedding application.
fn status(db: &TestDb, env: &[(&str, &str)], code: i32) -> Value {
    embedded(&db.url, env, &["--json", "triggers", "status"])
        .expect(code)
        .table("gadget")
}

/// Inserts gadget `id` with plain SQL, committed.
async fn insert(db: &TestDb, id: i64) {
    write_gadget(db, &insert_gadget_sql(db.kind), &gadget(id), true).await;
}

/// Whether every object of a status row is installed.
fn objects(row: &Value, key: &str) -> Vec<Value> {
    row["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|object| object[key].clone())
        .collect()
}

/// The statements `install` runs for `Gadget`, one per line ending in `;`.
fn statements(kind: Kind) -> Vec<String> {
    Gadget::trigger_ddl(kind.dialect())
        .iter()
        .map(|statement| format!("{statement};"))
        .collect()
}

/// Embedded: missing, then planned by a dry run that changes nothing,
/// refused without a terminal, installed and current, logging a plain
/// write; installing again does nothing; uninstalled, after which a write
/// is not logged.
pub async fn triggers_are_installed_checked_and_removed(db: TestDb) {
    let url = db.url.as_str();
    db.exec(create_gadget_table(db.kind)).await;

    let before = embedded(url, DEFAULTS, &["--json", "triggers", "status"]).expect(1);
    let row = before.table("gadget");
    assert_eq!(row["state"], "missing", "{row}");
    assert_eq!(row["wanted"], true);
    assert_eq!(row["label"], "shop.gadget");
    assert_eq!(row["log_table"], "gadget_log");
    assert!(
        objects(&row, "installed").iter().all(|i| *i == false),
        "{row}"
    );
    // A model without triggers, whose table has none: as expected.
    assert_eq!(before.table("widget")["state"], "none");

    let dry = embedded(url, DEFAULTS, &["triggers", "install", "--dry-run"]).expect(0);
    for statement in statements(db.kind) {
        dry.says(&statement);
    }
    dry.says("-- gadget_log is missing: it is created first");
    dry.says("-- dry run: nothing was changed");
    assert!(!db.table_exists(None, "gadget_log").await);
    assert_eq!(status(&db, DEFAULTS, 1)["state"], "missing");

    embedded(url, DEFAULTS, &["triggers", "install"])
        .expect(2)
        .complains("stdin is not a terminal");

    let installed = embedded(url, DEFAULTS, &["--json", "triggers", "install", "--yes"]).expect(0);
    assert_eq!(installed.tables(), ["gadget"]);
    let row = installed.table("gadget");
    assert_eq!(row["status"], "installed", "{row}");
    let run: Vec<String> = row["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{};", s.as_str().unwrap()))
        .collect();
    assert_eq!(run, statements(db.kind));

    let row = status(&db, DEFAULTS, 0);
    assert_eq!(row["state"], "current", "{row}");
    assert_eq!(row["compared"], true);
    assert!(objects(&row, "current").iter().all(|c| *c == true), "{row}");
    let text = embedded(url, DEFAULTS, &["triggers", "status"]).expect(0);
    text.says("gadget (log table gadget_log, model shop.gadget): current");

    insert(&db, 1).await;
    assert_eq!(db.count("gadget_log").await, 1);

    let again = embedded(url, DEFAULTS, &["--json", "triggers", "install", "--yes"]).expect(0);
    assert_eq!(again.table("gadget")["status"], "unchanged");

    let dry = embedded(url, DEFAULTS, &["triggers", "uninstall", "--dry-run"]).expect(0);
    dry.says("-- gadget: remove the triggers");
    assert_eq!(status(&db, DEFAULTS, 0)["state"], "current");

    let removed = embedded(url, DEFAULTS, &["--json", "triggers", "uninstall", "--yes"]).expect(0);
    assert_eq!(removed.table("gadget")["status"], "uninstalled");
    assert_eq!(removed.table("widget")["status"], "unchanged");
    assert_eq!(status(&db, DEFAULTS, 1)["state"], "missing");
    insert(&db, 2).await;
    assert_eq!(db.count("gadget_log").await, 1);
}

/// Triggers installed for another configuration (LOG_UNCHANGED_UPDATES)
/// are outdated for this one, and installing replaces them; triggers of a
/// model the configuration leaves unaudited are unexpected, and
/// installing removes them.
pub async fn outdated_and_unaudited_triggers_are_found_and_fixed(db: TestDb) {
    let url = db.url.as_str();
    db.exec(create_gadget_table(db.kind)).await;
    let unchanged_logged = [("AWESOME_AUDIT_LOG_LOG_UNCHANGED_UPDATES", "true")];
    embedded(url, &unchanged_logged, &["triggers", "install", "--yes"])
        .expect(0)
        .says("gadget: installed");
    assert_eq!(status(&db, &unchanged_logged, 0)["state"], "current");

    let row = status(&db, DEFAULTS, 1);
    assert_eq!(row["state"], "outdated", "{row}");
    assert!(
        objects(&row, "current").contains(&Value::Bool(false)),
        "{row}"
    );
    embedded(url, DEFAULTS, &["triggers", "status"])
        .expect(1)
        .says("installed, differs from this version's");

    embedded(url, DEFAULTS, &["triggers", "install", "--yes"])
        .expect(0)
        .says("gadget: installed");
    assert_eq!(status(&db, DEFAULTS, 0)["state"], "current");
    // These are the default's: an update that changes nothing is not logged.
    insert(&db, 1).await;
    db.exec("UPDATE gadget SET qty_col = qty_col WHERE id = 1")
        .await;
    assert_eq!(db.count("gadget_log").await, 1);

    let unaudited = [("AWESOME_AUDIT_LOG_NOT_AUDIT_MODELS", "shop.gadget")];
    let row = status(&db, &unaudited, 1);
    assert_eq!(
        (&row["state"], &row["wanted"]),
        (&"unexpected".into(), &false.into()),
        "{row}"
    );
    let fixed = embedded(url, &unaudited, &["--json", "triggers", "install", "--yes"]).expect(0);
    assert_eq!(fixed.table("gadget")["status"], "removed");
    assert_eq!(status(&db, &unaudited, 0)["state"], "none");
    insert(&db, 2).await;
    assert_eq!(db.count("gadget_log").await, 1);
}

/// Standalone (no model): installing is refused (exit 2); the managed
/// tables' triggers are found by name, a partial set is reported (exit 1),
/// and they are removed by name.
pub async fn standalone_lists_and_removes_triggers_by_name(db: TestDb) {
    let url = Some(db.url.as_str());
    db.exec(create_gadget_table(db.kind)).await;
    tool::run(url, &["triggers", "status"])
        .expect(0)
        .says("no log tables");
    tool::run(url, &["triggers", "install", "--yes"])
        .expect(2)
        .complains("the standalone tool links no model");

    embedded(&db.url, DEFAULTS, &["triggers", "install", "--yes"]).expect(0);
    let listed = tool::run(url, &["--json", "triggers", "status"]).expect(0);
    let row = listed.table("gadget");
    assert_eq!(row["state"], "installed", "{row}");
    assert_eq!(
        (&row["compared"], &row["managed"]),
        (&false.into(), &true.into())
    );
    assert!(row["wanted"].is_null() && row["label"].is_null(), "{row}");
    assert!(
        objects(&row, "installed").iter().all(|i| *i == true),
        "{row}"
    );
    tool::run(url, &["triggers", "status"])
        .expect(0)
        .says("gadget (log table gadget_log): installed");

    // One trigger dropped by hand: a partial set.
    let dialect = db.kind.dialect();
    let first = &trigger_names(dialect, "gadget")[0];
    let on = if dialect == Dialect::Postgres {
        " ON gadget"
    } else {
        ""
    };
    db.exec(&format!("DROP TRIGGER {}{on}", dialect.quote(first)))
        .await;
    let partial: Run = tool::run(url, &["--json", "triggers", "status"]).expect(1);
    assert_eq!(partial.table("gadget")["state"], "partial");

    let removed = tool::run(url, &["--json", "triggers", "uninstall", "--yes"]).expect(0);
    assert_eq!(removed.table("gadget")["status"], "uninstalled");
    let row = tool::run(url, &["--json", "triggers", "status"])
        .expect(0)
        .table("gadget");
    assert_eq!(row["state"], "none", "{row}");
    assert!(
        objects(&row, "installed").iter().all(|i| *i == false),
        "{row}"
    );
    insert(&db, 1).await;
    assert_eq!(db.count("gadget_log").await, 0);
}
