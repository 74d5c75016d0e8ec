//! Who and what caused a change: the audit context of one unit of work.
//!
//! The context lives in a tokio task-local for the duration of a
//! [`scope`](fn@scope) and is gone when the scope ends, whether the work
//! succeeded, failed or panicked. Changes logged outside any scope have NULL
//! context columns. Each log row takes a snapshot of the context at the
//! moment it is logged.
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
//! # Correlation id
//! Every row logged in one scope has the same `correlation_id`: the
//! context's own, else the enclosing scope's, else a new UUID v7 taken
//! when the scope opens (see [`scope`](fn@scope)); the HTTP layer uses a
//! trusted proxy's `X-Request-Id`. Rows logged outside any scope have
//! none.
//!
//! # Spawned work
//! A task started with `tokio::spawn` does not inherit task-locals, so its
//! changes would be logged without context. Start it with [`spawn`] (or wrap
//! its future in [`bind`]) to carry the context along.
//!
//! # Serialising
//! [`AuditContext`], [`EntryPoint`] and [`AuditUser`] implement serde's
//! `Serialize` and `Deserialize`. A context's keys are the column names and
//! its entry point is the stored text, so a context written as JSON reads
//! like the row it describes.

mod audit_context;
#[cfg(feature = "clap")]
mod clap;
mod entry_point;
mod future;
mod scope;
mod user;

pub use self::audit_context::AuditContext;
#[cfg(feature = "clap")]
pub use self::clap::clap_options;
pub use self::entry_point::{EntryPoint, UnknownEntryPoint};
pub use self::future::Scope;
#[cfg(feature = "http")]
pub(crate) use self::scope::scope_call;
pub use self::scope::{bind, capture, current, scope, set_user, spawn, update};
pub use self::user::{AuditUser, os_user};
