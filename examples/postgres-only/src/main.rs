//! A PostgreSQL-only axum service with an audited model, built the way the
//! README's Install section says. It serves `PATCH /items/{id}` (set the
//! quantity) and `GET /items/{id}/log`, and with `--once` it makes one
//! change through its own router, prints the log rows and exits.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo run -- --once
//! ```

use std::sync::Arc;

use awesome_audit_log::http::AuditLayer;
use awesome_audit_log::{AuditConfig, Auditor, audited};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use sqlx::PgPool;

/// The audited model: a row of the service's `stock_item` table.
#[audited(table = "stock_item", label = "shop.stockitem")]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StockItem {
    /// Primary key.
    pub id: i64,
    /// Quantity in stock.
    pub qty: i32,
}

#[derive(Clone)]
struct App {
    pool: PgPool,
    auditor: Auditor,
}

#[derive(serde::Deserialize)]
struct SetQty {
    qty: i32,
}

/// Sets an item's quantity and logs the change in the same transaction.
async fn set_qty(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    Json(body): Json<SetQty>,
) -> Result<Json<StockItem>, (StatusCode, String)> {
    let fail = |e: &dyn std::fmt::Display| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let mut tx = app
        .auditor
        .begin::<sqlx::Postgres>("default")
        .await
        .map_err(|e| fail(&e))?;
    let before: Option<(i32,)> =
        sqlx::query_as("SELECT qty FROM stock_item WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| fail(&e))?;
    let before = before.map(|(qty,)| StockItem { id, qty });
    let after = StockItem { id, qty: body.qty };
    sqlx::query(
        "INSERT INTO stock_item (id, qty) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET qty = $2",
    )
    .bind(id)
    .bind(body.qty)
    .execute(&mut *tx)
    .await
    .map_err(|e| fail(&e))?;
    let outcome = StockItem::log_change_in(&mut tx, before.as_ref(), Some(&after))
        .await
        .map_err(|e| fail(&e))?;
    tx.commit().await.map_err(|e| fail(&e))?;
    println!("logged: {outcome:?}");
    Ok(Json(after))
}

/// The item's audit log, oldest first.
async fn log(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<String>>, (StatusCode, String)> {
    let rows = StockItemLog::for_object(&app.auditor, &id)
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(
        rows.iter()
            .map(|row| {
                format!(
                    "{} {} changes={} method={} route={}",
                    row.action,
                    row.object_pk,
                    row.changes
                        .as_ref()
                        .map_or("null".into(), ToString::to_string),
                    row.method.as_deref().unwrap_or("-"),
                    row.route.as_deref().unwrap_or("-"),
                )
            })
            .collect(),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    let pool = PgPool::connect(&url).await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS stock_item (id BIGINT PRIMARY KEY, qty INT NOT NULL)")
        .execute(&pool)
        .await?;
    let config = AuditConfig::from_env()?;
    let auditor = Auditor::builder(config.clone())
        .database("default", pool.clone())
        .build()?;
    let app = Arc::new(App { pool, auditor });
    let router = Router::new()
        .route("/items/{id}", patch(set_qty))
        .route("/items/{id}/log", get(log))
        .layer(AuditLayer::new(&config))
        .with_state(Arc::clone(&app));

    if std::env::args().any(|arg| arg == "--once") {
        // One change through the router, as a client would make it.
        use tower::ServiceExt as _;
        let id = std::process::id() as i64;
        let request = axum::http::Request::patch(format!("/items/{id}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(r#"{"qty": 5}"#))?;
        let response = router.clone().oneshot(request).await?;
        if response.status() != StatusCode::OK {
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await?;
            return Err(format!(
                "PATCH /items/{id}: {status} {}",
                String::from_utf8_lossy(&body)
            )
            .into());
        }
        for row in StockItemLog::for_object(&app.auditor, &id).await? {
            println!(
                "{} {} changes={}",
                row.action,
                row.object_pk,
                row.changes.map_or("null".into(), |c| c.to_string())
            );
        }
        sqlx::query("DELETE FROM stock_item WHERE id = $1")
            .bind(id)
            .execute(&app.pool)
            .await?;
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, router).await?;
    Ok(())
}
