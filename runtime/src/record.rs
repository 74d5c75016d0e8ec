//! A log row as read back from any database.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::Action;

/// One row of a log table, decoded the same way from every database.
/// Each model's generated `<Struct>Log` converts from it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LogRecord {
    /// The log row's own id.
    pub id: i64,
    /// `insert`, `update` or `delete`.
    pub action: Action,
    /// The changed object's primary key, as text.
    pub object_pk: String,
    /// Every stored field before the change.
    pub before: Option<Value>,
    /// Every stored field after the change.
    pub after: Option<Value>,
    /// The changed fields, `{"field": {"from": .., "to": ..}}`.
    pub changes: Option<Value>,
    /// `http`, `management_command`, `celery_task` or `shell`.
    pub entry_point: Option<String>,
    /// Route template or full command / job name.
    pub route: Option<String>,
    /// Request path or short command / job name.
    pub path: Option<String>,
    /// HTTP method, `execute` or `run`.
    pub method: Option<String>,
    /// Client IP address.
    pub ip: Option<String>,
    /// Acting user's id.
    pub user_id: Option<i64>,
    /// Acting user's name.
    pub user_name: Option<String>,
    /// User agent or command options.
    pub user_agent: Option<String>,
    /// When the change happened (UTC).
    pub created_at: DateTime<Utc>,
}
