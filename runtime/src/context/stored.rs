//! [`StoredContext`]: the context columns as an outbox row or a broker
//! message stores them, turned back into an [`AuditContext`].

use std::sync::Arc;

use super::{AuditContext, EntryPoint};

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
        let entry_point = self
            .entry_point
            .parse::<EntryPoint>()
            .map_err(|e| e.to_string())?;
        let mut context = AuditContext::new(entry_point);
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
