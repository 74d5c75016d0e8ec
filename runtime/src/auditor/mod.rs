//! The [`Auditor`]: configuration, database aliases and the write path.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::backend::{Pool, TableSql, is_undefined_table};
use crate::config::AuditConfig;
use crate::event::{BatchOutcome, Dispatched, LogEvent, LogOutcome, now};
use crate::writer::Writer;
use crate::{Audited, Error};

mod builder;
mod write;

pub use builder::AuditorBuilder;
pub(crate) use write::create_table;

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
    inner: Arc<Inner>,
    /// The background writer (ASYNC); `None` writes inline.
    writer: Option<Arc<Writer>>,
    /// The Redis stream producer (ASYNC with the `"redis"` transport).
    #[cfg(feature = "redis")]
    broker: Option<Arc<crate::broker::Producer>>,
}

struct Inner {
    config: AuditConfig,
    databases: Vec<(String, Pool)>,
    /// Index of DATABASE_ALIAS in `databases`, if configured.
    audit: Option<usize>,
    /// Index of `default`, if configured.
    default: Option<usize>,
    chunk_size: Option<usize>,
    /// SQL per (database, log table, outbox or not), built once.
    tables: RwLock<HashMap<TableKey, Arc<TableSql>>>,
    stats: Counters,
}

/// A cached table: (database index, log table, the outbox for it or not).
type TableKey = (usize, &'static str, bool);

#[derive(Default)]
struct Counters {
    written: AtomicU64,
    skipped: AtomicU64,
    fallback: AtomicU64,
    failed: AtomicU64,
    queued: AtomicU64,
    retried: AtomicU64,
    dropped: AtomicU64,
}

/// Counts of what the auditor did since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Log rows written.
    pub written: u64,
    /// Log rows dropped because the audit database was missing or unavailable
    /// and RAISE_ERROR_IF_DB_UNAVAILABLE is false (each one also warned).
    pub skipped: u64,
    /// Log rows written to `default` instead (FALLBACK_TO_DEFAULT).
    pub fallback: u64,
    /// Log rows whose write failed: returned as an error to the caller, or,
    /// in ASYNC mode, given up by the writer (each one also logged as an error).
    pub failed: u64,
    /// Log rows handed to the background writer (ASYNC).
    pub queued: u64,
    /// Row writes the background writer retried while the database was down.
    pub retried: u64,
    /// Log rows dropped because the writer's queue was full and
    /// ASYNC_QUEUE_FULL is `drop` (each one also warned).
    pub dropped: u64,
}

/// Where log rows go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Into the log tables.
    Direct,
    /// Into the outbox, for workers to move.
    Outbox,
}

impl Auditor {
    /// The configuration in force.
    pub fn config(&self) -> &AuditConfig {
        &self.inner.config
    }

    /// What the auditor did so far.
    pub fn stats(&self) -> AuditStats {
        let c = &self.inner.stats;
        AuditStats {
            written: c.written.load(Ordering::Relaxed),
            skipped: c.skipped.load(Ordering::Relaxed),
            fallback: c.fallback.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            queued: c.queued.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
        }
    }

    /// Waits until every row queued so far is written (ASYNC; a no-op when
    /// writing inline).
    pub async fn flush(&self) {
        if let Some(writer) = &self.writer {
            writer.flush(self).await;
        }
    }

    /// Flushes the background writer and stops it; rows logged afterwards
    /// are written inline. Call it before the process exits.
    pub async fn shutdown(&self) {
        if let Some(writer) = &self.writer {
            writer.shutdown(self).await;
        }
    }

    /// This auditor without its background writer: writes inline.
    pub(crate) fn inline(&self) -> Auditor {
        Auditor {
            inner: Arc::clone(&self.inner),
            writer: None,
            #[cfg(feature = "redis")]
            broker: None,
        }
    }

    pub(crate) fn count_dropped(&self, rows: usize) -> u64 {
        self.inner
            .stats
            .dropped
            .fetch_add(rows as u64, Ordering::Relaxed)
            + rows as u64
    }

    #[cfg(feature = "redis")]
    pub(crate) fn count_queued(&self, rows: usize) {
        self.inner
            .stats
            .queued
            .fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Whether `log_change` publishes to a broker (ASYNC, `"redis"` transport).
    pub(crate) fn publishes(&self) -> bool {
        #[cfg(feature = "redis")]
        if self.broker.is_some() {
            return true;
        }
        false
    }

    pub(crate) fn count_retried(&self, rows: usize) {
        self.inner
            .stats
            .retried
            .fetch_add(rows as u64, Ordering::Relaxed);
    }

    pub(crate) fn count_failed(&self, rows: usize) {
        self.inner
            .stats
            .failed
            .fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Logs one change of `M`; the generated `M::log_change` calls this.
    /// The event time and the audit context are taken now.
    pub async fn log_change<M: Audited>(
        &self,
        before: Option<&M>,
        after: Option<&M>,
    ) -> Result<LogOutcome, Error> {
        let event = match self.prepare(before, after)? {
            Ok(event) => event,
            Err(outcome) => return Ok(outcome),
        };
        Ok(match self.dispatch(M::MODEL, vec![event]).await? {
            Dispatched::Written(1, _) if self.transport() == Transport::Outbox => {
                LogOutcome::Queued
            }
            Dispatched::Written(1, _) => LogOutcome::Written,
            Dispatched::Written(..) => LogOutcome::Skipped,
            Dispatched::Queued(_) => LogOutcome::Queued,
            Dispatched::Dropped(_) => LogOutcome::Dropped,
        })
    }

    /// Logs many changes of `M` with one multi-row INSERT per chunk of
    /// BULK_CHUNK_SIZE rows; the generated `M::log_changes` calls this.
    pub async fn log_changes<'a, M: Audited, I>(&self, changes: I) -> Result<BatchOutcome, Error>
    where
        I: IntoIterator<Item = (Option<&'a M>, Option<&'a M>)>,
    {
        let (events, mut outcome) = self.prepare_batch(changes)?;
        if !events.is_empty() {
            outcome.add(self.dispatch(M::MODEL, events).await?);
            if self.transport() == Transport::Outbox {
                // In the outbox, not yet in the log table.
                outcome.queued += std::mem::take(&mut outcome.written);
            }
        }
        Ok(outcome)
    }

    /// The row of one change, taking the event time now; or why there is none.
    pub(crate) fn prepare<M: Audited>(
        &self,
        before: Option<&M>,
        after: Option<&M>,
    ) -> Result<Result<LogEvent, LogOutcome>, Error> {
        let created_at = now();
        if before.is_none() && after.is_none() {
            return Err(Error::NothingToLog {
                model: M::MODEL.label(),
            });
        }
        if !self.inner.config.is_audited(M::MODEL.label()) {
            return Ok(Err(LogOutcome::NotAudited));
        }
        let log_unchanged = self.inner.config.log_unchanged_updates;
        let Some(event) = LogEvent::build(before, after, log_unchanged, created_at)? else {
            return Ok(Err(LogOutcome::Unchanged));
        };
        Ok(Ok(self.with_event_id(event)))
    }

    /// The rows of many changes, all with the same event time, and the
    /// counts of changes that need no row.
    pub(crate) fn prepare_batch<'a, M: Audited, I>(
        &self,
        changes: I,
    ) -> Result<(Vec<LogEvent>, BatchOutcome), Error>
    where
        I: IntoIterator<Item = (Option<&'a M>, Option<&'a M>)>,
    {
        let created_at = now();
        let mut outcome = BatchOutcome::default();
        let audited = self.inner.config.is_audited(M::MODEL.label());
        let log_unchanged = self.inner.config.log_unchanged_updates;
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
            match LogEvent::build(before, after, log_unchanged, created_at)? {
                Some(event) => events.push(self.with_event_id(event)),
                None => outcome.unchanged += 1,
            }
        }
        Ok((events, outcome))
    }

    /// The history of one object of `M`, oldest first; the generated
    /// `<Struct>Log::for_object` calls this.
    pub async fn history<M: Audited>(
        &self,
        pk: &(impl fmt::Display + ?Sized),
    ) -> Result<Vec<M::Log>, Error> {
        let model = M::MODEL;
        let index = match (self.inner.audit, self.fallback_index()) {
            (Some(index), _) | (None, Some(index)) => index,
            (None, None) => {
                return Err(Error::UnknownAlias {
                    alias: self.inner.config.database_alias.clone(),
                });
            }
        };
        let (alias, pool) = &self.inner.databases[index];
        let table = self.table_sql(index, model);
        let rows = match pool.history(&table, &pk.to_string()).await {
            Ok(rows) => rows,
            Err(e) if is_undefined_table(&e) => Vec::new(),
            Err(e) => return Err(self.db_error(alias, model, e)),
        };
        rows.into_iter()
            .map(|raw| {
                raw.into_record()
                    .map(M::Log::from)
                    .map_err(|message| Error::Decode {
                        table: model.log_table(),
                        message,
                    })
            })
            .collect()
    }

    /// The index of `alias` among the databases.
    pub(crate) fn index_of(&self, alias: &str) -> Option<usize> {
        self.inner.databases.iter().position(|(a, _)| a == alias)
    }

    /// The index of the audit database (DATABASE_ALIAS), if configured.
    pub(crate) fn audit_index(&self) -> Option<usize> {
        self.inner.audit
    }

    /// The alias and pool at `index`.
    pub(crate) fn database_at(&self, index: usize) -> (&str, &Pool) {
        let (alias, pool) = &self.inner.databases[index];
        (alias, pool)
    }

    /// Counts rows an outbox worker moved into the log tables.
    pub(crate) fn count_moved(&self, rows: usize) {
        self.inner
            .stats
            .written
            .fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Counts rows written: into the log tables (`written`), or into the
    /// outbox (`queued`, until a worker moves them).
    pub(crate) fn count_written(&self, rows: usize) {
        let stats = &self.inner.stats;
        let counter = match self.transport() {
            Transport::Outbox => &stats.queued,
            Transport::Direct => &stats.written,
        };
        counter.fetch_add(rows as u64, Ordering::Relaxed);
    }
}

impl fmt::Debug for Auditor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auditor")
            .field("config", &self.inner.config)
            .field(
                "databases",
                &self
                    .inner
                    .databases
                    .iter()
                    .map(|(alias, pool)| (alias, pool.dialect()))
                    .collect::<Vec<_>>(),
            )
            .field("stats", &self.stats())
            .finish()
    }
}
