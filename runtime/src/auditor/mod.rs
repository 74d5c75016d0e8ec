//! The [`Auditor`]: the facade over the sink (databases, policy, counters)
//! and the transport chosen when it was built.

use std::fmt;
use std::sync::Arc;

use crate::event::{prepare, prepare_batch};
use crate::outcome::{BatchOutcome, LogOutcome};
use crate::sink::{AuditStats, Sink};
use crate::transport::Transport;
use crate::transport::outbox::OutboxWorker;
use crate::{AuditConfig, Audited, Error};

mod builder;

pub use builder::AuditorBuilder;

/// Writes audit log rows: holds the configuration and the databases by
/// alias, picks the audit database per `DATABASE_ALIAS`, creates log tables
/// on first use and remembers them. Cheap to clone; share one per process.
///
/// ```
/// use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
///
/// #[audited(table = "widget")]
/// #[derive(Clone)]
/// struct Widget { id: i64, name: String, qty: i32 }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let db = Database::connect("sqlite::memory:").await?;
/// let auditor = Auditor::builder(AuditConfig::default()).database("default", db).build()?;
///
/// let old = Widget { id: 1, name: "B".into(), qty: 2 };
/// let new = Widget { qty: 5, ..old.clone() };
/// Widget::log_change(&auditor, None, Some(&old)).await?;
/// Widget::log_change(&auditor, Some(&old), Some(&new)).await?;
///
/// let history = WidgetLog::for_object(&auditor, &1).await?;
/// assert_eq!(history.len(), 2);
/// assert_eq!(history[1].changes, Some(serde_json::json!({"qty": {"from": 2, "to": 5}})));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Auditor {
    pub(crate) sink: Arc<Sink>,
    pub(crate) transport: Arc<Transport>,
}

impl Auditor {
    /// The configuration in force.
    pub fn config(&self) -> &AuditConfig {
        self.sink.config()
    }

    /// What the auditor did so far.
    pub fn stats(&self) -> AuditStats {
        self.sink.stats().snapshot()
    }

    /// Waits until every row queued so far is written (ASYNC; a no-op when
    /// writing inline).
    pub async fn flush(&self) {
        self.transport.flush(&self.sink).await;
    }

    /// Flushes the background writer and stops it; rows logged afterwards
    /// are written inline. Call it before the process exits.
    pub async fn shutdown(&self) {
        self.transport.shutdown(&self.sink).await;
    }

    /// Logs one change of `M`; the generated `M::log_change` calls this.
    /// The event time and the audit context are taken now.
    pub async fn log_change<M: Audited>(
        &self,
        before: Option<&M>,
        after: Option<&M>,
    ) -> Result<LogOutcome, Error> {
        self.sink.check_not_captured(M::MODEL)?;
        let config = self.sink.config();
        let event = match prepare(config, before, after, self.transport.event_ids())? {
            Ok(event) => event,
            Err(outcome) => return Ok(outcome),
        };
        let delivered = self
            .transport
            .dispatch(&self.sink, M::MODEL.log_table(), vec![event])
            .await?;
        Ok(delivered.outcome())
    }

    /// Logs many changes of `M` with one multi-row INSERT per chunk of
    /// BULK_CHUNK_SIZE rows; the generated `M::log_changes` calls this.
    pub async fn log_changes<'a, M: Audited, I>(&self, changes: I) -> Result<BatchOutcome, Error>
    where
        I: IntoIterator<Item = (Option<&'a M>, Option<&'a M>)>,
    {
        self.sink.check_not_captured(M::MODEL)?;
        let config = self.sink.config();
        let (events, mut outcome) = prepare_batch(config, changes, self.transport.event_ids())?;
        if !events.is_empty() {
            let delivered = self
                .transport
                .dispatch(&self.sink, M::MODEL.log_table(), events)
                .await?;
            outcome.add(delivered);
        }
        Ok(outcome)
    }

    /// A worker draining the outbox of the database registered as `alias`
    /// into the audit database (DATABASE_ALIAS). The worker sets no audit
    /// context of its own: rows keep the context of the change.
    pub fn outbox_worker(&self, alias: &str) -> Result<OutboxWorker, Error> {
        let index = self.sink.index_of(alias)?;
        Ok(OutboxWorker::new(Arc::clone(&self.sink), index))
    }

    /// A consumer named `consumer` of the stream REDIS_STREAM in the group
    /// REDIS_GROUP, writing into the audit database (DATABASE_ALIAS). Needs
    /// REDIS_URL (ASYNC need not be on in the worker's process). Connects on
    /// first use.
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn broker_worker(
        &self,
        consumer: impl Into<String>,
    ) -> Result<crate::broker::BrokerWorker, Error> {
        crate::broker::BrokerWorker::new(Arc::clone(&self.sink), consumer.into())
    }
}

impl fmt::Debug for Auditor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auditor")
            .field("config", self.sink.config())
            .field("databases", &self.sink.aliases().collect::<Vec<_>>())
            .field("transport", &self.transport.name())
            .field("stats", &self.stats())
            .finish()
    }
}
