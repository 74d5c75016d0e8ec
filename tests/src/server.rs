//! A real axum server on 127.0.0.1 for the HTTP context tests, and the
//! application it serves.
//!
//! Every route logs changes of [`Widget`] through the [`AuditLayer`] under
//! test. Around it sit, from the outside in:
//! - `after_request`: catches a panicking handler (as a 500) and, when the
//!   request carries `x-after-id`, logs a [`Gizmo`] with that id *after*
//!   the audited request is over: that row must have no context;
//! - `outer_auth`: turns `x-ext-user-id` / `x-ext-user-name` into an
//!   [`AuditUser`] request extension, for the layer to read;
//! - the [`AuditLayer`];
//! - `inner_auth` (inside the layer): turns `x-inner-user-id` /
//!   `x-inner-user-name` into a [`context::set_user`] call.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use awesome_audit_log::context::{self, AuditUser};
use awesome_audit_log::http::AuditLayer;
use awesome_audit_log::{Auditor, Error, LogOutcome};
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::FutureExt;
use tokio::sync::Barrier;
use tokio::task::JoinHandle;

use crate::models::{Gizmo, Widget};

/// A server running the test application until dropped.
pub struct TestServer {
    /// Where it listens (127.0.0.1, a free port).
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TestServer {
    /// Serves `router` on a free port of 127.0.0.1, with the peer address
    /// in each request's `ConnectInfo`.
    pub async fn start(router: Router) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, service).await.expect("serve");
        });
        TestServer { addr, task }
    }

    /// The URL of `path_and_query` on this server.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The test application's shared state.
#[derive(Clone)]
pub struct AppState {
    /// Where the handlers log.
    pub auditor: Auditor,
    /// Holds `/concurrent` requests until this many are in flight at once.
    pub barrier: Arc<Barrier>,
}

/// The test application behind `layer`; `/concurrent/{id}` waits until
/// `concurrent` such requests are in flight.
pub fn app(auditor: Auditor, layer: AuditLayer, concurrent: usize) -> Router {
    let state = AppState {
        auditor,
        barrier: Arc::new(Barrier::new(concurrent.max(1))),
    };
    Router::new()
        .route("/widgets/{id}", post(create).patch(update))
        .route("/fail/{id}", post(fail))
        .route("/panic/{id}", post(panic))
        .route("/concurrent/{id}", post(concurrent_request))
        .layer(middleware::from_fn(inner_auth))
        .layer(layer)
        .layer(middleware::from_fn(outer_auth))
        .layer(middleware::from_fn_with_state(state.clone(), after_request))
        .with_state(state)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn user_from(headers: &HeaderMap, prefix: &str) -> Option<AuditUser> {
    let id = header(headers, &format!("x-{prefix}-user-id"))?
        .parse()
        .ok()?;
    let name = header(headers, &format!("x-{prefix}-user-name"))?;
    Some(AuditUser::new(id, name))
}

async fn after_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let after_id: Option<i64> =
        header(request.headers(), "x-after-id").and_then(|id| id.parse().ok());
    let response = match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "handler panicked").into_response(),
    };
    if let Some(id) = after_id {
        // Same task, right after the audited request: there must be no context.
        assert!(context::current().is_none(), "context left after request");
        let _ = Gizmo::log_change(&state.auditor, None, Some(&Gizmo { id, qty: 0 }))
            .await
            .expect("log after request");
    }
    response
}

async fn outer_auth(mut request: Request, next: Next) -> Response {
    if let Some(user) = user_from(request.headers(), "ext") {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

async fn inner_auth(request: Request, next: Next) -> Response {
    if let Some(user) = user_from(request.headers(), "inner") {
        assert!(context::set_user(user), "inner auth runs inside the scope");
    }
    next.run(request).await
}

fn widget(id: i64, qty: i32) -> Widget {
    Widget {
        id,
        name: format!("w{id}"),
        qty,
    }
}

async fn create(State(state): State<AppState>, Path(id): Path<i64>) -> StatusCode {
    let _ = Widget::log_change(&state.auditor, None, Some(&widget(id, 1)))
        .await
        .expect("log insert");
    StatusCode::CREATED
}

async fn update(State(state): State<AppState>, Path(id): Path<i64>) -> StatusCode {
    let _ = Widget::log_change(&state.auditor, Some(&widget(id, 1)), Some(&widget(id, 2)))
        .await
        .expect("log update");
    StatusCode::OK
}

async fn fail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<(), StatusCode> {
    let _ = Widget::log_change(&state.auditor, None, Some(&widget(id, 1)))
        .await
        .expect("log insert");
    Err(StatusCode::UNPROCESSABLE_ENTITY)
}

async fn panic(State(state): State<AppState>, Path(id): Path<i64>) -> StatusCode {
    let _ = Widget::log_change(&state.auditor, None, Some(&widget(id, 1)))
        .await
        .expect("log insert");
    panic!("handler failed on purpose");
}

/// A change that was written, or why not: a row dropped (the database
/// unavailable past its timeout) fails the request rather than going
/// missing unnoticed.
fn written(outcome: Result<LogOutcome, Error>) -> Result<(), String> {
    match outcome {
        Ok(LogOutcome::Written) => Ok(()),
        Ok(other) => Err(format!("log_change returned {other:?}")),
        Err(e) => Err(e.to_string()),
    }
}

/// Logs an insert, waits until every concurrent request has logged its
/// own, logs an update, has a task spawned with the context log the delete,
/// and a plainly spawned task log a [`Gizmo`] (which has no context).
async fn concurrent_request(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, String> {
    let auditor = &state.auditor;
    written(Widget::log_change(auditor, None, Some(&widget(id, 1))).await)?;
    tokio::time::timeout(Duration::from_secs(60), state.barrier.wait())
        .await
        .map_err(|_| "not every concurrent request arrived".to_owned())?;
    written(Widget::log_change(auditor, Some(&widget(id, 1)), Some(&widget(id, 2))).await)?;

    let child = auditor.clone();
    written(
        context::spawn(async move { Widget::log_change(&child, Some(&widget(id, 2)), None).await })
            .await
            .map_err(|e| e.to_string())?,
    )?;
    let plain = auditor.clone();
    written(
        tokio::spawn(
            async move { Gizmo::log_change(&plain, None, Some(&Gizmo { id, qty: 0 })).await },
        )
        .await
        .map_err(|e| e.to_string())?,
    )?;
    Ok(StatusCode::OK)
}
