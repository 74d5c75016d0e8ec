//! An axum service whose changes land in `widget_log` together with who made
//! them: path, route template, method, client IP, user and user agent.
//!
//! ```text
//! cargo run --example axum_app
//!
//! curl -i -X POST localhost:3000/widgets -H 'content-type: application/json' \
//!      -H 'x-user-id: 7' -H 'x-user-name: ada' -d '{"name": "B", "qty": 2}'
//! curl -i -X PATCH 'localhost:3000/widgets/1?reason=recount' -H 'content-type: application/json' \
//!      -H 'x-user-id: 7' -H 'x-user-name: ada' -d '{"qty": 5}'
//! curl -i -X DELETE localhost:3000/widgets/1
//! curl localhost:3000/widgets/1/log        # the widget's rows of widget_log, as JSON
//! ```
//!
//! Environment (all optional):
//! - `AUDIT_EXAMPLE_ADDR`: where to listen (default `127.0.0.1:3000`);
//! - `DATABASE_URL`: the database of the `widget` table and its log (default
//!   an SQLite file in the current directory; `postgres://…` and `mysql://…`
//!   work too);
//! - `AWESOME_AUDIT_LOG_TRUSTED_PROXIES`: comma-separated addresses or CIDR
//!   networks of reverse proxies whose `X-Forwarded-For` is believed (try
//!   `127.0.0.1` and send `-H 'x-forwarded-for: 203.0.113.9'`); every other
//!   `AWESOME_AUDIT_LOG_*` setting is honoured as well.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use awesome_audit_log::context::AuditUser;
use awesome_audit_log::http::AuditLayer;
use awesome_audit_log::{AuditConfig, Auditor};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use widget_store::{AppDb, Widget, WidgetLog};

#[path = "support/logging.rs"]
mod logging;
#[path = "support/widget_store.rs"]
mod widget_store;

impl Widget {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "qty": self.qty})
    }
}

struct AppState {
    db: AppDb,
    auditor: Auditor,
    next_id: AtomicI64,
}

type Shared = State<Arc<AppState>>;

/// What a handler can fail with.
enum AppError {
    NotFound,
    Internal(String),
}

impl<E: std::error::Error> From<E> for AppError {
    fn from(error: E) -> Self {
        AppError::Internal(error.to_string())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => (StatusCode::NOT_FOUND, "no such widget\n").into_response(),
            AppError::Internal(message) => {
                eprintln!("error: {message}");
                (StatusCode::INTERNAL_SERVER_ERROR, format!("{message}\n")).into_response()
            }
        }
    }
}

#[derive(Deserialize)]
struct NewWidget {
    name: String,
    qty: i32,
}

#[derive(Deserialize)]
struct QtyChange {
    qty: i32,
}

/// `POST /widgets {"name": .., "qty": ..}`: creates a widget.
async fn create(
    State(app): Shared,
    Json(new): Json<NewWidget>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let widget = Widget {
        id: app.next_id.fetch_add(1, Ordering::Relaxed),
        name: new.name,
        qty: new.qty,
    };
    app.db.insert(&widget).await?;
    // The row carries this request's context: path, route, method, IP, user, agent.
    let _ = Widget::log_change(&app.auditor, None, Some(&widget)).await?;
    Ok((StatusCode::CREATED, Json(widget.to_json())))
}

/// `PATCH /widgets/{id} {"qty": ..}`: changes a widget's quantity.
async fn update(
    State(app): Shared,
    Path(id): Path<i64>,
    Json(change): Json<QtyChange>,
) -> Result<Json<Value>, AppError> {
    let old = app.db.get(id).await?.ok_or(AppError::NotFound)?;
    let new = Widget {
        qty: change.qty,
        ..old.clone()
    };
    app.db.update_qty(&new).await?;
    let _ = Widget::log_change(&app.auditor, Some(&old), Some(&new)).await?;
    Ok(Json(new.to_json()))
}

/// `DELETE /widgets/{id}`: deletes a widget.
async fn remove(State(app): Shared, Path(id): Path<i64>) -> Result<StatusCode, AppError> {
    let old = app.db.get(id).await?.ok_or(AppError::NotFound)?;
    app.db.delete(id).await?;
    let _ = Widget::log_change(&app.auditor, Some(&old), None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /widgets/{id}/log`: the widget's history, every column of
/// `widget_log` (the generated row type is `Serialize`).
async fn history(
    State(app): Shared,
    Path(id): Path<i64>,
) -> Result<Json<Vec<WidgetLog>>, AppError> {
    Ok(Json(WidgetLog::for_object(&app.auditor, &id).await?))
}

/// TOY AUTHENTICATION, FOR THIS EXAMPLE ONLY: it believes whatever the
/// `x-user-id` and `x-user-name` headers claim. A real service verifies a
/// cookie or a token here. Whatever it decides, it tells the audit layer by
/// putting an [`AuditUser`] into the request's extensions.
async fn toy_auth(mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let user = AuditUser {
        id: header("x-user-id").and_then(|id| id.parse().ok()),
        name: header("x-user-name"),
    };
    if user != AuditUser::default() {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    logging::init();
    let addr: SocketAddr = std::env::var("AUDIT_EXAMPLE_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3000".to_owned())
        .parse()?;
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://awesome_audit_log_axum_app.db".to_owned());
    let db = AppDb::connect(&url).await?;
    db.create_table().await?;

    // The original's settings from AWESOME_AUDIT_LOG_* variables, among them
    // TRUSTED_PROXIES and CAPTURE_HTTP.
    let config = AuditConfig::from_env()?;
    let auditor = Auditor::builder(config)
        .database("default", db.audit_database())
        .build()?;
    let audit_layer = AuditLayer::new(auditor.config());

    let next_id = AtomicI64::new(db.max_id().await? + 1);
    let state = Arc::new(AppState {
        db,
        auditor,
        next_id,
    });
    let app = Router::new()
        .route("/widgets", post(create))
        .route("/widgets/{id}", patch(update).delete(remove))
        .route("/widgets/{id}/log", get(history))
        // Opens the audit scope of each request. With `Router::layer` it
        // runs after routing, so it sees the route template.
        .layer(audit_layer)
        // Added after, so it wraps the audit layer and runs before it: the
        // user it finds is in the request when the audit layer looks.
        .layer(middleware::from_fn(toy_auth))
        .with_state(state);

    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr} (database: {url})");
    println!(
        "try: curl -i -X POST http://{addr}/widgets -H 'content-type: application/json' \
         -H 'x-user-id: 7' -H 'x-user-name: ada' -d '{{\"name\": \"B\", \"qty\": 2}}'"
    );
    // `ConnectInfo<SocketAddr>` gives the layer the peer address (the client IP).
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
