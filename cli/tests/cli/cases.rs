//! The cases, each on a fresh database of its backend.

use awesome_audit_log_codegen::ddl::{
    create_managed_tables, create_table_statements, register_table,
};
use awesome_audit_log_tests::harness::TestPool;
use awesome_audit_log_tests::{Kind, TestDb};

use crate::tables::{
    self, look_alikes, original, original_insert, pre_1_0, previous_version, rows,
};
use crate::tool::{self, drift_kinds};

/// Runs `sql`, which may fail.
async fn try_exec(db: &TestDb, sql: &str) -> Result<(), sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match &db.pool {
        TestPool::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        TestPool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
        TestPool::MySql(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
    }
}

/// What the look-alike tables are: their columns and indexes.
pub(crate) async fn look_alike_shapes(
    db: &TestDb,
) -> Vec<(Vec<String>, Vec<(String, Vec<String>)>)> {
    let mut shapes = Vec::new();
    for table in ["django_admin_log", "blog_log", "catalog"] {
        shapes.push((
            db.columns(None, table).await,
            db.indexes(None, table).await.into_iter().collect(),
        ));
    }
    shapes
}

pub(crate) async fn create_look_alikes(db: &TestDb) {
    for ddl in look_alikes(db.kind) {
        db.exec(&ddl).await;
    }
}

fn has_all(kinds: &[String], expected: &[&str]) -> bool {
    expected.iter().all(|kind| kinds.iter().any(|k| k == kind))
}

/// A table the original made, with rows it wrote: `schema check` finds it
/// only when named, lists what it lacks; the dry run changes nothing;
/// `schema apply` adds it all and registers it, keeps every row, and the
/// original's INSERT still works; afterwards the table is managed and OK,
/// and applying again does nothing. The look-alikes are never touched.
pub async fn original_tables_are_repaired_without_losing_a_row(db: TestDb) {
    let url = db.url.as_str();
    db.exec(&original(db.kind, "widget_log")).await;
    create_look_alikes(&db).await;
    for pk in ["1", "2", "3"] {
        db.exec(&original_insert(db.kind, "widget_log", pk)).await;
    }
    let before = rows(&db, None, "widget_log").await;
    let columns = db.columns(None, "widget_log").await;
    let others = look_alike_shapes(&db).await;

    // Nothing is managed yet, and nothing is found by its name.
    let none = tool::run(Some(url), &["--json", "schema", "check"]).expect(0);
    assert_eq!(none.tables(), Vec::<String>::new());
    let none = tool::run(Some(url), &["schema", "check"]).expect(0);
    none.says("no log tables");

    let check = tool::run(
        Some(url),
        &["--table", "widget_log", "--json", "schema", "check"],
    )
    .expect(1);
    let widget = check.table("widget_log");
    assert_eq!(widget["status"], "drift");
    assert_eq!(widget["named"], true);
    assert_eq!(widget["managed"], false);
    let kinds = drift_kinds(&widget);
    assert!(
        has_all(
            &kinds,
            &["missing_column", "missing_index", "not_registered"]
        ),
        "{kinds:?}"
    );
    assert_eq!(kinds.iter().filter(|k| *k == "missing_index").count(), 4);
    let missing: Vec<&str> = widget["drifts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "missing_column")
        .filter_map(|d| d["column"].as_str())
        .collect();
    assert_eq!(missing, ["event_id", "correlation_id"]);
    if db.kind == Kind::MySql {
        // TIMESTAMP keeps whole seconds.
        assert!(
            kinds.iter().any(|k| k == "timestamp_precision"),
            "{kinds:?}"
        );
    } else {
        assert_eq!(kinds.len(), 7, "{kinds:?}");
    }

    let human = tool::run(Some(url), &["--table", "widget_log", "schema", "check"]).expect(1);
    human.says("widget_log  drift");
    human.says("  - column `event_id` is missing");
    human.says("1 table(s): 0 ok, 1 drift");

    // The dry run prints the statements and changes nothing.
    let dry = tool::run(
        Some(url),
        &["--table", "widget_log", "schema", "apply", "--dry-run"],
    )
    .expect(0);
    dry.says("ADD COLUMN");
    dry.says("awesome_audit_log_tables");
    dry.says("-- dry run: nothing was changed");
    let dry_json = tool::run(
        Some(url),
        &[
            "--table",
            "widget_log",
            "--json",
            "schema",
            "apply",
            "--dry-run",
        ],
    )
    .expect(0);
    let planned = dry_json.table("widget_log");
    assert_eq!(planned["status"], "planned");
    assert_eq!(planned["transactional"], db.kind != Kind::MySql);
    assert!(!planned["statements"].as_array().unwrap().is_empty());
    assert_eq!(db.columns(None, "widget_log").await, columns);
    assert!(!db.table_exists(None, "awesome_audit_log_tables").await);

    let applied = tool::run(
        Some(url),
        &["--table", "widget_log", "schema", "apply", "--yes"],
    )
    .expect(0);
    applied.says("widget_log: repaired");
    let now = db.columns(None, "widget_log").await;
    assert_eq!(now[..15], columns[..]);
    assert_eq!(now[15..], ["event_id", "correlation_id"]);
    assert_eq!(rows(&db, None, "widget_log").await, before);

    // The original writes to it as before.
    db.exec(&original_insert(db.kind, "widget_log", "4")).await;
    assert_eq!(db.count("widget_log").await, 4);

    // Managed now: found without being named, and OK.
    let check = tool::run(Some(url), &["--json", "schema", "check"]).expect(0);
    assert_eq!(check.tables(), ["widget_log"]);
    let widget = check.table("widget_log");
    assert_eq!(widget["status"], "ok");
    assert_eq!(widget["managed"], true);
    assert_eq!(widget["drifts"], serde_json::json!([]));
    let human = tool::run(Some(url), &["schema", "check"]).expect(0);
    assert!(
        human.stdout.starts_with("widget_log  ok\n"),
        "{}",
        human.stdout
    );

    // Applying again changes nothing.
    let again = tool::run(Some(url), &["schema", "apply", "--yes"]).expect(0);
    again.says("-- widget_log: ok, nothing to do");
    let again = tool::run(
        Some(url),
        &[
            "--table",
            "widget_log",
            "--json",
            "schema",
            "apply",
            "--yes",
        ],
    )
    .expect(0);
    assert_eq!(again.table("widget_log")["status"], "unchanged");
    assert_eq!(rows(&db, None, "widget_log").await.len(), 4);

    let listed = tool::run(Some(url), &["--json", "tables"]).expect(0);
    assert_eq!(listed.tables(), ["widget_log"]);
    assert_eq!(listed.table("widget_log")["exists"], true);
    assert_eq!(look_alike_shapes(&db).await, others);
}

/// The original's pre-1.0 table, whose `created_at` had a database
/// default (nullable on PostgreSQL and SQLite): the default is dropped,
/// the column made NOT NULL (on SQLite by rebuilding the table, on MySQL
/// widened to `DATETIME(6)` in UTC), every row kept, and an INSERT that
/// leaves the time out now fails instead of taking the insert time.
pub async fn pre_1_0_created_at_defaults_are_dropped(db: TestDb) {
    let url = db.url.as_str();
    db.exec(&pre_1_0(db.kind, "widget_log")).await;
    db.exec("CREATE INDEX mine ON widget_log (user_id)").await;
    for pk in ["1", "2"] {
        db.exec(&format!(
            "INSERT INTO widget_log (action, object_pk) VALUES ('insert', '{pk}')"
        ))
        .await;
    }
    db.exec(&original_insert(db.kind, "widget_log", "3")).await;
    let before = rows(&db, None, "widget_log").await;
    assert_eq!(before.len(), 3);

    let check = tool::run(
        Some(url),
        &["--table", "widget_log", "--json", "schema", "check"],
    )
    .expect(1);
    let widget = check.table("widget_log");
    let kinds = drift_kinds(&widget);
    let default = widget["drifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "created_at_default")
        .unwrap_or_else(|| panic!("{widget}"));
    let said = default["message"].as_str().unwrap().to_lowercase();
    assert!(said.contains("current_timestamp"), "{said}");
    match db.kind {
        Kind::Postgres => assert!(has_all(&kinds, &["nullable"]), "{kinds:?}"),
        Kind::Sqlite => assert!(has_all(&kinds, &["nullable", "type"]), "{kinds:?}"),
        Kind::MySql => assert!(has_all(&kinds, &["timestamp_precision"]), "{kinds:?}"),
    }
    assert!(
        widget["drifts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["repair"] == "automatic"),
        "{widget}"
    );

    tool::run(
        Some(url),
        &["--table", "widget_log", "schema", "apply", "--yes"],
    )
    .expect(0);
    assert_eq!(rows(&db, None, "widget_log").await, before);
    let check = tool::run(Some(url), &["--json", "schema", "check"]).expect(0);
    assert_eq!(check.table("widget_log")["status"], "ok");
    // The operator's own index is still there (SQLite rebuilt the table).
    assert!(db.indexes(None, "widget_log").await.contains_key("mine"));
    assert!(
        try_exec(
            &db,
            "INSERT INTO widget_log (action, object_pk) VALUES ('insert', '9')"
        )
        .await
        .is_err(),
        "created_at still has a default"
    );
    db.exec(&original_insert(db.kind, "widget_log", "4")).await;
    assert_eq!(db.count("widget_log").await, 4);
}

/// A table of our previous version (16 columns, no `correlation_id`, no
/// index) gets the column and its four indexes; rows kept.
pub async fn previous_version_tables_get_the_new_column_and_indexes(db: TestDb) {
    let url = db.url.as_str();
    db.exec(&previous_version(db.kind, "gizmo_log")).await;
    for pk in ["1", "2"] {
        db.exec(&original_insert(db.kind, "gizmo_log", pk)).await;
    }
    let before = rows(&db, None, "gizmo_log").await;
    let check = tool::run(
        Some(url),
        &["--table", "gizmo_log", "--json", "schema", "check"],
    )
    .expect(1);
    let gizmo = check.table("gizmo_log");
    let mut kinds = drift_kinds(&gizmo);
    kinds.dedup();
    assert_eq!(
        kinds,
        ["missing_column", "missing_index", "not_registered"],
        "{gizmo}"
    );
    assert_eq!(gizmo["drifts"][0]["column"], "correlation_id");

    tool::run(
        Some(url),
        &["--table", "gizmo_log", "schema", "apply", "--yes"],
    )
    .expect(0);
    let indexes = db.indexes(None, "gizmo_log").await;
    for suffix in ["object", "created", "user", "correlation"] {
        assert!(
            indexes.contains_key(&format!("gizmo_log_{suffix}_idx")),
            "{indexes:?}"
        );
    }
    assert_eq!(rows(&db, None, "gizmo_log").await, before);
    tool::run(Some(url), &["schema", "check"]).expect(0);
}

/// Tables this version creates are OK as they are, listed, and left alone.
pub async fn current_tables_are_ok(db: TestDb) {
    let url = db.url.as_str();
    for statement in create_table_statements(db.kind.dialect(), None, "widget_log") {
        db.exec(&statement).await;
    }
    db.exec(&original_insert(db.kind, "widget_log", "1")).await;
    let check = tool::run(Some(url), &["--json", "schema", "check"]).expect(0);
    let widget = check.table("widget_log");
    assert_eq!(widget["status"], "ok", "{widget}");
    assert_eq!(widget["drifts"], serde_json::json!([]));
    let human = tool::run(Some(url), &["schema", "check"]).expect(0);
    human.says("1 table(s): 1 ok, 0 drift, 0 missing, 0 not a log table");
    let applied = tool::run(Some(url), &["--json", "schema", "apply"]).expect(0);
    assert_eq!(applied.table("widget_log")["status"], "unchanged");
    assert_eq!(
        applied.table("widget_log")["statements"],
        serde_json::json!([])
    );

    let listed = tool::run(Some(url), &["--json", "tables"]).expect(0);
    let widget = listed.table("widget_log");
    assert_eq!(widget["exists"], true);
    assert_eq!(widget["managed"], true);
    assert!(widget["rows_estimate"].is_u64() || widget["rows_estimate"].is_null());
    let human = tool::run(Some(url), &["tables"]).expect(0);
    assert!(human.stdout.starts_with("TABLE "), "{}", human.stdout);
    human.says("widget_log  yes");
}

/// Tables that look like log tables by name are never listed, never
/// altered, and refused (exit 2) when named; one registered by mistake is
/// reported as not a log table and left as it is.
pub async fn look_alikes_are_never_touched(db: TestDb) {
    let url = db.url.as_str();
    create_look_alikes(&db).await;
    let shapes = look_alike_shapes(&db).await;
    for table in ["django_admin_log", "blog_log"] {
        for args in [
            vec!["--table", table, "schema", "check"],
            vec!["--table", table, "schema", "apply", "--yes"],
            vec!["--table", table, "--json", "tables"],
        ] {
            let refused = tool::run(Some(url), &args).expect(2);
            refused.complains(&format!("refusing `{table}`: it lacks"));
            assert!(refused.stdout.is_empty(), "{}", refused.stdout);
        }
    }
    let refused = tool::run(Some(url), &["--table", "catalog", "schema", "check"]).expect(2);
    refused.complains("not a log table's name");
    assert_eq!(look_alike_shapes(&db).await, shapes);
    assert!(!db.table_exists(None, "awesome_audit_log_tables").await);

    // Registered by mistake: reported, left alone.
    let dialect = db.kind.dialect();
    db.exec(&create_managed_tables(dialect, None)).await;
    db.exec(&register_table(dialect, None, "blog_log")).await;
    let check = tool::run(Some(url), &["--json", "schema", "check"]).expect(1);
    assert_eq!(check.tables(), ["blog_log"]);
    assert_eq!(check.table("blog_log")["status"], "not_a_log_table");
    let applied = tool::run(Some(url), &["--json", "schema", "apply", "--yes"]).expect(1);
    assert_eq!(applied.table("blog_log")["status"], "blocked");
    assert_eq!(look_alike_shapes(&db).await, shapes);
}

/// Rows with no `created_at` keep the column from being made NOT NULL:
/// the table is left as it is (nothing of its repair is done), the
/// reason said, and the exit status is 1.
pub async fn null_times_block_the_repair(db: TestDb) {
    let url = db.url.as_str();
    let created_at = match db.kind {
        Kind::Postgres => "TIMESTAMPTZ",
        Kind::MySql => "TIMESTAMP NULL",
        Kind::Sqlite => "TEXT",
    };
    db.exec(&tables::with_created_at(db.kind, "widget_log", created_at))
        .await;
    db.exec("INSERT INTO widget_log (action, object_pk, created_at) VALUES ('insert', '1', NULL)")
        .await;
    let columns = db.columns(None, "widget_log").await;
    let check = tool::run(
        Some(url),
        &["--table", "widget_log", "--json", "schema", "check"],
    )
    .expect(1);
    let nullable = check.table("widget_log")["drifts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "nullable")
        .cloned()
        .expect("a nullable drift");
    assert_eq!(nullable["repair"], "manual");
    assert!(
        nullable["message"].as_str().unwrap().contains("1 row(s)"),
        "{nullable}"
    );
    let applied = tool::run(
        Some(url),
        &["--table", "widget_log", "schema", "apply", "--yes"],
    )
    .expect(1);
    applied.says("-- widget_log: left as it is:");
    assert_eq!(db.columns(None, "widget_log").await, columns);
}

/// Usage errors exit 2 with a message, and change nothing; a failure to
/// open the database exits 1.
pub async fn usage_errors_exit_2(db: TestDb) {
    let url = db.url.as_str();
    db.exec(&original(db.kind, "widget_log")).await;
    let columns = db.columns(None, "widget_log").await;

    let no_url = tool::run(None, &["schema", "check"]).expect(2);
    no_url.complains("no database URL");
    let blank = tool::run(Some(""), &["tables"]).expect(2);
    blank.complains("no database URL");
    tool::run(Some(url), &["schema", "frobnicate"]).expect(2);
    tool::run(Some(url), &["frobnicate"]).expect(2);
    tool::run(Some(url), &["schema", "apply", "--lock-timeout", "soon"]).expect(2);
    let scheme = tool::run(Some("oracle://db.internal/x"), &["schema", "check"]).expect(2);
    scheme.complains("`oracle:`");
    let no_terminal = tool::run(Some(url), &["--table", "widget_log", "schema", "apply"]).expect(2);
    no_terminal.complains("pass --yes");
    // The statements were shown all the same.
    no_terminal.says("ADD COLUMN");
    assert_eq!(db.columns(None, "widget_log").await, columns);
    let help = tool::run(None, &["--help"]).expect(0);
    help.says("schema");
    if db.kind == Kind::Postgres {
        let schema = tool::run(Some(url), &["--schema", "pg_mine", "schema", "check"]).expect(2);
        schema.complains("--schema");
    }

    // The database cannot be opened: a failure, not a usage error; a
    // missing SQLite file is not created.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here.db");
    let missing_url = format!("sqlite://{}", missing.display());
    let failed = tool::run(Some(&missing_url), &["schema", "check"]).expect(1);
    failed.complains("could not connect");
    assert!(!missing.exists());
    let password = tool::run(
        Some("postgres://someone:s3cret@127.0.0.1:1/db"),
        &["schema", "check"],
    )
    .expect(1);
    assert!(!password.stderr.contains("s3cret"), "{}", password.stderr);
}

/// PostgreSQL: `--schema` (or AWESOME_AUDIT_LOG_PG_SCHEMA) names where the
/// log tables and their registry live; a table of the same name in the
/// default schema is not touched.
pub async fn postgres_schema_holds_the_tables(db: TestDb) {
    let url = db.url.as_str();
    let in_audit = |sql: String| format!("BEGIN; SET LOCAL search_path TO audit; {sql}; COMMIT");
    db.exec("CREATE SCHEMA audit").await;
    db.exec(&in_audit(original(db.kind, "widget_log"))).await;
    db.exec(&in_audit(original_insert(db.kind, "widget_log", "1")))
        .await;
    db.exec(&original(db.kind, "widget_log")).await;
    let before = rows(&db, Some("audit"), "widget_log").await;
    let public = db.columns(None, "widget_log").await;

    let check = tool::run(
        Some(url),
        &[
            "--schema",
            "audit",
            "--table",
            "widget_log",
            "--json",
            "schema",
            "check",
        ],
    )
    .expect(1);
    assert_eq!(check.table("widget_log")["schema"], "audit");
    tool::run(
        Some(url),
        &[
            "--schema",
            "audit",
            "--table",
            "widget_log",
            "schema",
            "apply",
            "--yes",
        ],
    )
    .expect(0);
    assert!(
        db.table_exists(Some("audit"), "awesome_audit_log_tables")
            .await
    );
    assert!(!db.table_exists(None, "awesome_audit_log_tables").await);
    assert_eq!(db.columns(None, "widget_log").await, public);
    assert_eq!(db.columns(Some("audit"), "widget_log").await.len(), 17);
    assert_eq!(rows(&db, Some("audit"), "widget_log").await, before);

    // The variable the runtime reads names the schema too.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_awesome-audit-log"));
    let output = command
        .args(["--json", "schema", "check"])
        .env("DATABASE_URL", url)
        .env("AWESOME_AUDIT_LOG_PG_SCHEMA", "audit")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let tables: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(tables[0]["table"], "widget_log");
    assert_eq!(tables[0]["status"], "ok");
    // Without it, the default schema: nothing is managed there.
    let none = tool::run(Some(url), &["--json", "schema", "check"]).expect(0);
    assert_eq!(none.tables(), Vec::<String>::new());
}

/// MariaDB before 10.10 (and MySQL 5.7) gave the first `TIMESTAMP NOT
/// NULL` column `DEFAULT current_timestamp() ON UPDATE current_timestamp()`
/// (explicit_defaults_for_timestamp off): the original's table there
/// rewrites `created_at` on every UPDATE. Both clauses are found and
/// dropped with the move to `DATETIME(6)`.
pub async fn mysql_on_update_timestamps_are_fixed(db: TestDb) {
    let url = db.url.as_str();
    db.exec(&format!(
        "SET SESSION explicit_defaults_for_timestamp = 0; {}",
        original(db.kind, "widget_log")
    ))
    .await;
    db.exec(&original_insert(db.kind, "widget_log", "1")).await;
    let before = rows(&db, None, "widget_log").await;
    let check = tool::run(
        Some(url),
        &["--table", "widget_log", "--json", "schema", "check"],
    )
    .expect(1);
    let drifts = check.table("widget_log")["drifts"].clone();
    let default = drifts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "created_at_default")
        .unwrap_or_else(|| panic!("{drifts}"));
    assert!(
        default["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("on update current_timestamp"),
        "{default}"
    );
    tool::run(
        Some(url),
        &["--table", "widget_log", "schema", "apply", "--yes"],
    )
    .expect(0);
    db.exec("UPDATE widget_log SET user_name = 'grace'").await;
    let after: Vec<Option<String>> = rows(&db, None, "widget_log")
        .await
        .into_iter()
        .map(|row| row.map(|r| r.replace("grace", "ada")))
        .collect();
    assert_eq!(after, before, "created_at changed with the UPDATE");
    tool::run(Some(url), &["schema", "check"]).expect(0);
}

/// Embedded: `run` with the models the binary links checks their log
/// tables without naming them, and creates one that is missing.
pub async fn embedded_models_are_taken(db: TestDb) {
    use awesome_audit_log_cli::{ApplyArgs, Command, Exit, GlobalArgs, SchemaCommand};

    // Linked for its registration only.
    #[allow(dead_code)]
    #[awesome_audit_log::audited(table = "cli_gadget")]
    struct Gadget {
        id: i64,
    }
    let models: Vec<_> = awesome_audit_log::registry::models()
        .into_iter()
        .filter(|model| model.log_table() == "cli_gadget_log")
        .collect();
    assert_eq!(models.len(), 1);
    let global = GlobalArgs {
        database_url: Some(db.url.clone()),
        json: true,
        ..GlobalArgs::default()
    };
    let check = Command::Schema(SchemaCommand::Check);
    assert_eq!(
        awesome_audit_log_cli::run(&global, &check, &models).await,
        Exit::Failure
    );
    let apply = Command::Schema(SchemaCommand::Apply(ApplyArgs {
        yes: true,
        ..ApplyArgs::default()
    }));
    assert_eq!(
        awesome_audit_log_cli::run(&global, &apply, &models).await,
        Exit::Success
    );
    assert!(db.table_exists(None, "cli_gadget_log").await);
    assert_eq!(
        awesome_audit_log_cli::run(&global, &check, &models).await,
        Exit::Success
    );
    // The standalone tool finds it among the managed tables.
    let listed = tool::run(Some(&db.url), &["--json", "tables"]).expect(0);
    assert_eq!(listed.tables(), ["cli_gadget_log"]);
}

/// A table another transaction is writing to: the repair gives up after
/// the lock timeout (exit 1, the error said), the table is as it was, and
/// once the lock is gone the same command repairs it.
pub async fn locked_tables_fail_within_the_lock_timeout(db: TestDb) {
    let url = db.url.as_str();
    db.exec(&original(db.kind, "widget_log")).await;
    let columns = db.columns(None, "widget_log").await;
    let args = [
        "--table",
        "widget_log",
        "schema",
        "apply",
        "--yes",
        "--lock-timeout",
        "300ms",
    ];
    let insert = original_insert(db.kind, "widget_log", "1");
    let during = || tool::run(Some(url), &args);
    let failed = match &db.pool {
        TestPool::Sqlite(pool) => while_writing(pool, insert, during).await,
        TestPool::Postgres(pool) => while_writing(pool, insert, during).await,
        TestPool::MySql(pool) => while_writing(pool, insert, during).await,
    };
    let failed = failed.expect(1);
    failed.says("widget_log: failed: ");
    assert_eq!(db.columns(None, "widget_log").await, columns);
    tool::run(Some(url), &args).expect(0);
    assert_eq!(db.columns(None, "widget_log").await.len(), 17);
}

/// Runs `during` while a transaction on `pool` has run `insert` and not
/// ended (it holds its locks), then rolls it back.
async fn while_writing<DB: sqlx::Database>(
    pool: &sqlx::Pool<DB>,
    insert: String,
    during: impl FnOnce() -> tool::Run,
) -> tool::Run
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut writer = pool.begin().await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert))
        .execute(&mut *writer)
        .await
        .unwrap();
    let run = during();
    writer.rollback().await.unwrap();
    run
}
