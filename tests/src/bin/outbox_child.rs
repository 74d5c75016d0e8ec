//! A process that makes audited changes in a loop, with the outbox
//! transport, until it is killed: each change is its own transaction that
//! inserts a widget and logs it; every fourth one is rolled back. It prints
//! `committed N` / `rolled back N` after each transaction ends.
//!
//! Usage: `outbox_child DATABASE_URL`

use std::io::Write as _;

use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::{AuditConfig, AuditDatabase, AuditTransaction, Auditor, Database};
use awesome_audit_log_tests::models::Widget;

async fn change<DB: AuditDatabase>(
    auditor: &Auditor,
    id: i64,
) -> Result<bool, Box<dyn std::error::Error>>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
{
    let mut tx: AuditTransaction<'static, DB> = auditor.begin::<DB>("default").await?;
    let widget = Widget {
        id,
        name: "child".to_owned(),
        qty: 1,
    };
    // Test values only (an integer), never user input.
    let insert = format!("INSERT INTO widget (id, name, qty) VALUES ({id}, 'child', 1)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(insert))
        .execute(&mut *tx)
        .await?;
    let _ = Widget::log_change_in(&mut tx, None, Some(&widget)).await?;
    if id % 4 == 3 {
        tx.rollback().await?;
        Ok(false)
    } else {
        tx.commit().await?;
        Ok(true)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .ok_or("usage: outbox_child DATABASE_URL")?;
    let mut config = AuditConfig::default();
    config.async_ = true;
    config.async_transport = AsyncTransport::Outbox;
    let database = Database::connect(&url).await?;
    let dialect = database.dialect();
    let auditor = Auditor::builder(config)
        .database("default", database)
        .build()?;
    let mut stdout = std::io::stdout();
    for id in 1.. {
        let committed = match dialect {
            awesome_audit_log::Dialect::Sqlite => change::<sqlx::Sqlite>(&auditor, id).await?,
            awesome_audit_log::Dialect::Postgres => change::<sqlx::Postgres>(&auditor, id).await?,
            awesome_audit_log::Dialect::MySql => change::<sqlx::MySql>(&auditor, id).await?,
        };
        let word = if committed {
            "committed"
        } else {
            "rolled back"
        };
        writeln!(stdout, "{word} {id}")?;
        stdout.flush()?;
    }
    Ok(())
}
