//! Who and what caused a change: the audit context of one unit of work.
//!
//! The context lives in a tokio task-local for the duration of a scope and
//! is gone when the scope ends, whether the work succeeded, failed or
//! panicked. Changes logged outside any scope have NULL context columns.
//!
//! ```
//! use awesome_audit_log::context::{self, AuditContext, EntryPoint};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let ctx = AuditContext::new(EntryPoint::Shell).with_path("fix-prices");
//! let seen = context::scope(ctx, async { context::current().and_then(|c| c.path.clone()) }).await;
//! assert_eq!(seen.as_deref(), Some("fix-prices"));
//! assert!(context::current().is_none());
//! # });
//! ```

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static CURRENT: Arc<AuditContext>;
}

/// Where a unit of work entered the application. The stored strings are the
/// Django original's, so services written with either library agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryPoint {
    /// An HTTP request (`http`).
    Http,
    /// A command-line command (`management_command`).
    ManagementCommand,
    /// A background job (`celery_task`).
    CeleryTask,
    /// An interactive or one-off script (`shell`).
    Shell,
}

impl EntryPoint {
    /// The text stored in the `entry_point` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryPoint::Http => "http",
            EntryPoint::ManagementCommand => "management_command",
            EntryPoint::CeleryTask => "celery_task",
            EntryPoint::Shell => "shell",
        }
    }
}

/// The context columns of a log row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// Where the work entered.
    pub entry_point: EntryPoint,
    /// Route template, or full command / job name.
    pub route: Option<String>,
    /// Request path with query, or short command / job name.
    pub path: Option<String>,
    /// HTTP method, or `execute` / `run`.
    pub method: Option<String>,
    /// Client IP address.
    pub ip: Option<String>,
    /// Acting user's id.
    pub user_id: Option<i64>,
    /// Acting user's name.
    pub user_name: Option<String>,
    /// User agent, or command options.
    pub user_agent: Option<String>,
}

impl AuditContext {
    /// An empty context for `entry_point`.
    pub fn new(entry_point: EntryPoint) -> Self {
        Self {
            entry_point,
            route: None,
            path: None,
            method: None,
            ip: None,
            user_id: None,
            user_name: None,
            user_agent: None,
        }
    }

    /// Sets the route.
    pub fn with_route(mut self, route: impl Into<String>) -> Self {
        self.route = Some(route.into());
        self
    }

    /// Sets the path.
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Sets the method.
    pub fn with_method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Sets the client IP.
    pub fn with_ip(mut self, ip: impl Into<String>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Sets the acting user.
    pub fn with_user(mut self, id: Option<i64>, name: Option<String>) -> Self {
        self.user_id = id;
        self.user_name = name;
        self
    }

    /// Sets the user agent.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }
}

/// Runs `work` with `context` as the audit context of every change it logs.
pub async fn scope<F: Future>(context: AuditContext, work: F) -> F::Output {
    CURRENT.scope(Arc::new(context), work).await
}

/// The audit context of the running task, if it is inside a [`scope`].
pub fn current() -> Option<Arc<AuditContext>> {
    CURRENT.try_with(Arc::clone).ok()
}
