//! A crate whose `build.rs` exports its models' log tables as SQL files
//! (`migrations/<dialect>/`). This program applies the SQLite files to a
//! fresh database, then logs a change into the table they created.
//!
//! ```text
//! cargo run -p schema-export-example
//! ```

use awesome_audit_log::{AuditConfig, Auditor, audited};
use sqlx::{AssertSqlSafe, SqlitePool};

/// An audited model; `build.rs` finds it by reading this file.
#[audited(table = "invoice", label = "billing.invoice")]
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    /// Primary key.
    pub id: i64,
    /// Amount in cents.
    pub cents: i64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pool = SqlitePool::connect("sqlite::memory:").await?;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let mut files: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    files.sort_by_key(|entry| entry.file_name());
    for file in &files {
        println!("applying {}", file.file_name().to_string_lossy());
        sqlx::raw_sql(AssertSqlSafe(std::fs::read_to_string(file.path())?))
            .execute(&pool)
            .await?;
    }

    let auditor = Auditor::builder(AuditConfig::default())
        .database("default", pool)
        .build()?;
    let invoice = Invoice { id: 1, cents: 1200 };
    let _ = Invoice::log_change(&auditor, None, Some(&invoice)).await?;
    let rows = InvoiceLog::for_object(&auditor, &1).await?;
    println!(
        "{} row(s) in {}: {:?}",
        rows.len(),
        InvoiceLog::TABLE,
        rows[0].after
    );
    Ok(())
}
