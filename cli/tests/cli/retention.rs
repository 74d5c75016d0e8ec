//! `prune` and `dedupe` on our tables, the Django original's, and
//! look-alikes that must stay as they are.

use awesome_audit_log_codegen::ddl::{create_table_statements, register_table};
use awesome_audit_log_tests::{Kind, TestDb};

use crate::cases::{create_look_alikes, look_alike_shapes};
use crate::tables::original;
use crate::tool;

/// An instant every backend stores, long ago.
pub const OLD: &str = "2020-01-02 10:00:00";
/// An instant no run of these tests reaches (a MySQL `TIMESTAMP` ends in
/// 2038).
const NEW: &str = "2037-01-02 10:00:00";

/// Inserts `n` rows of `action` for `object_pk` logged at `at`, with
/// `changes` as given (SQL text), into `table`, as one statement.
pub async fn insert_rows(
    db: &TestDb,
    table: &str,
    object_pk: &str,
    action: &str,
    changes: &str,
    at: &str,
    n: usize,
) {
    let at = match db.kind {
        Kind::Postgres => format!("{at}+00"),
        Kind::MySql => at.to_owned(),
        // Django's text form.
        Kind::Sqlite => format!("{at}.000000"),
    };
    let row = format!("('{action}', '{object_pk}', {changes}, '{at}')");
    let rows = vec![row; n].join(", ");
    db.exec(&format!(
        "INSERT INTO {table} (action, object_pk, changes, created_at) VALUES {rows}"
    ))
    .await;
}

/// A log table as this version creates it (registered as managed).
async fn create_ours(db: &TestDb, table: &str) {
    for statement in create_table_statements(db.kind.dialect(), None, table) {
        db.exec(&statement).await;
    }
}

/// Old and new rows in our table and in one the original made: a dry run
/// counts and deletes nothing; without `--yes` and a terminal nothing
/// runs (exit 2), nor without a rule; with both, every managed and named
/// log table loses exactly the rows the rule lets go, in batches, and the
/// printed counts are the rows gone. Look-alikes, one of them registered
/// by mistake, keep every row.
pub async fn prune_deletes_what_the_rules_let_go(db: TestDb) {
    let url = db.url.as_str();
    create_ours(&db, "widget_log").await;
    db.exec(&original(db.kind, "legacy_log")).await;
    create_look_alikes(&db).await;
    db.exec(&register_table(db.kind.dialect(), None, "blog_log"))
        .await;
    db.exec(&format!(
        "INSERT INTO blog_log (title, created_at) VALUES ('old', '{OLD}')"
    ))
    .await;
    insert_rows(&db, "widget_log", "1", "update", "NULL", OLD, 30).await;
    insert_rows(&db, "widget_log", "1", "update", "NULL", NEW, 5).await;
    insert_rows(&db, "legacy_log", "7", "insert", "NULL", OLD, 12).await;
    insert_rows(&db, "legacy_log", "7", "update", "NULL", NEW, 1).await;
    let shapes = look_alike_shapes(&db).await;
    let counts = async || {
        (
            db.count("widget_log").await,
            db.count("legacy_log").await,
            db.count("blog_log").await,
        )
    };
    assert_eq!(counts().await, (35, 13, 1));

    let usage = tool::run(Some(url), &["prune", "--yes"]).expect(2);
    usage.complains("no rule");
    let no_terminal = tool::run(Some(url), &["prune", "--older-than", "90d"]).expect(2);
    no_terminal.complains("prune: stdin is not a terminal");
    no_terminal.complains("pass --yes");
    tool::run(Some(url), &["prune", "--older-than", "90"]).expect(2);
    tool::run(Some(url), &["prune", "--keep-last", "0", "--yes"]).expect(2);
    tool::run(Some(url), &["prune", "--before", "last week", "--yes"]).expect(2);
    let refused = tool::run(
        Some(url),
        &[
            "--table",
            "blog_log",
            "prune",
            "--older-than",
            "1d",
            "--yes",
        ],
    )
    .expect(2);
    refused.complains("refusing `blog_log`");
    assert_eq!(counts().await, (35, 13, 1));

    let dry = tool::run(
        Some(url),
        &[
            "--table",
            "legacy_log",
            "prune",
            "--older-than",
            "90d",
            "--dry-run",
        ],
    )
    .expect(0);
    dry.says("widget_log: 30 row(s) would be deleted: older than 90d");
    dry.says("legacy_log: 12 row(s) would be deleted");
    dry.says("blog_log: skipped: not a log table");
    dry.says("dry run: nothing was deleted");
    let dry = tool::run(
        Some(url),
        &["--json", "prune", "--before", "2030-01-01", "--dry-run"],
    )
    .expect(0);
    let widget = dry.table("widget_log");
    assert_eq!(widget["status"], "dry_run", "{widget}");
    assert_eq!(widget["report"]["rows"], 30);
    assert_eq!(widget["report"]["dry_run"], true);
    assert_eq!(widget["rule"]["origin"], "command_line");
    assert_eq!(widget["rule"]["before"], "2030-01-01T00:00:00Z");
    assert_eq!(dry.table("blog_log")["status"], "skipped");
    assert_eq!(dry.tables(), ["blog_log", "widget_log"]);
    assert_eq!(counts().await, (35, 13, 1));

    let pruned = tool::run(
        Some(url),
        &[
            "--table",
            "legacy_log",
            "--json",
            "prune",
            "--older-than",
            "90d",
            "--batch-size",
            "7",
            "--pause",
            "0s",
            "--yes",
        ],
    )
    .expect(0);
    let widget = pruned.table("widget_log")["report"].clone();
    assert_eq!(
        (&widget["rows"], &widget["batches"], &widget["dry_run"]),
        (&30.into(), &5.into(), &false.into()),
        "{widget}"
    );
    assert!(widget["elapsed_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    let legacy = pruned.table("legacy_log");
    assert_eq!(legacy["status"], "done");
    assert_eq!(legacy["report"]["rows"], 12);
    assert_eq!(legacy["named"], true);
    assert_eq!(counts().await, (5, 1, 1));

    // Each object keeps its newest two rows; the count printed is what went.
    let kept = tool::run(Some(url), &["prune", "--keep-last", "2", "--yes"]).expect(0);
    kept.says("widget_log: 3 row(s) deleted in 1 batch(es) (");
    kept.says("): beyond the newest 2 of each object\n");
    kept.says("blog_log: skipped");
    assert_eq!(counts().await, (2, 1, 1));
    let again = tool::run(Some(url), &["prune", "--keep-last", "2", "--yes"]).expect(0);
    again.says("widget_log: 0 row(s) deleted");
    assert_eq!(look_alike_shapes(&db).await, shapes);

    if db.kind == Kind::Postgres {
        // In --schema: its own tables, none of the default schema's.
        db.exec("CREATE SCHEMA audit").await;
        for statement in create_table_statements(db.kind.dialect(), Some("audit"), "widget_log") {
            db.exec(&statement).await;
        }
        insert_rows(&db, "audit.widget_log", "1", "update", "NULL", OLD, 4).await;
        let pruned = tool::run(
            Some(url),
            &[
                "--schema",
                "audit",
                "--json",
                "prune",
                "--older-than",
                "90d",
                "--yes",
            ],
        )
        .expect(0);
        assert_eq!(pruned.tables(), ["widget_log"]);
        assert_eq!(pruned.table("widget_log")["schema"], "audit");
        assert_eq!(pruned.table("widget_log")["report"]["rows"], 4);
        assert_eq!(db.count("audit.widget_log").await, 0);
        assert_eq!(counts().await, (2, 1, 1));
    }
}

/// `dedupe` deletes the update rows with empty `changes` (NULL, JSON null,
/// `{}`) of our table and the original's; inserts, deletes and real
/// changes stay.
pub async fn dedupe_deletes_empty_updates(db: TestDb) {
    let url = db.url.as_str();
    create_ours(&db, "widget_log").await;
    db.exec(&original(db.kind, "legacy_log")).await;
    create_look_alikes(&db).await;
    let shapes = look_alike_shapes(&db).await;
    for table in ["widget_log", "legacy_log"] {
        insert_rows(&db, table, "1", "insert", "NULL", OLD, 1).await;
        insert_rows(&db, table, "1", "update", "'{}'", OLD, 4).await;
        insert_rows(&db, table, "1", "update", "NULL", NEW, 2).await;
        insert_rows(&db, table, "1", "update", "'null'", NEW, 1).await;
        insert_rows(
            &db,
            table,
            "1",
            "update",
            r#"'{"qty": {"from": 1, "to": 2}}'"#,
            NEW,
            3,
        )
        .await;
        insert_rows(&db, table, "1", "delete", "'{}'", NEW, 1).await;
    }
    let dry = tool::run(Some(url), &["--table", "legacy_log", "dedupe", "--dry-run"]).expect(0);
    dry.says("widget_log: 7 row(s) would be deleted: update rows that record no change");
    dry.says("legacy_log: 7 row(s) would be deleted");
    assert_eq!(db.count("widget_log").await, 12);
    tool::run(Some(url), &["dedupe"])
        .expect(2)
        .complains("dedupe: stdin is not a terminal");

    let done = tool::run(
        Some(url),
        &[
            "--table",
            "legacy_log",
            "--json",
            "dedupe",
            "--batch-size",
            "3",
            "--yes",
        ],
    )
    .expect(0);
    for table in ["widget_log", "legacy_log"] {
        let report = &done.table(table)["report"];
        assert_eq!(
            (&report["rows"], &report["batches"]),
            (&7.into(), &3.into())
        );
        assert_eq!(db.count(table).await, 5);
    }
    assert_eq!(done.table("widget_log")["rule"]["kind"], "dedupe");
    assert_eq!(look_alike_shapes(&db).await, shapes);
}

/// Embedded: a model's `retention(...)` policy is its table's rule when
/// none is given; a model without one is skipped (and, alone, a usage
/// error); a rule given replaces the policy.
pub async fn embedded_policies_are_used(db: TestDb) {
    use awesome_audit_log_cli::{Command, DedupeArgs, Exit, GlobalArgs, PruneArgs, RunArgs};

    // Linked for their registrations only.
    #[allow(dead_code)]
    #[awesome_audit_log::audited(table = "cli_gizmo", retention(keep_last = 2))]
    struct Gizmo {
        id: i64,
    }
    #[allow(dead_code)]
    #[awesome_audit_log::audited(table = "cli_doohickey")]
    struct Doohickey {
        id: i64,
    }
    let models: Vec<_> = awesome_audit_log::registry::models()
        .into_iter()
        .filter(|model| ["cli_gizmo_log", "cli_doohickey_log"].contains(&model.log_table()))
        .collect();
    assert_eq!(models.len(), 2);
    for table in ["cli_gizmo_log", "cli_doohickey_log"] {
        create_ours(&db, table).await;
        for pk in ["1", "2"] {
            insert_rows(&db, table, pk, "update", "NULL", OLD, 4).await;
        }
    }
    let global = GlobalArgs {
        database_url: Some(db.url.clone()),
        ..GlobalArgs::default()
    };
    let yes = RunArgs {
        yes: true,
        ..RunArgs::default()
    };
    let by_policy = Command::Prune(PruneArgs {
        run: yes.clone(),
        ..PruneArgs::default()
    });
    assert_eq!(
        awesome_audit_log_cli::run(&global, &by_policy, &models).await,
        Exit::Success
    );
    assert_eq!(db.count("cli_gizmo_log").await, 4);
    assert_eq!(db.count("cli_doohickey_log").await, 8);

    // Without a policy, and without a rule, nothing to go by.
    let doohickey_only: Vec<_> = models
        .iter()
        .copied()
        .filter(|model| model.log_table() == "cli_doohickey_log")
        .collect();
    assert_eq!(
        awesome_audit_log_cli::run(&global, &by_policy, &doohickey_only).await,
        Exit::Usage
    );
    assert_eq!(db.count("cli_gizmo_log").await, 4);

    let by_rule = Command::Prune(PruneArgs {
        keep_last: Some(1),
        run: yes.clone(),
        ..PruneArgs::default()
    });
    assert_eq!(
        awesome_audit_log_cli::run(&global, &by_rule, &models).await,
        Exit::Success
    );
    assert_eq!(db.count("cli_doohickey_log").await, 2);
    assert_eq!(db.count("cli_gizmo_log").await, 2);

    let dedupe = Command::Dedupe(DedupeArgs { run: yes });
    assert_eq!(
        awesome_audit_log_cli::run(&global, &dedupe, &models).await,
        Exit::Success
    );
    assert_eq!(db.count("cli_gizmo_log").await, 0);
    assert_eq!(db.count("cli_doohickey_log").await, 0);

    // The standalone tool has no policy to go by.
    tool::run(Some(&db.url), &["prune", "--yes"])
        .expect(2)
        .complains("no rule");
}
