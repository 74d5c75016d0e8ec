//! [`AuditContext`]: the context columns of a log row, and the
//! constructors that fill them the way each entry point records them.

use std::fmt::Write as _;

use super::{EntryPoint, os_user};

/// The context columns of a log row.
///
/// Serialises with the column names as keys and the entry point as its
/// stored text:
///
/// ```
/// use awesome_audit_log::context::{AuditContext, EntryPoint};
///
/// let ctx = AuditContext::new(EntryPoint::Http)
///     .with_route("/widgets/{id}")
///     .with_ip("203.0.113.9");
/// let json = serde_json::to_value(&ctx).unwrap();
/// assert_eq!(json["entry_point"], "http");
/// assert_eq!(json["route"], "/widgets/{id}");
/// assert_eq!(json["user_id"], serde_json::Value::Null);
/// assert_eq!(serde_json::from_value::<AuditContext>(json).unwrap(), ctx);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The id shared by every row of this unit of work. `None` until the
    /// context opens a scope: [`scope`](super::scope()) then takes the
    /// enclosing scope's id, or a new UUID v7; the HTTP layer takes a
    /// trusted proxy's `X-Request-Id`. Missing from serialised contexts of
    /// earlier versions, which read as `None`.
    #[serde(default)]
    pub correlation_id: Option<String>,
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
            correlation_id: None,
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

    /// Sets the correlation id, for work that continues a unit of work
    /// begun elsewhere (a job enqueued by a request, say), so that its rows
    /// share that id. A scope opened with a context that has none takes
    /// the enclosing scope's, or a new one. Like every context value, it
    /// is cut to fit its column (64 characters on PostgreSQL and MySQL).
    ///
    /// ```
    /// use awesome_audit_log::context::{self, AuditContext};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let ctx = AuditContext::job("shop.jobs.recount", None).with_correlation_id("req-7f3a");
    /// let seen = context::scope(ctx, async { context::current().unwrap() }).await;
    /// assert_eq!(seen.correlation_id.as_deref(), Some("req-7f3a"));
    /// # });
    /// ```
    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.correlation_id = Some(correlation_id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn serialises_as_the_context_columns() {
        let ctx = AuditContext::new(EntryPoint::ManagementCommand)
            .with_route("shop recount")
            .with_path("recount")
            .with_method("execute")
            .with_ip("192.0.2.1")
            .with_user(Some(7), Some("ada".to_owned()))
            .with_user_agent("dry_run=true")
            .with_correlation_id("0190f5b2-6a1c-7c3e-8f00-000000000001");
        let json = serde_json::to_string(&ctx).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: std::collections::BTreeSet<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let columns = [
            "entry_point",
            "route",
            "path",
            "method",
            "ip",
            "user_id",
            "user_name",
            "user_agent",
            "correlation_id",
        ];
        assert_eq!(keys, columns.into_iter().collect());
        assert_eq!(value["entry_point"], "management_command");
        assert_eq!(value["user_id"], 7);
        assert_eq!(value["user_name"], "ada");
        assert_eq!(serde_json::from_str::<AuditContext>(&json).unwrap(), ctx);

        // A context serialised by an earlier version has no correlation id.
        let mut earlier = value.clone();
        earlier.as_object_mut().unwrap().remove("correlation_id");
        let read: AuditContext = serde_json::from_value(earlier).unwrap();
        assert_eq!(read.correlation_id, None);
        assert_eq!(read.user_agent, ctx.user_agent);

        let unknown = json.replace("management_command", "cron");
        let err = serde_json::from_str::<AuditContext>(&unknown).unwrap_err();
        assert!(err.to_string().contains("cron"), "{err}");
    }
}
