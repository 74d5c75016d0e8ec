//! The audit scope: the task-local that holds the current context, the
//! functions that open a scope ([`scope`], [`capture`], [`bind`], [`spawn`])
//! and those that read or change the context inside one ([`current`],
//! [`update`], [`set_user`]).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::task::JoinHandle;

use super::{AuditContext, AuditUser, Scope};
use crate::AuditConfig;

/// The value of the task-local: the scope's current context behind a lock,
/// so code inside the scope can update it (see [`update`]); `None` for an
/// explicitly empty scope.
pub(super) type Cell = Option<Arc<Slot>>;

#[derive(Debug)]
pub(super) struct Slot(Mutex<Arc<AuditContext>>);

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
    pub(super) static CURRENT: Cell;
}

/// Runs `work` with `context` as the audit context of every change it logs.
/// The context is gone when `work` finishes, returns an error or panics.
/// A scope inside a scope replaces the outer context until it ends.
///
/// Every row logged in the scope has the same correlation id: the
/// context's own ([`AuditContext::with_correlation_id`]) if it has one,
/// else that of the scope this one is opened in, else a new UUID v7. So a
/// request, a command or a job and everything nested in it share one id,
/// and two units of work never do.
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
///
/// // Nested scopes share the outer scope's correlation id; the next unit
/// // of work gets its own.
/// let (outer, inner) = context::scope(AuditContext::shell("import"), async {
///     let inner = context::scope(AuditContext::job("recount", None), async {
///         context::current().unwrap().correlation_id.clone()
///     })
///     .await;
///     (context::current().unwrap().correlation_id.clone(), inner)
/// })
/// .await;
/// assert_eq!(outer, inner);
/// let next = context::scope(AuditContext::shell("import"), async {
///     context::current().unwrap().correlation_id.clone()
/// })
/// .await;
/// assert_ne!(next, outer);
/// # });
/// ```
pub fn scope<F: Future>(context: AuditContext, work: F) -> Scope<F> {
    Scope::scoped(Some(Slot::new(Arc::new(correlated(context)))), work)
}

/// `context` with a correlation id: its own, else the current scope's,
/// else a new one.
fn correlated(mut context: AuditContext) -> AuditContext {
    if context.correlation_id.is_none() {
        context.correlation_id = Some(
            current()
                .and_then(|outer| outer.correlation_id.clone())
                .unwrap_or_else(new_correlation_id),
        );
    }
    context
}

/// A new correlation id: a UUID v7 (36 characters), so that ids sort
/// roughly by the time their unit of work began.
fn new_correlation_id() -> String {
    uuid::Uuid::now_v7().to_string()
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

/// Runs the synchronous `call` inside a new scope of `context` (with its
/// correlation id as [`scope`] gives it), then keeps that same scope
/// (updates made by `call` included) for the future it returns. For
/// service wrappers, whose `call` may do work of its own.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn scope_call<F: Future>(context: AuditContext, call: impl FnOnce() -> F) -> Scope<F> {
    let cell = Some(Slot::new(Arc::new(correlated(context))));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::EntryPoint;

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

    /// One id per unit of work: set when the scope opens, kept by nested
    /// scopes, spawned and bound work, and by updates; the context's own
    /// id wins.
    #[test]
    fn correlation_ids_are_set_once_per_scope() {
        block_on(async {
            let ids = |n| async move {
                let mut ids = Vec::new();
                for _ in 0..n {
                    let id = scope(AuditContext::shell("s"), async { current().unwrap() })
                        .await
                        .correlation_id
                        .clone()
                        .unwrap();
                    ids.push(id);
                }
                ids
            };
            let ids = ids(3).await;
            for id in &ids {
                let uuid = uuid::Uuid::parse_str(id).unwrap();
                assert_eq!(uuid.get_version_num(), 7, "{id}");
            }
            assert!(ids[0] != ids[1] && ids[1] != ids[2], "{ids:?}");

            scope(AuditContext::new(EntryPoint::Http), async {
                let outer = current().unwrap().correlation_id.clone();
                assert!(outer.is_some());
                let nested = scope(AuditContext::job("j", None), async {
                    set_user(AuditUser::named("ada"));
                    current().unwrap().correlation_id.clone()
                })
                .await;
                assert_eq!(nested, outer);
                let spawned = spawn(async { current().unwrap().correlation_id.clone() })
                    .await
                    .unwrap();
                assert_eq!(spawned, outer);
                let own = scope(
                    AuditContext::shell("s").with_correlation_id("given"),
                    async { current().unwrap().correlation_id.clone() },
                )
                .await;
                assert_eq!(own.as_deref(), Some("given"));
                assert_eq!(current().unwrap().correlation_id, outer);
            })
            .await;

            let config = AuditConfig::default();
            let captured = capture(&config, AuditContext::command("c", "c"), async {
                current().unwrap().correlation_id.clone()
            })
            .await;
            assert!(captured.is_some());
            let call = scope_call(AuditContext::new(EntryPoint::Http), || {
                let during_call = current().unwrap().correlation_id.clone();
                async move { (during_call, current().unwrap().correlation_id.clone()) }
            });
            let (during_call, after) = call.await;
            assert!(during_call.is_some());
            assert_eq!(during_call, after);
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
}
