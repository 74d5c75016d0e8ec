//! Reading the log back: a few changes of two models inside one HTTP-like
//! audit scope, then one object's filtered history, its state as of each
//! of its rows, a diff between its first and last versions, a deleted
//! object restored, and everything the scope did across both models.
//!
//! ```text
//! cargo run --example history
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run --example history
//! ```
//!
//! `DATABASE_URL` defaults to an SQLite file in the current directory.

use awesome_audit_log::context::{self, AuditContext, EntryPoint};
use awesome_audit_log::history::{AsOf, At, AuditLog};
use awesome_audit_log::{Action, AuditConfig, Auditor, Database, audited};
use serde::Deserialize;

#[path = "support/logging.rs"]
mod logging;

/// A product on a shelf.
#[audited(table = "history_widget", label = "shop.widget")]
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Widget {
    id: i64,
    name: String,
    qty: i32,
    /// Never logged in clear: a restore takes it from the current value.
    #[audit(redact)]
    supplier_code: String,
}

/// A shelf the widgets sit on.
#[audited(table = "history_shelf", label = "shop.shelf")]
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Shelf {
    id: i64,
    label: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init();
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://awesome_audit_log_history.db?mode=rwc".to_owned());
    let auditor = Auditor::builder(AuditConfig::default())
        .database("default", Database::connect(&url).await?)
        .build()?;

    // Fresh ids per run, so the output is this run's on a reused database.
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |elapsed| elapsed.as_millis() as i64);
    let v1 = Widget {
        id,
        name: "bolt".to_owned(),
        qty: 10,
        supplier_code: "S-1".to_owned(),
    };
    let v2 = Widget {
        qty: 7,
        ..v1.clone()
    };
    let v3 = Widget {
        name: "hex bolt".to_owned(),
        ..v2.clone()
    };
    let shelf = Shelf {
        id,
        label: "A1".to_owned(),
    };

    // One request: what an HTTP layer would set for `PATCH /widgets/{id}`.
    let request = AuditContext::new(EntryPoint::Http)
        .with_method("PATCH")
        .with_route("/widgets/{id}")
        .with_path(format!("/widgets/{id}"))
        .with_user(Some(7), Some("ada".to_owned()));
    context::scope(request, async {
        let _ = Widget::log_change(&auditor, None, Some(&v1)).await?;
        let _ = Shelf::log_change(&auditor, None, Some(&shelf)).await?;
        let _ = Widget::log_change(&auditor, Some(&v1), Some(&v2)).await?;
        let _ = Widget::log_change(&auditor, Some(&v2), Some(&v3)).await?;
        let _ = Widget::log_change(&auditor, Some(&v3), None).await?;
        Ok::<_, awesome_audit_log::Error>(())
    })
    .await?;

    let rows = Widget::history(&auditor, &id).all().await?;
    println!("Widget {id}: {} rows in {}\n", rows.len(), WidgetLog::TABLE);

    println!("Updates that changed qty, newest first:");
    let qty_updates = Widget::history(&auditor, &id)
        .action(Action::Update)
        .changed(WidgetField::Qty)
        .newest_first()
        .all()
        .await?;
    for row in &qty_updates {
        println!(
            "  row {}  {}  changes {}",
            row.id,
            row.action,
            show(&row.changes)
        );
    }

    println!("\nState as of each row:");
    for row in &rows {
        let state = match Widget::as_of(&auditor, &id, At::row(row.id)).await? {
            AsOf::NotCreated => "not created".to_owned(),
            AsOf::Existed { value, .. } => format!("{value:?}"),
            AsOf::Partial(partial) => {
                let missing: Vec<&str> = partial.unrestorable.iter().map(|f| f.field).collect();
                format!(
                    "{}  (partial: {} not in the log)",
                    show(&Some(partial.state().clone().into())),
                    missing.join(", ")
                )
            }
            AsOf::Deleted { row } => format!(
                "deleted at {} by {}",
                row.created_at.format("%H:%M:%S%.6f"),
                row.user_name.as_deref().unwrap_or("?")
            ),
        };
        println!("  after row {} ({}): {state}", row.id, row.action);
    }

    let (first, last_version) = (&rows[0], &rows[rows.len() - 2]);
    let diff = first.diff(last_version);
    println!(
        "\nFirst version to last version (rows {} to {}):",
        first.id, last_version.id
    );
    for change in &diff.changes {
        println!(
            "  {}: {} -> {}",
            change.key,
            show(&change.from),
            show(&change.to)
        );
    }
    println!(
        "  as JSON Patch: {}",
        serde_json::to_string(&diff.json_patch())?
    );

    // Bring the deleted widget back as it last was: it does not exist now
    // (`None`), and its redacted supplier code comes from what the
    // application still knows.
    let deleted = &rows[rows.len() - 1];
    let restored = match Widget::restore(&auditor, deleted, None).await {
        Ok(widget) => widget,
        Err(awesome_audit_log::Error::Unrestorable { fields, .. }) => {
            println!(
                "\nRestore needs a value for: {}",
                fields
                    .iter()
                    .map(|f| f.field)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            match Widget::as_of(&auditor, &id, At::row(last_version.id)).await? {
                AsOf::Partial(partial) => partial
                    .fill(Widget {
                        supplier_code: "S-1".to_owned(),
                        ..v3.clone()
                    })
                    .map_err(|_| "every field filled")?,
                other => return Err(format!("a partial state, not {other:?}").into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    println!("Restored: {restored:?}");
    let _ = Widget::log_change(&auditor, None, Some(&restored)).await?;

    let correlation_id = rows[0].correlation_id.clone();
    let everything = match &correlation_id {
        Some(correlation_id) => AuditLog::by_correlation(&auditor, correlation_id.clone()),
        None => AuditLog::by_user(&auditor, 7),
    }
    .model::<Widget>()
    .model::<Shelf>()
    .fetch()
    .await?;
    println!(
        "\nEverything request {} did, across models:",
        correlation_id.as_deref().unwrap_or("(no correlation id)")
    );
    for row in &everything {
        println!(
            "  {:<12} {:<7} object {} by {}",
            row.model.label(),
            row.record.action,
            row.record.object_pk,
            row.record.user_name.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}

fn show(value: &Option<serde_json::Value>) -> String {
    value
        .as_ref()
        .map_or_else(|| "(none)".to_owned(), ToString::to_string)
}
