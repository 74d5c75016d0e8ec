//! One change to be logged: the row as it will be written, built when
//! `log_change` is called (timestamp and context included).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};

use crate::context::AuditContext;
use crate::error::{Error, SnapshotError};
use crate::{Audited, json};

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The object was created.
    Insert,
    /// The object was changed.
    Update,
    /// The object was removed.
    Delete,
}

impl Action {
    /// The text stored in the `action` column.
    ///
    /// ```
    /// assert_eq!(awesome_audit_log::Action::Update.as_str(), "update");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `action` column held something other than `insert`, `update`, `delete`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "insert" => Ok(Action::Insert),
            "update" => Ok(Action::Update),
            "delete" => Ok(Action::Delete),
            other => Err(UnknownAction(other.to_owned())),
        }
    }
}

/// What `log_change` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutcome {
    /// The row was written.
    Written,
    /// An update that changed no stored field: no row (see `LOG_UNCHANGED_UPDATES`).
    Unchanged,
    /// Auditing is off (`ENABLED`) or the model is not audited (`AUDIT_MODELS` / `NOT_AUDIT_MODELS`).
    NotAudited,
    /// The audit database was missing or unavailable and RAISE_ERROR_IF_DB_UNAVAILABLE
    /// is false: a warning was logged and the skip counted in [`crate::AuditStats`].
    Skipped,
    /// Logged in an [`AuditTransaction`](crate::AuditTransaction) whose audit
    /// database is another one: the row is written when the transaction commits.
    Deferred,
    /// ASYNC: the row is queued for the background writer.
    Queued,
    /// ASYNC with `ASYNC_QUEUE_FULL = "drop"`: the queue was full and the row
    /// was dropped (warned and counted in [`crate::AuditStats::dropped`]).
    Dropped,
}

/// What `log_changes` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Rows written.
    pub written: usize,
    /// Updates that changed no stored field (no row).
    pub unchanged: usize,
    /// Changes not audited (`ENABLED` off or the model excluded).
    pub not_audited: usize,
    /// Rows skipped because the audit database was unavailable (warned and counted).
    pub skipped: usize,
    /// Rows waiting for their transaction to commit (audit database elsewhere).
    pub deferred: usize,
    /// ASYNC: rows queued for the background writer.
    pub queued: usize,
    /// ASYNC: rows dropped because the queue was full (policy `drop`).
    pub dropped: usize,
}

impl BatchOutcome {
    pub(crate) fn add(&mut self, dispatched: Dispatched) {
        match dispatched {
            Dispatched::Written(written, total) => {
                self.written += written;
                self.skipped += total - written;
            }
            Dispatched::Queued(rows) => self.queued += rows,
            Dispatched::Dropped(rows) => self.dropped += rows,
        }
    }
}

/// Where rows went: written inline (written, of total), queued or dropped.
pub(crate) enum Dispatched {
    Written(usize, usize),
    Queued(usize),
    Dropped(usize),
}

/// A log row ready to be written.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub action: Action,
    pub object_pk: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub changes: Option<String>,
    pub context: Option<Arc<AuditContext>>,
    pub created_at: DateTime<Utc>,
    /// Set for events delivered through the outbox or a broker.
    pub event_id: Option<String>,
}

/// The current time as stored in `created_at`: UTC, microseconds.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

impl LogEvent {
    /// Builds the row of one change; `Ok(None)` for an update with no change
    /// when such updates are not logged.
    pub(crate) fn build<M: Audited>(
        before: Option<&M>,
        after: Option<&M>,
        log_unchanged: bool,
        created_at: DateTime<Utc>,
    ) -> Result<Option<LogEvent>, Error> {
        let model = M::MODEL.label();
        let wrap = |source: SnapshotError| Error::Snapshot { model, source };
        let (action, object_pk, before_json, after_json, changes) = match (before, after) {
            (None, None) => return Err(Error::NothingToLog { model }),
            (None, Some(new)) => (
                Action::Insert,
                new.object_pk(),
                None,
                Some(json::snapshot(new).map_err(wrap)?),
                json::all_changed(new, true).map_err(wrap)?,
            ),
            (Some(old), None) => (
                Action::Delete,
                old.object_pk(),
                Some(json::snapshot(old).map_err(wrap)?),
                None,
                json::all_changed(old, false).map_err(wrap)?,
            ),
            (Some(old), Some(new)) => {
                let changes = json::diff(old, new).map_err(wrap)?;
                if changes.is_none() && !log_unchanged {
                    return Ok(None);
                }
                (
                    Action::Update,
                    new.object_pk(),
                    Some(json::snapshot(old).map_err(wrap)?),
                    Some(json::snapshot(new).map_err(wrap)?),
                    Some(changes.unwrap_or_else(|| "{}".to_owned())),
                )
            }
        };
        Ok(Some(LogEvent {
            action,
            object_pk,
            before: before_json,
            after: after_json,
            changes,
            context: crate::context::current(),
            created_at,
            event_id: None,
        }))
    }
}
