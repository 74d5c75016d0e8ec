//! One change to be logged: the row as it will be written, built when
//! `log_change` is called (timestamp and context included), and its
//! values in the order of the log table's columns.

use std::sync::Arc;

use awesome_audit_log_codegen::ddl::COLUMNS;
use chrono::{DateTime, SubsecRound, Utc};

use crate::config::AuditConfig;
use crate::context::{AuditContext, EntryPoint, UnknownEntryPoint};
use crate::error::{Error, SnapshotError};
use crate::outcome::{BatchOutcome, LogOutcome};
use crate::{Action, Audited, LogRecord, json};

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

/// Builds the row of one change for `config`, taking the event time now;
/// `Ok(Err(outcome))` when the change needs no row. `event_ids`: give the
/// row an event id (transports that deliver rows later, exactly once).
pub(crate) fn prepare<M: Audited>(
    config: &AuditConfig,
    before: Option<&M>,
    after: Option<&M>,
    event_ids: bool,
) -> Result<Result<LogEvent, LogOutcome>, Error> {
    let created_at = now();
    if before.is_none() && after.is_none() {
        return Err(Error::NothingToLog {
            model: M::MODEL.label(),
        });
    }
    if !config.is_audited(M::MODEL.label()) {
        return Ok(Err(LogOutcome::NotAudited));
    }
    match LogEvent::build(before, after, config.log_unchanged_updates, created_at)? {
        Some(event) => Ok(Ok(event.with_event_id(event_ids))),
        None => Ok(Err(LogOutcome::Unchanged)),
    }
}

/// Builds the rows of many changes, all with the same event time, and
/// counts the changes that need no row.
pub(crate) fn prepare_batch<'a, M: Audited, I>(
    config: &AuditConfig,
    changes: I,
    event_ids: bool,
) -> Result<(Vec<LogEvent>, BatchOutcome), Error>
where
    I: IntoIterator<Item = (Option<&'a M>, Option<&'a M>)>,
{
    let created_at = now();
    let mut outcome = BatchOutcome::default();
    let audited = config.is_audited(M::MODEL.label());
    let mut events = Vec::new();
    for (before, after) in changes {
        if before.is_none() && after.is_none() {
            return Err(Error::NothingToLog {
                model: M::MODEL.label(),
            });
        }
        if !audited {
            outcome.not_audited += 1;
            continue;
        }
        match LogEvent::build(before, after, config.log_unchanged_updates, created_at)? {
            Some(event) => events.push(event.with_event_id(event_ids)),
            None => outcome.unchanged += 1,
        }
    }
    Ok((events, outcome))
}

/// How many values a log row has: the log table's columns but the
/// generated `id`, in
/// [`all_insert_columns`](awesome_audit_log_codegen::ddl::all_insert_columns)
/// order. An insert binds those its table has.
pub(crate) const ROW_VALUES: usize = COLUMNS.len() - 1;

/// One value of a log row, as every backend binds it. The kinds follow the
/// columns' [`ColumnKind`](awesome_audit_log_codegen::ddl::ColumnKind)s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ColumnValue<'a> {
    Text(Option<&'a str>),
    /// JSON text.
    Json(Option<&'a str>),
    BigInt(Option<i64>),
    Timestamp(DateTime<Utc>),
}

impl LogEvent {
    /// Gives the event a time-ordered event id (a UUID v7, so ids sort
    /// roughly by event time) when `wanted`.
    fn with_event_id(mut self, wanted: bool) -> Self {
        if wanted {
            self.event_id = Some(uuid::Uuid::now_v7().to_string());
        }
        self
    }

    /// About how many bytes the row takes in an insert statement: an upper
    /// bound of its values' sizes plus each value's framing.
    pub(crate) fn estimated_bytes(&self) -> u64 {
        let values: usize = self
            .values()
            .iter()
            .map(|value| match value {
                ColumnValue::Text(text) | ColumnValue::Json(text) => text.map_or(0, str::len),
                ColumnValue::BigInt(_) | ColumnValue::Timestamp(_) => 8,
            })
            .sum();
        // A length prefix (up to 9 bytes) and a type (2 bytes) per value
        // (and the outbox's `log_table`), and the statement's own framing.
        (values + 16 * (ROW_VALUES + 1) + 64) as u64
    }

    /// The row's values in column order; an insert binds those its table
    /// has (and `event_id` only for delivered events).
    pub(crate) fn values(&self) -> [ColumnValue<'_>; ROW_VALUES] {
        use ColumnValue::{BigInt, Json, Text, Timestamp};
        let ctx = self.context.as_deref();
        let text = |column: fn(&AuditContext) -> Option<&str>| Text(ctx.and_then(column));
        [
            Text(Some(self.action.as_str())),
            Text(Some(&self.object_pk)),
            Json(self.before.as_deref()),
            Json(self.after.as_deref()),
            Json(self.changes.as_deref()),
            text(|c| Some(c.entry_point.as_str())),
            text(|c| c.route.as_deref()),
            text(|c| c.path.as_deref()),
            text(|c| c.method.as_deref()),
            text(|c| c.ip.as_deref()),
            BigInt(ctx.and_then(|c| c.user_id)),
            text(|c| c.user_name.as_deref()),
            text(|c| c.user_agent.as_deref()),
            Timestamp(self.created_at),
            Text(self.event_id.as_deref()),
            text(|c| c.correlation_id.as_deref()),
        ]
    }

    /// The event a stored row describes (outbox rows carry whole events),
    /// or why its entry point is not one of ours.
    pub(crate) fn from_record(
        record: LogRecord,
        event_id: String,
    ) -> Result<Self, UnknownEntryPoint> {
        let context = match record.entry_point {
            None => None,
            Some(entry_point) => Some(Arc::new(AuditContext {
                entry_point: entry_point.parse::<EntryPoint>()?,
                route: record.route,
                path: record.path,
                method: record.method,
                ip: record.ip,
                user_id: record.user_id,
                user_name: record.user_name,
                user_agent: record.user_agent,
                correlation_id: record.correlation_id,
            })),
        };
        let text = |json: Option<serde_json::Value>| json.map(|json| json.to_string());
        Ok(LogEvent {
            action: record.action,
            object_pk: record.object_pk,
            before: text(record.before),
            after: text(record.after),
            changes: text(record.changes),
            context,
            created_at: record.created_at,
            event_id: Some(event_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use awesome_audit_log_codegen::ddl::{ColumnKind, all_insert_columns};

    /// The values follow the column list: same count, same kinds.
    #[test]
    fn values_follow_the_insert_columns() {
        let event = LogEvent {
            action: Action::Insert,
            object_pk: "1".to_owned(),
            before: None,
            after: Some("{}".to_owned()),
            changes: None,
            context: Some(Arc::new(
                AuditContext::new(EntryPoint::Shell).with_correlation_id("c-1"),
            )),
            created_at: now(),
            event_id: Some("e-1".to_owned()),
        };
        let values = event.values();
        assert_eq!(values.len(), all_insert_columns().len());
        for (value, column) in values.iter().zip(all_insert_columns()) {
            let kind = match value {
                ColumnValue::Text(_) => ColumnKind::Text,
                ColumnValue::Json(_) => ColumnKind::Json,
                ColumnValue::BigInt(_) => ColumnKind::BigInt,
                ColumnValue::Timestamp(_) => ColumnKind::Timestamp,
            };
            assert_eq!(kind, column.kind, "column `{}`", column.name);
        }
        assert_eq!(values[5], ColumnValue::Text(Some("shell")));
        assert_eq!(values[14], ColumnValue::Text(Some("e-1")));
        assert_eq!(values[15], ColumnValue::Text(Some("c-1")));
    }
}
