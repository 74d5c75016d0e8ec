//! What one request, command or job did, across every model: rows of
//! every registered log table, labelled with their model.

use chrono::{DateTime, Utc};

use super::query::read;
use crate::backend::{Order, Select};
use crate::{Action, Audited, Auditor, Error, LogRecord, ModelInfo};

/// A log row and the model whose log table holds it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelRecord {
    /// The model (label, struct name, log table).
    #[serde(serialize_with = "label")]
    pub model: &'static ModelInfo,
    /// The row.
    pub record: LogRecord,
}

fn label<S: serde::Serializer>(
    model: &&'static ModelInfo,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(model.label())
}

/// Queries over the log tables of every registered model (or of the
/// models chosen with [`model`](Self::model)): by correlation id, user or
/// time, with the same filters as one object's history. Each table is read
/// with its filters in SQL; the rows are merged by `(created_at, id)`.
///
/// ```
/// # use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
/// # use awesome_audit_log::context::{self, AuditContext};
/// use awesome_audit_log::history::AuditLog;
/// # #[audited(table = "widget")]
/// # struct Widget { id: i64, qty: i32 }
/// # #[audited(table = "gadget")]
/// # struct Gadget { id: i64, name: String }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
/// let ctx = AuditContext::job("shop.jobs.restock", None).with_user(Some(7), None);
/// context::scope(ctx, async {
///     let _ = Widget::log_change(&auditor, None, Some(&Widget { id: 1, qty: 5 })).await?;
///     let _ = Gadget::log_change(&auditor, None, Some(&Gadget { id: 1, name: "x".into() })).await?;
///     Ok::<_, awesome_audit_log::Error>(())
/// })
/// .await?;
///
/// let rows = AuditLog::by_user(&auditor, 7).fetch().await?;
/// let models: Vec<_> = rows.iter().map(|row| row.model.struct_name()).collect();
/// assert_eq!(models, ["Widget", "Gadget"]);
/// # Ok(()) }
/// ```
#[must_use = "a query reads nothing until it is fetched"]
#[derive(Debug, Clone)]
pub struct AuditLog<'a> {
    auditor: &'a Auditor,
    select: Select,
    models: Option<Vec<&'static ModelInfo>>,
}

impl<'a> AuditLog<'a> {
    /// Every row of every registered model's log table (narrow it down).
    pub fn query(auditor: &'a Auditor) -> Self {
        Self {
            auditor,
            select: Select::default(),
            models: None,
        }
    }

    /// Every row one request, command or job wrote (its correlation id).
    pub fn by_correlation(auditor: &'a Auditor, correlation_id: impl Into<String>) -> Self {
        Self::query(auditor).correlation_id(correlation_id)
    }

    /// Every row of one user.
    pub fn by_user(auditor: &'a Auditor, user_id: i64) -> Self {
        Self::query(auditor).user(user_id)
    }

    /// Every row logged at or after `since` and before `until`.
    pub fn between(auditor: &'a Auditor, since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        let mut query = Self::query(auditor);
        query.select.since = Some(since);
        query.select.until = Some(until);
        query
    }

    /// Only the log of `M` (call again to add models).
    pub fn model<M: Audited>(mut self) -> Self {
        self.models.get_or_insert_with(Vec::new).push(M::MODEL);
        self
    }

    /// Only rows of this correlation id.
    pub fn correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.select.correlation_id = Some(correlation_id.into());
        self
    }

    /// Only rows of this user.
    pub fn user(mut self, user_id: i64) -> Self {
        self.select.user_id = Some(user_id);
        self
    }

    /// Only rows of `action` (call again to allow several).
    pub fn action(mut self, action: Action) -> Self {
        self.select.actions.push(action);
        self
    }

    /// Newest first (oldest first by default).
    pub fn newest_first(mut self) -> Self {
        self.select.order = Order::Newest;
        self
    }

    /// At most `rows` rows in all.
    pub fn limit(mut self, rows: u64) -> Self {
        self.select.limit = Some(rows);
        self
    }

    /// The rows, merged across the log tables in the order asked for.
    /// Tables that do not exist yet have no rows.
    pub async fn fetch(self) -> Result<Vec<ModelRecord>, Error> {
        let models = self.models.unwrap_or_else(crate::registry::models);
        let mut seen = std::collections::HashSet::new();
        let mut rows = Vec::new();
        for model in models {
            // Two models may share a log table; read it once.
            if !seen.insert(model.log_table()) {
                continue;
            }
            for record in read(self.auditor, model.log_table(), &self.select).await? {
                rows.push(ModelRecord { model, record });
            }
        }
        let key = |row: &ModelRecord| (row.record.created_at, row.model.log_table(), row.record.id);
        rows.sort_by(|a, b| match self.select.order {
            Order::Oldest => key(a).cmp(&key(b)),
            Order::Newest => key(b).cmp(&key(a)),
        });
        if let Some(limit) = self.select.limit {
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        Ok(rows)
    }
}
