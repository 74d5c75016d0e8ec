//! Running one table's repair: the statements wrapped in what each
//! database needs around them (a transaction and a lock timeout), as one
//! script that is printed and then run as printed, statement by statement
//! on one connection.
//!
//! - PostgreSQL: `BEGIN`, `SET LOCAL lock_timeout`, the statements,
//!   `COMMIT`: DDL is transactional, so the table ends repaired or as it
//!   was.
//! - MySQL/MariaDB: `SET SESSION lock_wait_timeout` and a UTC session time
//!   zone (a `TIMESTAMP` becomes a `DATETIME` holding UTC), then the
//!   statements. Each DDL statement commits on its own: the table's
//!   `ALTER TABLE` is applied whole or not at all, but it and the
//!   registration that follows are not one transaction. Run `schema
//!   apply` again after a failure: it repairs what is left.
//! - SQLite: `PRAGMA busy_timeout`, `BEGIN IMMEDIATE` (the write lock up
//!   front), the statements, `COMMIT`; a rebuild runs with foreign keys
//!   off, as SQLite's documentation says, so that dropping the old table
//!   deletes nothing that refers to it.

use std::time::Duration;

use awesome_audit_log::Dialect;
use sqlx::{AssertSqlSafe, Database, Executor, Pool};

use crate::connect::{Db, on_pool};
use crate::repair::Plan;

/// The script that runs `plan` on `dialect`: the statements, with what the
/// database needs around them.
pub(crate) fn script(dialect: Dialect, plan: &Plan, lock_timeout: Duration) -> Vec<String> {
    let millis = lock_timeout.as_millis();
    let (before, after): (Vec<String>, Vec<String>) = match dialect {
        Dialect::Postgres => (
            vec![
                "BEGIN".to_owned(),
                format!("SET LOCAL lock_timeout = '{millis}ms'"),
            ],
            vec!["COMMIT".to_owned()],
        ),
        Dialect::MySql => (
            vec![
                // Whole seconds, rounded up.
                format!(
                    "SET SESSION lock_wait_timeout = {}",
                    (lock_timeout.as_secs() + u64::from(lock_timeout.subsec_nanos() > 0)).max(1)
                ),
                "SET SESSION time_zone = '+00:00'".to_owned(),
            ],
            Vec::new(),
        ),
        Dialect::Sqlite => {
            let mut before = Vec::new();
            let mut after = vec!["COMMIT".to_owned()];
            if plan.rebuild {
                before.push("PRAGMA foreign_keys = OFF".to_owned());
                after.push("PRAGMA foreign_keys = ON".to_owned());
            }
            before.push(format!("PRAGMA busy_timeout = {millis}"));
            before.push("BEGIN IMMEDIATE".to_owned());
            (before, after)
        }
    };
    before
        .into_iter()
        .chain(plan.statements.iter().cloned())
        .chain(after)
        .collect()
}

/// Whether a table's statements are one transaction on `dialect`.
pub(crate) fn transactional(dialect: Dialect) -> bool {
    dialect != Dialect::MySql
}

/// A statement of a script that failed.
#[derive(Debug, thiserror::Error)]
#[error("{source}\n  in: {statement}")]
pub(crate) struct Failed {
    /// The statement, as printed.
    pub statement: String,
    /// What the database said.
    pub source: sqlx::Error,
}

/// Runs `script` on one connection of `db`. When a statement fails, what
/// the script began is undone (`ROLLBACK`; foreign keys turned on again
/// after a rebuild) and the failure returned.
pub(crate) async fn run(db: &Db, plan: &Plan, script: &[String]) -> Result<(), Failed> {
    let dialect = db.dialect();
    let mut recovery = Vec::new();
    if transactional(dialect) {
        recovery.push("ROLLBACK");
    }
    if dialect == Dialect::Sqlite && plan.rebuild {
        recovery.push("PRAGMA foreign_keys = ON");
    }
    on_pool!(db, |pool| run_on(pool, script, &recovery).await)
}

async fn run_on<DB: Database>(
    pool: &Pool<DB>,
    script: &[String],
    recovery: &[&str],
) -> Result<(), Failed>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut connection = pool.acquire().await.map_err(|source| Failed {
        statement: "(connecting)".to_owned(),
        source,
    })?;
    for statement in script {
        let result = sqlx::raw_sql(AssertSqlSafe(statement.clone()))
            .execute(&mut *connection)
            .await;
        if let Err(source) = result {
            let mut recovered = true;
            for undo in recovery {
                recovered &= sqlx::raw_sql(AssertSqlSafe(*undo))
                    .execute(&mut *connection)
                    .await
                    .is_ok();
            }
            if !recovered {
                // Not handed back to the pool in an unknown state.
                drop(connection.detach());
            }
            return Err(Failed {
                statement: statement.clone(),
                source,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rebuild: bool) -> Plan {
        Plan {
            statements: vec!["ALTER TABLE x".to_owned()],
            rebuild,
        }
    }

    #[test]
    fn each_database_gets_its_transaction_and_lock_timeout() {
        let timeout = Duration::from_millis(2500);
        assert_eq!(
            script(Dialect::Postgres, &plan(false), timeout),
            [
                "BEGIN",
                "SET LOCAL lock_timeout = '2500ms'",
                "ALTER TABLE x",
                "COMMIT"
            ]
        );
        assert_eq!(
            script(Dialect::MySql, &plan(false), timeout),
            [
                "SET SESSION lock_wait_timeout = 3",
                "SET SESSION time_zone = '+00:00'",
                "ALTER TABLE x"
            ]
        );
        assert_eq!(
            script(Dialect::MySql, &plan(false), Duration::from_millis(10))[0],
            "SET SESSION lock_wait_timeout = 1"
        );
        assert_eq!(
            script(Dialect::Sqlite, &plan(true), timeout),
            [
                "PRAGMA foreign_keys = OFF",
                "PRAGMA busy_timeout = 2500",
                "BEGIN IMMEDIATE",
                "ALTER TABLE x",
                "COMMIT",
                "PRAGMA foreign_keys = ON"
            ]
        );
        assert_eq!(script(Dialect::Sqlite, &plan(false), timeout).len(), 4);
    }
}
