//! The quickstart: a `Widget` is inserted, updated and deleted in a real
//! `widget` table, each change logged with `log_change`, then the rows of
//! `widget_log` are printed.
//!
//! ```text
//! cargo run --example quickstart
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --example quickstart
//! AWESOME_AUDIT_LOG_PG_SCHEMA=audit DATABASE_URL=... cargo run --example quickstart
//! ```
//!
//! `DATABASE_URL` defaults to an SQLite file in the current directory;
//! every `AWESOME_AUDIT_LOG_*` variable is honoured.

use awesome_audit_log::config::AsyncTransport;
use awesome_audit_log::context::{self, AuditContext, EntryPoint};
use awesome_audit_log::{AuditConfig, Auditor};
use widget_store::{AppDb, Widget, WidgetLog};

#[path = "support/logging.rs"]
mod logging;
#[path = "support/widget_store.rs"]
mod widget_store;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init();
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://awesome_audit_log_quickstart.db".to_owned());
    let db = AppDb::connect(&url).await?;
    db.create_table().await?;

    // The original's settings, from AWESOME_AUDIT_LOG_* variables (all optional).
    let config = AuditConfig::from_env()?;
    let auditor = Auditor::builder(config)
        .database("default", db.audit_database())
        .build()?;

    // Who caused the changes: this command.
    let ctx = AuditContext::new(EntryPoint::ManagementCommand)
        .with_path("quickstart")
        .with_route("awesome_audit_log_examples::quickstart")
        .with_method("execute")
        .with_user(None, std::env::var("USER").ok());

    // A fresh id per run (milliseconds since 1970), so the printed history
    // is this run's even when the quickstart runs again on the same database.
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_millis() as i64);
    context::scope(ctx, async {
        let created = Widget {
            id,
            name: "B".to_owned(),
            qty: 2,
        };
        db.insert(&created).await?;
        // The outcome says whether the row was written, queued, or skipped
        // (the audit database is down; warned on stderr).
        let _ = Widget::log_change(&auditor, None, Some(&created)).await?;

        let updated = Widget {
            qty: 5,
            ..created.clone()
        };
        db.update_qty(&updated).await?;
        let _ = Widget::log_change(&auditor, Some(&created), Some(&updated)).await?;

        db.delete(updated.id).await?;
        let _ = Widget::log_change(&auditor, Some(&updated), None).await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })
    .await?;

    // With AWESOME_AUDIT_LOG_ASYNC=true the rows were queued: wait for the
    // background writer, or, with the outbox transport, move the outbox rows
    // into the log table as a worker process would.
    auditor.shutdown().await;
    if auditor.config().async_ && auditor.config().async_transport == AsyncTransport::Outbox {
        auditor.outbox_worker("default")?.drain().await?;
    }

    let rows = WidgetLog::for_object(&auditor, &id).await?;
    println!(
        "{} rows in {} for widget {id} ({url}):\n",
        rows.len(),
        WidgetLog::TABLE
    );
    print_rows(&rows);
    Ok(())
}

fn print_rows(rows: &[WidgetLog]) {
    let json = |value: &Option<serde_json::Value>| {
        value
            .as_ref()
            .map_or_else(|| "NULL".to_owned(), |v| v.to_string())
    };
    let text = |value: &Option<String>| value.clone().unwrap_or_else(|| "NULL".to_owned());
    let table: Vec<[String; 8]> = rows
        .iter()
        .map(|row| {
            [
                row.id.to_string(),
                row.action.to_string(),
                row.object_pk.clone(),
                json(&row.before),
                json(&row.after),
                json(&row.changes),
                format!("{} {}", text(&row.entry_point), text(&row.path)),
                row.created_at
                    .format("%Y-%m-%d %H:%M:%S%.6f UTC")
                    .to_string(),
            ]
        })
        .collect();
    let header = [
        "id",
        "action",
        "object_pk",
        "before",
        "after",
        "changes",
        "entry_point path",
        "created_at",
    ];
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            table
                .iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!("{}", line(&header.map(str::to_owned)));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-+-")
    );
    for row in &table {
        println!("{}", line(row));
    }
}
