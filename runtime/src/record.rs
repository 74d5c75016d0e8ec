//! A log row as read back from any database.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::Action;

/// One row of a log table, decoded the same way from every database.
/// Each model's generated `<Struct>Log` converts from it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// What one request, command or job did shares this id: a UUIDv7 taken
    /// when its audit scope began, or the request id a trusted proxy sent.
    /// `None` for rows written outside a scope, and for tables without the
    /// column (created by the Django original or by an older version).
    #[serde(default)]
    pub correlation_id: Option<String>,
}

/// What every log row type gives: the generated `<Struct>Log` rows and
/// [`LogRecord`] alike, so that history, diffs and restores work on either.
pub trait LogRow {
    /// The log row's own id.
    fn id(&self) -> i64;
    /// `insert`, `update` or `delete`.
    fn action(&self) -> Action;
    /// The changed object's primary key, as text.
    fn object_pk(&self) -> &str;
    /// Every stored field before the change.
    fn before(&self) -> Option<&Value>;
    /// Every stored field after the change.
    fn after(&self) -> Option<&Value>;
    /// The changed fields.
    fn changes(&self) -> Option<&Value>;
    /// The acting user's id.
    fn user_id(&self) -> Option<i64>;
    /// When the change happened.
    fn created_at(&self) -> DateTime<Utc>;

    /// The object's state this row leaves: `after` of an insert or an
    /// update; `None` after a delete.
    fn state(&self) -> Option<&Value> {
        match self.action() {
            Action::Delete => None,
            Action::Insert | Action::Update => self.after(),
        }
    }
}

impl LogRow for LogRecord {
    fn id(&self) -> i64 {
        self.id
    }
    fn action(&self) -> Action {
        self.action
    }
    fn object_pk(&self) -> &str {
        &self.object_pk
    }
    fn before(&self) -> Option<&Value> {
        self.before.as_ref()
    }
    fn after(&self) -> Option<&Value> {
        self.after.as_ref()
    }
    fn changes(&self) -> Option<&Value> {
        self.changes.as_ref()
    }
    fn user_id(&self) -> Option<i64> {
        self.user_id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use awesome_audit_log_codegen::ddl::{COLUMNS, ORIGINAL_COLUMNS};

    /// A record holds the original's columns, by name and in order, then
    /// the correlation id.
    #[test]
    fn fields_are_the_original_columns() {
        let record = LogRecord {
            id: 1,
            action: Action::Insert,
            object_pk: "1".to_owned(),
            before: None,
            after: None,
            changes: None,
            entry_point: None,
            route: None,
            path: None,
            method: None,
            ip: None,
            user_id: None,
            user_name: None,
            user_agent: None,
            created_at: Utc::now(),
            correlation_id: None,
        };
        let json = serde_json::to_string(&record).unwrap();
        let value: serde_json::Map<String, Value> = serde_json::from_str(&json).unwrap();
        let mut keys: Vec<&str> = value.keys().map(String::as_str).collect();
        // serde_json's map sorts keys; compare as sets, then order by the JSON text.
        keys.sort_unstable();
        let mut columns: Vec<&str> = COLUMNS[..ORIGINAL_COLUMNS]
            .iter()
            .map(|c| c.name)
            .chain(["correlation_id"])
            .collect();
        columns.sort_unstable();
        assert_eq!(keys, columns);
        let positions: Vec<usize> = COLUMNS[..ORIGINAL_COLUMNS]
            .iter()
            .map(|c| c.name)
            .chain(["correlation_id"])
            .map(|name| json.find(&format!("\"{name}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
        let back: LogRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
    }
}
