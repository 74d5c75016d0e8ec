//! `--database ALIAS`: the database by its alias, as the Django original's
//! commands take it.

use awesome_audit_log_codegen::ddl::create_table_statements;
use awesome_audit_log_tests::TestDb;

use crate::tool;

/// Standalone, `default` is `DATABASE_URL` and `reports` is
/// `DATABASE_URL_REPORTS`; an alias without a URL is bad usage that lists
/// the known ones; a URL and an alias together are refused; a URL given
/// on the command line wins over `DATABASE_URL`.
pub async fn database_aliases_name_urls(db: TestDb) {
    let url = db.url.as_str();
    for statement in create_table_statements(db.kind.dialect(), None, "widget_log") {
        db.exec(&statement).await;
    }
    let reports = [("DATABASE_URL_REPORTS", url)];
    let listed = tool::run_env(
        None,
        &reports,
        &["--database", "reports", "--json", "tables"],
    )
    .expect(0);
    assert_eq!(listed.tables(), ["widget_log"]);
    let listed = tool::run(Some(url), &["--json", "tables", "--database", "default"]).expect(0);
    assert_eq!(listed.tables(), ["widget_log"]);

    let unknown = tool::run_env(
        Some("sqlite::memory:"),
        &reports,
        &["--database", "archive", "tables"],
    )
    .expect(2);
    unknown.complains("--database `archive`: no such database alias (known: default, reports)");
    let unknown = tool::run(None, &["--database", "reports", "tables"]).expect(2);
    unknown.complains("(known: none)");
    tool::run(None, &["tables"])
        .expect(2)
        .complains("no database URL");

    let both = tool::run(
        None,
        &["--database-url", url, "--database", "reports", "tables"],
    )
    .expect(2);
    both.complains("cannot be used with");
    let after = tool::run(
        None,
        &["--database-url", url, "tables", "--database", "reports"],
    )
    .expect(2);
    after.complains("cannot be used with");
    let option_wins = tool::run(
        Some("oracle://elsewhere/x"),
        &["--database-url", url, "--json", "tables"],
    )
    .expect(0);
    assert_eq!(option_wins.tables(), ["widget_log"]);
    tool::run(None, &["--help"])
        .expect(0)
        .says("DATABASE_URL_X");
}
