//! Who and what caused a change: the audit context of one unit of work.
//!
//! The context lives in a tokio task-local for the duration of a [`scope`]
//! and is gone when the scope ends, whether the work succeeded, failed or
//! panicked. Changes logged outside any scope have NULL context columns.
//! Each log row takes a snapshot of the context at the moment it is logged.
//!
//! ```
//! use awesome_audit_log::context::{self, AuditContext, AuditUser, EntryPoint};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let ctx = AuditContext::new(EntryPoint::Shell).with_path("fix-prices");
//! let seen = context::scope(ctx, async {
//!     // Code inside the scope may fill in what it learns later, such as the user.
//!     context::set_user(AuditUser::new(7, "ada"));
//!     context::current().unwrap()
//! })
//! .await;
//! assert_eq!(seen.path.as_deref(), Some("fix-prices"));
//! assert_eq!(seen.user_name.as_deref(), Some("ada"));
//! assert!(context::current().is_none());
//! # });
//! ```
//!
//! # Entry points
//! The `entry_point` column holds the Django original's names, so services
//! written with either library agree:
//!
//! | [`EntryPoint`] | stored | filled by | route | path | method | user | user_agent |
//! |---|---|---|---|---|---|---|---|
//! | `Http` | `http` | `http::AuditLayer` (feature `http`) | route template (`/widgets/{id}`) | path with query | HTTP method | authenticated user | `User-Agent` |
//! | `ManagementCommand` | `management_command` | [`AuditContext::command`], `AuditContext::from_clap` | full command name | command name | `execute` | OS user (`$USER`) | non-default options, `k=v k=v` |
//! | `CeleryTask` | `celery_task` | [`AuditContext::job`] | full job name | short job name | `run` | OS user | `task=NAME module=MODULE` |
//! | `Shell` | `shell` | [`AuditContext::shell`] | | script name | | OS user | |
//!
//! [`capture`] opens a scope only when the configuration captures the
//! entry point (`CAPTURE_HTTP`, `CAPTURE_COMMANDS`, `CAPTURE_CELERY`).
//!
//! # Spawned work
//! A task started with `tokio::spawn` does not inherit task-locals, so its
//! changes would be logged without context. Start it with [`spawn`] (or wrap
//! its future in [`bind`]) to carry the context along.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::task::JoinHandle;
use tokio::task::futures::TaskLocalFuture;

use crate::AuditConfig;

/// The value of the task-local: the scope's current context behind a lock,
/// so code inside the scope can update it (see [`update`]); `None` for an
/// explicitly empty scope.
type Cell = Option<Arc<Slot>>;

#[derive(Debug)]
struct Slot(Mutex<Arc<AuditContext>>);

impl Slot {
    fn new(context: Arc<AuditContext>) -> Arc<Self> {
        Arc::new(Slot(Mutex::new(context)))
    }

    fn get(&self) -> Arc<AuditContext> {
        Arc::clone(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn set(&self, context: AuditContext) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Arc::new(context);
    }
}

tokio::task_local! {
    static CURRENT: Cell;
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
    ///
    /// ```
    /// use awesome_audit_log::context::EntryPoint;
    /// assert_eq!(EntryPoint::ManagementCommand.as_str(), "management_command");
    /// assert_eq!(EntryPoint::CeleryTask.as_str(), "celery_task");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryPoint::Http => "http",
            EntryPoint::ManagementCommand => "management_command",
            EntryPoint::CeleryTask => "celery_task",
            EntryPoint::Shell => "shell",
        }
    }
}

/// The acting user, as the application's authentication knows it: the
/// `user_id` and `user_name` columns.
///
/// Put one into a request's extensions (`request.extensions_mut().insert(..)`)
/// before the HTTP layer sees the request, or hand it to [`set_user`] from
/// code running inside the scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AuditUser {
    /// The user's numeric id (`user_id`), if the application has one.
    pub id: Option<i64>,
    /// The user's name (`user_name`).
    pub name: Option<String>,
}

impl AuditUser {
    /// A user with an id and a name.
    ///
    /// ```
    /// let user = awesome_audit_log::context::AuditUser::new(7, "ada");
    /// assert_eq!((user.id, user.name.as_deref()), (Some(7), Some("ada")));
    /// ```
    pub fn new(id: i64, name: impl Into<String>) -> Self {
        Self {
            id: Some(id),
            name: Some(name.into()),
        }
    }

    /// A user known only by name (an application whose ids are not numbers).
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: Some(name.into()),
        }
    }
}

impl std::str::FromStr for EntryPoint {
    type Err = String;

    /// Parses the text stored in the `entry_point` column.
    ///
    /// ```
    /// use awesome_audit_log::context::EntryPoint;
    ///
    /// assert_eq!("celery_task".parse(), Ok(EntryPoint::CeleryTask));
    /// assert!("cron".parse::<EntryPoint>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "http" => Ok(EntryPoint::Http),
            "management_command" => Ok(EntryPoint::ManagementCommand),
            "celery_task" => Ok(EntryPoint::CeleryTask),
            "shell" => Ok(EntryPoint::Shell),
            other => Err(format!("unknown entry point {other:?}")),
        }
    }
}

/// The context columns as a row (outbox) or a message (broker) stores them,
/// to rebuild the context of a delivered event.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct StoredContext {
    pub entry_point: String,
    pub route: Option<String>,
    pub path: Option<String>,
    pub method: Option<String>,
    pub ip: Option<String>,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub user_agent: Option<String>,
}

impl StoredContext {
    /// The context, or why the stored entry point is not one of ours.
    pub(crate) fn into_context(self) -> Result<Arc<AuditContext>, String> {
        let mut context = AuditContext::new(self.entry_point.parse()?);
        context.route = self.route;
        context.path = self.path;
        context.method = self.method;
        context.ip = self.ip;
        context.user_id = self.user_id;
        context.user_name = self.user_name;
        context.user_agent = self.user_agent;
        Ok(Arc::new(context))
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

    /// The context of a command-line command, as the original fills it:
    /// entry point `management_command`, path = `name`, route = `full_name`,
    /// method `execute`, user name = the OS user ([`os_user`]). Add the
    /// command's options with [`with_options`](Self::with_options), or build
    /// everything from clap with `AuditContext::from_clap` (feature `clap`).
    ///
    /// ```
    /// use awesome_audit_log::context::{AuditContext, EntryPoint};
    ///
    /// let ctx = AuditContext::command("recount", "shop recount")
    ///     .with_options([("dry_run", "true"), ("limit", "10")]);
    /// assert_eq!(ctx.entry_point, EntryPoint::ManagementCommand);
    /// assert_eq!(ctx.path.as_deref(), Some("recount"));
    /// assert_eq!(ctx.route.as_deref(), Some("shop recount"));
    /// assert_eq!(ctx.method.as_deref(), Some("execute"));
    /// assert_eq!(ctx.user_agent.as_deref(), Some("dry_run=true limit=10"));
    /// ```
    pub fn command(name: impl Into<String>, full_name: impl Into<String>) -> Self {
        let mut ctx = Self::new(EntryPoint::ManagementCommand)
            .with_path(name)
            .with_route(full_name)
            .with_method("execute");
        ctx.user_name = os_user();
        ctx
    }

    /// The context of a background job, as the original fills it for a
    /// Celery task: entry point `celery_task`, route = the full job name,
    /// path = its last segment (after the last `.` or `::`), method `run`,
    /// user name = the OS user, user agent = `task=NAME module=MODULE`
    /// (without ` module=` when `module` is `None`).
    ///
    /// ```
    /// use awesome_audit_log::context::AuditContext;
    ///
    /// let ctx = AuditContext::job("shop.jobs.recount", Some(module_path!()));
    /// assert_eq!(ctx.path.as_deref(), Some("recount"));
    /// assert_eq!(ctx.route.as_deref(), Some("shop.jobs.recount"));
    /// assert_eq!(ctx.method.as_deref(), Some("run"));
    /// assert_eq!(
    ///     ctx.user_agent.as_deref(),
    ///     Some(format!("task=shop.jobs.recount module={}", module_path!()).as_str())
    /// );
    /// ```
    pub fn job(name: &str, module: Option<&str>) -> Self {
        let short = name
            .rsplit(['.', ':'])
            .next()
            .filter(|short| !short.is_empty())
            .unwrap_or(name);
        let mut user_agent = format!("task={name}");
        if let Some(module) = module.filter(|m| !m.is_empty()) {
            let _ = write!(user_agent, " module={module}");
        }
        let mut ctx = Self::new(EntryPoint::CeleryTask)
            .with_path(short)
            .with_route(name)
            .with_method("run")
            .with_user_agent(user_agent);
        ctx.user_name = os_user();
        ctx
    }

    /// The context of an interactive shell or a one-off script: entry point
    /// `shell`, path = `name`, user name = the OS user.
    ///
    /// ```
    /// let ctx = awesome_audit_log::context::AuditContext::shell("fix-prices");
    /// assert_eq!(ctx.entry_point.as_str(), "shell");
    /// assert_eq!(ctx.path.as_deref(), Some("fix-prices"));
    /// ```
    pub fn shell(name: impl Into<String>) -> Self {
        let mut ctx = Self::new(EntryPoint::Shell).with_path(name);
        ctx.user_name = os_user();
        ctx
    }

    /// Sets the user agent to the options, formatted as the original does:
    /// `k=v k=v`, in the order given; `None` when there are none. A value
    /// that is empty or holds whitespace or `"` is written quoted (`k="a b"`)
    /// so the list stays readable.
    pub fn with_options<I, K, V>(mut self, options: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut text = String::new();
        for (key, value) in options {
            if !text.is_empty() {
                text.push(' ');
            }
            let value = value.as_ref();
            if value.is_empty() || value.contains(|c: char| c.is_whitespace() || c == '"') {
                let _ = write!(text, "{}={value:?}", key.as_ref());
            } else {
                let _ = write!(text, "{}={value}", key.as_ref());
            }
        }
        self.user_agent = (!text.is_empty()).then_some(text);
        self
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

/// The OS user running the process: `$USER`, else `$USERNAME` (as the
/// original reads it); `None` when neither is set.
pub fn os_user() -> Option<String> {
    ["USER", "USERNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|user| !user.is_empty())
}

pin_project! {
    /// A future running inside an audit scope; see [`scope`], [`capture`]
    /// and [`bind`]. The context is set while the future is polled (and
    /// while it is dropped), and not otherwise.
    #[must_use = "futures do nothing unless polled"]
    pub struct Scope<F> {
        #[pin]
        inner: ScopeInner<F>,
    }
}

pin_project! {
    #[project = ScopeProj]
    enum ScopeInner<F> {
        Scoped { #[pin] future: TaskLocalFuture<Cell, F> },
        Plain { #[pin] future: F },
    }
}

impl<F: Future> Scope<F> {
    fn scoped(cell: Cell, future: F) -> Self {
        Scope {
            inner: ScopeInner::Scoped {
                future: CURRENT.scope(cell, future),
            },
        }
    }

    pub(crate) fn plain(future: F) -> Self {
        Scope {
            inner: ScopeInner::Plain { future },
        }
    }
}

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.project() {
            ScopeProj::Scoped { future } => future.poll(cx),
            ScopeProj::Plain { future } => future.poll(cx),
        }
    }
}

impl<F> std::fmt::Debug for Scope<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scoped = matches!(self.inner, ScopeInner::Scoped { .. });
        f.debug_struct("Scope").field("scoped", &scoped).finish()
    }
}

/// Runs `work` with `context` as the audit context of every change it logs.
/// The context is gone when `work` finishes, returns an error or panics.
/// A scope inside a scope replaces the outer context until it ends.
///
/// ```
/// use awesome_audit_log::context::{self, AuditContext};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let failed: Result<(), &str> = context::scope(AuditContext::job("recount", None), async {
///     assert_eq!(context::current().unwrap().route.as_deref(), Some("recount"));
///     Err("boom")
/// })
/// .await;
/// assert!(failed.is_err());
/// assert!(context::current().is_none());
/// # });
/// ```
pub fn scope<F: Future>(context: AuditContext, work: F) -> Scope<F> {
    Scope::scoped(Some(Slot::new(Arc::new(context))), work)
}

/// Like [`scope`], but only when `config` captures `context`'s entry point:
/// `ENABLED` and `CAPTURE_HTTP` / `CAPTURE_COMMANDS` / `CAPTURE_CELERY`
/// (`shell` needs only `ENABLED`). Otherwise `work` runs as it is.
///
/// ```
/// use awesome_audit_log::AuditConfig;
/// use awesome_audit_log::context::{self, AuditContext};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut config = AuditConfig::default();
/// config.capture_commands = false;
/// let ctx = AuditContext::command("recount", "shop recount");
/// let seen = context::capture(&config, ctx, async { context::current() }).await;
/// assert!(seen.is_none());
/// # });
/// ```
pub fn capture<F: Future>(config: &AuditConfig, context: AuditContext, work: F) -> Scope<F> {
    if config.captures(context.entry_point) {
        scope(context, work)
    } else {
        Scope::plain(work)
    }
}

/// Runs the synchronous `call` inside a new scope of `context`, then keeps
/// that same scope (updates made by `call` included) for the future it
/// returns. For service wrappers, whose `call` may do work of its own.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn scope_call<F: Future>(context: AuditContext, call: impl FnOnce() -> F) -> Scope<F> {
    let cell = Some(Slot::new(Arc::new(context)));
    let future = CURRENT.sync_scope(cell.clone(), call);
    Scope::scoped(cell, future)
}

/// The audit context of the running task, if it is inside a [`scope`]:
/// a snapshot, unaffected by later updates.
pub fn current() -> Option<Arc<AuditContext>> {
    CURRENT
        .try_with(|cell| cell.as_ref().map(|slot| slot.get()))
        .ok()
        .flatten()
}

/// Changes the context of the current scope; rows logged later in the scope
/// carry the change, rows logged before keep what they had. Returns whether
/// there was a scope to change.
///
/// ```
/// use awesome_audit_log::context::{self, AuditContext, EntryPoint};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// context::scope(AuditContext::new(EntryPoint::Http), async {
///     let before = context::current().unwrap();
///     assert!(context::update(|ctx| ctx.route = Some("/widgets/{id}".into())));
///     assert_eq!(before.route, None);
///     assert_eq!(context::current().unwrap().route.as_deref(), Some("/widgets/{id}"));
/// })
/// .await;
/// assert!(!context::update(|ctx| ctx.route = None));
/// # });
/// ```
pub fn update(change: impl FnOnce(&mut AuditContext)) -> bool {
    CURRENT
        .try_with(|cell| {
            let Some(slot) = cell else { return false };
            // Copy out, change, store: `change` runs without the lock held,
            // so it may itself call `current()`.
            let mut context = AuditContext::clone(&slot.get());
            change(&mut context);
            slot.set(context);
            true
        })
        .unwrap_or(false)
}

/// Sets the acting user of the current scope (both `user_id` and
/// `user_name`), for authentication that runs inside the scope, such as an
/// auth middleware placed inside the HTTP layer or a handler that identifies
/// the user itself. Returns whether there was a scope.
///
/// ```
/// use awesome_audit_log::context::{self, AuditContext, AuditUser, EntryPoint};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// context::scope(AuditContext::new(EntryPoint::Http), async {
///     assert!(context::set_user(AuditUser::new(7, "ada")));
///     let ctx = context::current().unwrap();
///     assert_eq!((ctx.user_id, ctx.user_name.as_deref()), (Some(7), Some("ada")));
/// })
/// .await;
/// # });
/// ```
pub fn set_user(user: AuditUser) -> bool {
    update(|ctx| {
        ctx.user_id = user.id;
        ctx.user_name = user.name;
    })
}

/// Wraps `work` so that it runs with a copy of the current context wherever
/// it is polled (with no context when there is none now). Later changes on
/// either side are not seen by the other. For spawners other than
/// [`spawn`]: `JoinSet::spawn(context::bind(work))`, `tokio::spawn_local`, ….
pub fn bind<F: Future>(work: F) -> Scope<F> {
    let cell = current().map(Slot::new);
    Scope::scoped(cell, work)
}

/// `tokio::spawn` that carries the current audit context along: the spawned
/// task starts with a copy of the context as it is now (a plain
/// `tokio::spawn` starts with none). Must be called from a tokio runtime.
///
/// ```
/// use awesome_audit_log::context::{self, AuditContext};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// context::scope(AuditContext::job("shop.jobs.recount", None), async {
///     let carried = context::spawn(async { context::current() }).await.unwrap();
///     assert_eq!(carried.unwrap().path.as_deref(), Some("recount"));
///
///     let plain = tokio::spawn(async { context::current() }).await.unwrap();
///     assert!(plain.is_none());
/// })
/// .await;
/// # });
/// ```
pub fn spawn<F>(work: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(bind(work))
}

#[cfg(feature = "clap")]
mod clap_support {
    use clap::parser::ValueSource;
    use clap::{ArgMatches, Command};

    use super::AuditContext;

    impl AuditContext {
        /// The context of a clap command line: [`AuditContext::command`]
        /// with path = the name of the command that runs (the innermost
        /// subcommand), route = the full command name (the names from the
        /// program down to that subcommand, joined by spaces), user agent =
        /// [`clap_options`]. Pass the same `Command` that produced `matches`.
        ///
        /// ```
        /// use awesome_audit_log::context::AuditContext;
        /// use clap::{Arg, ArgAction, Command};
        ///
        /// let cli = Command::new("shop").subcommand(
        ///     Command::new("recount")
        ///         .arg(Arg::new("dry_run").long("dry-run").action(ArgAction::SetTrue))
        ///         .arg(Arg::new("limit").long("limit").default_value("100")),
        /// );
        /// let matches = cli.clone().try_get_matches_from(["shop", "recount", "--dry-run"]).unwrap();
        /// let ctx = AuditContext::from_clap(&cli, &matches);
        /// assert_eq!(ctx.path.as_deref(), Some("recount"));
        /// assert_eq!(ctx.route.as_deref(), Some("shop recount"));
        /// assert_eq!(ctx.user_agent.as_deref(), Some("dry_run=true")); // limit kept its default
        /// ```
        pub fn from_clap(command: &Command, matches: &ArgMatches) -> Self {
            let mut names = vec![command.get_name().to_owned()];
            let (mut level, mut level_matches) = (command, matches);
            while let Some((name, sub_matches)) = level_matches.subcommand() {
                let Some(sub) = level.find_subcommand(name) else {
                    break;
                };
                names.push(sub.get_name().to_owned());
                (level, level_matches) = (sub, sub_matches);
            }
            let name = names.last().cloned().unwrap_or_default();
            AuditContext::command(name, names.join(" "))
                .with_options(clap_options(command, matches))
        }
    }

    /// The options of a parsed command line that were not left at their
    /// defaults (given on the command line or taken from an environment
    /// variable, per clap's `ArgMatches::value_source`), as `(id, value)`
    /// pairs in the order the command declares them; several values are
    /// joined with `,`. Subcommands that ran add their own options after
    /// their parent's. Filter the list (secrets!) and pass it to
    /// [`AuditContext::with_options`] to choose what is recorded.
    ///
    /// ```
    /// use awesome_audit_log::context::{AuditContext, clap_options};
    /// use clap::{Arg, ArgAction, Command};
    ///
    /// let cli = Command::new("import")
    ///     .arg(Arg::new("file").required(true))
    ///     .arg(Arg::new("password").long("password"))
    ///     .arg(Arg::new("tag").long("tag").action(ArgAction::Append))
    ///     .arg(Arg::new("verbose").short('v').action(ArgAction::Count));
    /// let matches = cli
    ///     .clone()
    ///     .try_get_matches_from(["import", "a.csv", "--password", "pw", "--tag", "x", "--tag", "y", "-vv"])
    ///     .unwrap();
    /// let options: Vec<_> = clap_options(&cli, &matches)
    ///     .into_iter()
    ///     .filter(|(id, _)| id != "password")
    ///     .collect();
    /// let ctx = AuditContext::command("import", "import").with_options(options);
    /// assert_eq!(ctx.user_agent.as_deref(), Some("file=a.csv tag=x,y verbose=2"));
    /// ```
    pub fn clap_options(command: &Command, matches: &ArgMatches) -> Vec<(String, String)> {
        let mut options: Vec<(String, String)> = Vec::new();
        let (mut command, mut matches) = (command, matches);
        loop {
            options_of_level(command, matches, &mut options);
            let Some((name, sub_matches)) = matches.subcommand() else {
                break;
            };
            let Some(sub) = command.find_subcommand(name) else {
                break;
            };
            (command, matches) = (sub, sub_matches);
        }
        options
    }

    fn options_of_level(command: &Command, matches: &ArgMatches, out: &mut Vec<(String, String)>) {
        // Only ids present in `matches` are queried: asking for any other id
        // panics in debug builds of clap.
        let present: Vec<&str> = matches.ids().map(|id| id.as_str()).collect();
        for arg in command.get_arguments() {
            let id = arg.get_id().as_str();
            if !present.contains(&id) || out.iter().any(|(seen, _)| seen == id) {
                continue;
            }
            match matches.value_source(id) {
                Some(ValueSource::DefaultValue) | None => continue,
                Some(_) => {}
            }
            out.push((id.to_owned(), value_text(matches, id)));
        }
    }

    fn value_text(matches: &ArgMatches, id: &str) -> String {
        let raw: Vec<String> = match matches.try_get_raw(id) {
            Ok(Some(raw)) => raw
                .map(|value| value.to_string_lossy().into_owned())
                .collect(),
            _ => Vec::new(),
        };
        if raw.is_empty() {
            // A counted flag (`-vv`) keeps its count as a typed value only.
            if let Ok(Some(count)) = matches.try_get_one::<u8>(id) {
                return count.to_string();
            }
        }
        raw.join(",")
    }
}

#[cfg(feature = "clap")]
pub use clap_support::clap_options;

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn gone_after_a_panic() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(scope(AuditContext::shell("x"), async {
                assert!(current().is_some());
                panic!("handler failed");
            }))
        }));
        assert!(panicked.is_err());
        runtime.block_on(async { assert!(current().is_none()) });
    }

    #[test]
    fn rows_snapshot_while_updates_apply_later() {
        block_on(scope(AuditContext::new(EntryPoint::Http), async {
            let first = current().unwrap();
            assert!(set_user(AuditUser::new(1, "a")));
            let second = current().unwrap();
            assert_eq!(first.user_id, None);
            assert_eq!(second.user_id, Some(1));
            // An update inside the change closure may read the context.
            assert!(update(
                |ctx| ctx.path = current().and_then(|c| c.user_name.clone())
            ));
            assert_eq!(current().unwrap().path.as_deref(), Some("a"));
        }));
        assert!(!set_user(AuditUser::named("nobody")));
    }

    #[test]
    fn nested_scopes_restore_the_outer_one() {
        block_on(scope(AuditContext::shell("outer"), async {
            scope(AuditContext::shell("inner"), async {
                assert_eq!(current().unwrap().path.as_deref(), Some("inner"));
            })
            .await;
            assert_eq!(current().unwrap().path.as_deref(), Some("outer"));
        }));
    }

    #[test]
    fn bound_work_keeps_a_copy_and_empty_binds_stay_empty() {
        block_on(async {
            let unbound = bind(async { current() });
            let seen = scope(AuditContext::shell("later"), unbound).await;
            assert!(seen.is_none(), "bound with no context: sees none");

            scope(AuditContext::shell("parent"), async {
                let child = bind(async {
                    set_user(AuditUser::named("child"));
                    current()
                });
                set_user(AuditUser::named("parent"));
                let child = child.await.unwrap();
                assert_eq!(child.path.as_deref(), Some("parent"));
                assert_eq!(child.user_name.as_deref(), Some("child"));
                assert_eq!(current().unwrap().user_name.as_deref(), Some("parent"));
            })
            .await;
        });
    }

    #[test]
    fn capture_follows_the_configuration() {
        let mut config = AuditConfig::default();
        let run = |config: &AuditConfig, ctx: AuditContext| {
            block_on(capture(config, ctx, async { current().is_some() }))
        };
        assert!(run(&config, AuditContext::job("j", None)));
        config.capture_celery = false;
        assert!(!run(&config, AuditContext::job("j", None)));
        assert!(run(&config, AuditContext::command("c", "c")));
        config.capture_commands = false;
        assert!(!run(&config, AuditContext::command("c", "c")));
        assert!(run(&config, AuditContext::shell("s")));
        config.enabled = false;
        assert!(!run(&config, AuditContext::shell("s")));
    }

    #[test]
    fn job_names() {
        let ctx = AuditContext::job("shop::jobs::recount", None);
        assert_eq!(ctx.path.as_deref(), Some("recount"));
        assert_eq!(ctx.user_agent.as_deref(), Some("task=shop::jobs::recount"));
        let ctx = AuditContext::job("recount", Some("shop.tasks"));
        assert_eq!(ctx.path.as_deref(), Some("recount"));
        assert_eq!(
            ctx.user_agent.as_deref(),
            Some("task=recount module=shop.tasks")
        );
        assert_eq!(ctx.entry_point.as_str(), "celery_task");
    }

    #[test]
    fn options_are_quoted_only_when_needed() {
        let ctx = AuditContext::command("c", "c").with_options([
            ("a", "1"),
            ("b", "two words"),
            ("c", ""),
            ("d", "x=y"),
        ]);
        assert_eq!(
            ctx.user_agent.as_deref(),
            Some(r#"a=1 b="two words" c="" d=x=y"#)
        );
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            AuditContext::command("c", "c")
                .with_options(none)
                .user_agent,
            None
        );
    }

    #[cfg(feature = "clap")]
    #[test]
    fn clap_options_skip_defaults_and_groups() {
        use clap::{Arg, ArgAction, ArgGroup, Command};
        let cli = Command::new("shop")
            .arg(
                Arg::new("verbose")
                    .short('v')
                    .action(ArgAction::Count)
                    .global(true),
            )
            .arg(Arg::new("quiet").long("quiet").action(ArgAction::SetTrue))
            .group(ArgGroup::new("noise").args(["verbose", "quiet"]))
            .subcommand(
                Command::new("recount")
                    .arg(Arg::new("shop").required(true))
                    .arg(Arg::new("limit").long("limit").default_value("100"))
                    .arg(
                        Arg::new("dry_run")
                            .long("dry-run")
                            .action(ArgAction::SetTrue),
                    )
                    .arg(Arg::new("note").long("note"))
                    .arg(
                        Arg::new("port")
                            .long("port")
                            .action(ArgAction::Append)
                            .value_parser(clap::value_parser!(u8)),
                    ),
            );
        let matches = cli
            .clone()
            .try_get_matches_from([
                "shop", "-v", "recount", "main", "--note", "a b", "--port", "7", "--port", "8",
            ])
            .unwrap();
        let ctx = AuditContext::from_clap(&cli, &matches);
        assert_eq!(ctx.path.as_deref(), Some("recount"));
        assert_eq!(ctx.route.as_deref(), Some("shop recount"));
        assert_eq!(ctx.method.as_deref(), Some("execute"));
        assert_eq!(
            ctx.user_agent.as_deref(),
            Some(r#"verbose=1 shop=main note="a b" port=7,8"#)
        );

        let matches = cli.clone().try_get_matches_from(["shop"]).unwrap();
        let ctx = AuditContext::from_clap(&cli, &matches);
        assert_eq!(ctx.path.as_deref(), Some("shop"));
        assert_eq!(ctx.user_agent, None);
    }
}
