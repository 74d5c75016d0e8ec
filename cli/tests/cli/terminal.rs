//! The tool on a terminal: run under a pseudo-terminal, as a person runs
//! it, its questions answered by typing, what it draws read back as the
//! terminal receives it (stdout and stderr both).

use std::process::Command;

use awesome_audit_log_codegen::ddl::create_table_statements;
use awesome_audit_log_tests::TestDb;
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};

use crate::retention::{OLD, insert_rows};
use crate::tables::original;
use crate::tool;

/// How long any expected output may take.
const TIMEOUT_MS: u64 = 30_000;

/// The tool with `args` on a new pseudo-terminal, `DATABASE_URL` set to
/// `url`.
fn spawn(url: &str, args: &[&str]) -> PtySession {
    spawn_program(
        Command::new(env!("CARGO_BIN_EXE_awesome-audit-log")),
        url,
        args,
    )
}

/// [`spawn`] of the application that embeds the tool (this test binary).
fn spawn_embedded(url: &str, args: &[&str]) -> PtySession {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.env(crate::embedded::VAR, "1");
    spawn_program(command, url, args)
}

fn spawn_program(mut command: Command, url: &str, args: &[&str]) -> PtySession {
    command
        .args(args)
        .env("DATABASE_URL", url)
        .env("TERM", "xterm-256color")
        .env_remove("AWESOME_AUDIT_LOG_PG_SCHEMA");
    spawn_command(command, Some(TIMEOUT_MS)).expect("spawn the tool on a terminal")
}

/// Types `answer` at the prompt `question`, then reads to the end: what
/// the terminal showed after the question, and the exit status.
fn answer(mut session: PtySession, question: &str, answer: &str) -> (String, i32) {
    session.exp_string(question).expect("the question");
    session.send_line(answer).expect("type the answer");
    let rest = session.exp_eof().expect("the tool ends");
    let code = match session.process().wait().expect("wait for the tool") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("the tool did not exit: {other:?}\n{rest}"),
    };
    (rest, code)
}

/// `prune` asks before deleting: `n` deletes nothing (exit 1), `y` deletes
/// the rows it counted, drawing a progress bar on the terminal while the
/// batches run. Without a terminal, no bar byte is written.
pub async fn prune_asks_and_draws_a_bar_on_a_terminal(db: TestDb) {
    let url = db.url.as_str();
    for statement in create_table_statements(db.kind.dialect(), None, "widget_log") {
        db.exec(&statement).await;
    }
    let old_rows = async |n| insert_rows(&db, "widget_log", "1", "update", "NULL", OLD, n).await;
    old_rows(60).await;
    let args = [
        "prune",
        "--older-than",
        "90d",
        "--batch-size",
        "10",
        "--pause",
        "150ms",
    ];

    let (said, code) = answer(
        spawn(url, &args),
        "Delete 60 row(s) from 1 table(s)? [y/N]",
        "n",
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("nothing was deleted"), "{said}");
    assert_eq!(db.count("widget_log").await, 60);

    let (said, code) = answer(
        spawn(url, &args),
        "Delete 60 row(s) from 1 table(s)? [y/N]",
        "y",
    );
    assert_eq!(code, 0, "{said}");
    // The bar: its prefix and frame, its count, and the escape sequences
    // that redraw it in place.
    assert!(said.contains("widget_log ["), "{said:?}");
    assert!(said.contains("/60 rows"), "{said:?}");
    assert!(said.contains("=>") || said.contains("=]"), "{said:?}");
    assert!(said.contains("\u{1b}["), "{said:?}");
    assert!(
        said.contains("widget_log: 60 row(s) deleted in 7 batch(es)"),
        "{said:?}"
    );
    assert_eq!(db.count("widget_log").await, 0);

    // Piped: the same run draws nothing.
    old_rows(30).await;
    let mut piped = args.to_vec();
    piped.push("--yes");
    let run = tool::run(Some(url), &piped).expect(0);
    run.says("widget_log: 30 row(s) deleted in 4 batch(es)");
    for output in [&run.stdout, &run.stderr] {
        assert!(!output.contains('\u{1b}'), "{output:?}");
        assert!(!output.contains(" rows, "), "{output:?}");
        assert!(!output.contains('\r'), "{output:?}");
    }
    assert_eq!(db.count("widget_log").await, 0);
}

/// `schema apply` asks before changing a table: `n` leaves it as it was
/// (exit 1), `y` repairs it.
pub async fn schema_apply_asks_on_a_terminal(db: TestDb) {
    let url = db.url.as_str();
    db.exec(&original(db.kind, "widget_log")).await;
    let columns = db.columns(None, "widget_log").await;
    let args = ["--table", "widget_log", "schema", "apply"];
    let question = "Apply these changes to 1 table(s)? [y/N]";

    let (said, code) = answer(spawn(url, &args), question, "n");
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("nothing was changed"), "{said}");
    assert_eq!(db.columns(None, "widget_log").await, columns);

    let (said, code) = answer(spawn(url, &args), question, "y");
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("widget_log: repaired"), "{said}");
    let now = db.columns(None, "widget_log").await;
    assert_eq!(now[15..], ["event_id", "correlation_id"]);
}

/// `triggers install` asks before installing: `n` installs nothing (exit
/// 1), `y` installs the triggers, and a plain SQL write is logged.
pub async fn triggers_install_asks_on_a_terminal(db: TestDb) {
    use awesome_audit_log_tests::suite::{
        create_gadget_table, gadget, insert_gadget_sql, write_gadget,
    };

    let url = db.url.as_str();
    db.exec(create_gadget_table(db.kind)).await;
    let args = ["triggers", "install"];
    let question = "Change the triggers of 1 table(s)? [y/N]";

    let (said, code) = answer(spawn_embedded(url, &args), question, "n");
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("nothing was changed"), "{said}");
    assert!(!db.table_exists(None, "gadget_log").await);

    let (said, code) = answer(spawn_embedded(url, &args), question, "y");
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("gadget: installed"), "{said}");
    write_gadget(&db, &insert_gadget_sql(db.kind), &gadget(1), true).await;
    assert_eq!(db.count("gadget_log").await, 1);
}
