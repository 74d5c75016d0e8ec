//! The [`Auditor`]: configuration, database aliases and the write path.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::backend::{Pool, TableSql, is_lost_create_race, is_unavailable, is_undefined_table};
use crate::config::{AsyncTransport, AuditConfig, ConfigError, DEFAULT_ALIAS};
use crate::event::{BatchOutcome, Dispatched, LogEvent, LogOutcome, now};
use crate::writer::{Enqueued, Writer};
use crate::{Audited, Database, Error, ModelInfo};

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

/// Builds an [`Auditor`]; see [`Auditor::builder`].
pub struct AuditorBuilder {
    config: AuditConfig,
    databases: Vec<(String, Database)>,
    allow_unknown_labels: bool,
}

impl Auditor {
    /// Starts building an auditor from a configuration.
    pub fn builder(config: AuditConfig) -> AuditorBuilder {
        AuditorBuilder {
            config,
            databases: Vec::new(),
            allow_unknown_labels: false,
        }
    }

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

    /// Writes `rows` now or hands them to the background writer.
    pub(crate) async fn dispatch(
        &self,
        model: &'static ModelInfo,
        rows: Vec<LogEvent>,
    ) -> Result<Dispatched, Error> {
        #[cfg(feature = "redis")]
        if let Some(broker) = &self.broker {
            return self.publish(broker, model, rows).await;
        }
        let rows = match &self.writer {
            None => rows,
            Some(writer) => {
                let count = rows.len();
                match writer.enqueue(self, model, rows).await {
                    Enqueued::Accepted => {
                        self.inner
                            .stats
                            .queued
                            .fetch_add(count as u64, Ordering::Relaxed);
                        return Ok(Dispatched::Queued(count));
                    }
                    Enqueued::Dropped => return Ok(Dispatched::Dropped(count)),
                    Enqueued::Stopped(rows) => rows,
                }
            }
        };
        Ok(Dispatched::Written(
            self.write(model, &rows).await?,
            rows.len(),
        ))
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

    /// Writes `rows` to the audit database, without falling back or
    /// skipping: the background writer retries on `Unavailable`.
    pub(crate) async fn try_write(
        &self,
        model: &'static ModelInfo,
        rows: &[LogEvent],
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        let Some(index) = inner.audit else {
            return Err(Error::UnknownAlias {
                alias: inner.config.database_alias.clone(),
            });
        };
        match self.write_to(index, model, rows).await {
            Ok(()) => {
                inner
                    .stats
                    .written
                    .fetch_add(rows.len() as u64, Ordering::Relaxed);
                Ok(())
            }
            Err(source) if is_unavailable(&source) => Err(Error::Unavailable {
                alias: inner.databases[index].0.clone(),
                source,
            }),
            Err(source) => Err(self.db_error(&inner.databases[index].0, model, source)),
        }
    }

    /// Writes `rows` to the audit database, falling back or skipping per
    /// the configuration; returns how many were written.
    pub(crate) async fn write(
        &self,
        model: &'static ModelInfo,
        rows: &[LogEvent],
    ) -> Result<usize, Error> {
        let inner = &*self.inner;
        let outcome = match inner.audit {
            Some(index) => match self.write_to(index, model, rows).await {
                Ok(()) => Ok(rows.len()),
                Err(e) if is_unavailable(&e) => self.unavailable_for(model, rows, Some(e)).await,
                Err(e) => Err(self.db_error(&inner.databases[index].0, model, e)),
            },
            None => self.unavailable_for(model, rows, None).await,
        };
        match &outcome {
            Ok(written) => self.count_written(*written),
            Err(_) => {
                inner
                    .stats
                    .failed
                    .fetch_add(rows.len() as u64, Ordering::Relaxed);
            }
        }
        outcome
    }

    /// The audit database is missing (`cause` None) or down.
    pub(crate) async fn unavailable_for(
        &self,
        model: &'static ModelInfo,
        rows: &[LogEvent],
        cause: Option<sqlx::Error>,
    ) -> Result<usize, Error> {
        let inner = &*self.inner;
        let alias = &inner.config.database_alias;
        if inner.config.raise_error_if_db_unavailable {
            return Err(match cause {
                Some(source) => Error::Unavailable {
                    alias: alias.clone(),
                    source,
                },
                None => Error::UnknownAlias {
                    alias: alias.clone(),
                },
            });
        }
        let reason = cause.map_or_else(
            || "is not configured".to_owned(),
            |e| format!("is unavailable: {e}"),
        );
        if let Some(index) = self.fallback_index() {
            tracing::warn!(
                alias = %alias,
                table = model.log_table(),
                rows = rows.len(),
                "audit database `{alias}` {reason}; writing to `{DEFAULT_ALIAS}` instead (FALLBACK_TO_DEFAULT)"
            );
            match self.write_to(index, model, rows).await {
                Ok(()) => {
                    inner
                        .stats
                        .fallback
                        .fetch_add(rows.len() as u64, Ordering::Relaxed);
                    return Ok(rows.len());
                }
                Err(e) if is_unavailable(&e) => {
                    return Ok(self.skip(
                        model,
                        rows,
                        &format!("and `{DEFAULT_ALIAS}` is unavailable too: {e}"),
                    ));
                }
                Err(e) => return Err(self.db_error(DEFAULT_ALIAS, model, e)),
            }
        }
        Ok(self.skip(model, rows, &format!("audit database `{alias}` {reason}")))
    }

    pub(crate) fn skip(&self, model: &'static ModelInfo, rows: &[LogEvent], reason: &str) -> usize {
        let total = self
            .inner
            .stats
            .skipped
            .fetch_add(rows.len() as u64, Ordering::Relaxed)
            + rows.len() as u64;
        tracing::warn!(
            table = model.log_table(),
            rows = rows.len(),
            skipped_total = total,
            "audit log rows skipped: {reason} (RAISE_ERROR_IF_DB_UNAVAILABLE is false)"
        );
        0
    }

    /// `default`, when FALLBACK_TO_DEFAULT applies and it is another database.
    fn fallback_index(&self) -> Option<usize> {
        let inner = &*self.inner;
        if !inner.config.fallback_to_default || inner.config.raise_error_if_db_unavailable {
            return None;
        }
        inner
            .default
            .filter(|&default| Some(default) != inner.audit)
    }

    pub(crate) fn db_error(
        &self,
        alias: &str,
        model: &'static ModelInfo,
        source: sqlx::Error,
    ) -> Error {
        Error::Database {
            alias: alias.to_owned(),
            table: model.log_table(),
            source,
        }
    }

    /// Inserts in chunks; creates the table when the database says it is
    /// missing, then retries once.
    async fn write_to(
        &self,
        index: usize,
        model: &'static ModelInfo,
        rows: &[LogEvent],
    ) -> Result<(), sqlx::Error> {
        let table = match self.transport() {
            Transport::Outbox => self.outbox_sql(index, model),
            Transport::Direct => self.table_sql(index, model),
        };
        self.write_table(index, &table, rows).await
    }

    /// Inserts `rows` into `table` on the database at `index`, in chunks;
    /// creates the table when the database says it is missing, then retries once.
    pub(crate) async fn write_table(
        &self,
        index: usize,
        table: &TableSql,
        rows: &[LogEvent],
    ) -> Result<(), sqlx::Error> {
        let pool = &self.inner.databases[index].1;
        for chunk in rows.chunks(self.chunk_size(pool)) {
            match pool.insert(table, chunk).await {
                Err(e) if is_undefined_table(&e) => {
                    create_table(pool, table).await?;
                    pool.insert(table, chunk).await?;
                }
                result => result?,
            }
            table.mark_known();
        }
        Ok(())
    }

    /// Gives `event` an event id when it travels through the outbox or a
    /// broker (a time-ordered UUID, so ids sort roughly by event time).
    fn with_event_id(&self, mut event: LogEvent) -> LogEvent {
        if self.transport() == Transport::Outbox || self.publishes() {
            event.event_id = Some(uuid::Uuid::now_v7().to_string());
        }
        event
    }

    /// Where `log_change` writes: the log tables, or (ASYNC with the
    /// outbox transport) the outbox.
    pub(crate) fn transport(&self) -> Transport {
        let config = &self.inner.config;
        if config.async_ && config.async_transport == AsyncTransport::Outbox {
            Transport::Outbox
        } else {
            Transport::Direct
        }
    }

    /// Rows per multi-row INSERT on `pool`.
    pub(crate) fn chunk_size(&self, pool: &Pool) -> usize {
        self.inner
            .chunk_size
            .unwrap_or_else(|| pool.default_chunk_size())
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

    pub(crate) fn table_sql(&self, index: usize, model: &'static ModelInfo) -> Arc<TableSql> {
        self.cached_sql(index, model, false)
    }

    /// The outbox table's SQL for rows of `model` on the database at `index`.
    pub(crate) fn outbox_sql(&self, index: usize, model: &'static ModelInfo) -> Arc<TableSql> {
        self.cached_sql(index, model, true)
    }

    /// A log table's SQL by name (the outbox worker's tables), not cached.
    pub(crate) fn log_table_sql(&self, index: usize, log_table: &str) -> TableSql {
        let pool = &self.inner.databases[index].1;
        TableSql::new(
            pool.dialect(),
            self.inner.config.pg_schema.as_deref(),
            log_table,
        )
    }

    fn cached_sql(&self, index: usize, model: &'static ModelInfo, outbox: bool) -> Arc<TableSql> {
        let key = (index, model.log_table(), outbox);
        if let Some(table) = self
            .inner
            .tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Arc::clone(table);
        }
        let pool = &self.inner.databases[index].1;
        let schema = self.inner.config.pg_schema.as_deref();
        let table = Arc::new(if outbox {
            TableSql::outbox(pool.dialect(), schema, model.log_table())
        } else {
            TableSql::new(pool.dialect(), schema, model.log_table())
        });
        let mut tables = self.inner.tables.write().unwrap_or_else(|e| e.into_inner());
        Arc::clone(tables.entry(key).or_insert(table))
    }
}

/// Creates a missing log table (and its PostgreSQL schema). Losing a race
/// with another writer creating the same table is success.
pub(crate) async fn create_table(pool: &Pool, table: &TableSql) -> Result<(), sqlx::Error> {
    let statements = table.create_schema.iter().chain([&table.create_table]);
    for statement in statements {
        match pool.execute(statement).await {
            Err(e) if is_lost_create_race(&e) => {}
            result => result?,
        }
    }
    tracing::debug!(table = %table.qualified, "created audit log table");
    Ok(())
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

impl AuditorBuilder {
    /// Adds a database under `alias` (the one named `default` is the
    /// fallback target). A later database with the same alias replaces it.
    pub fn database(mut self, alias: impl Into<String>, database: impl Into<Database>) -> Self {
        let alias = alias.into();
        let database = database.into();
        self.databases.retain(|(existing, _)| *existing != alias);
        self.databases.push((alias, database));
        self
    }

    /// Accepts labels in AUDIT_MODELS / NOT_AUDIT_MODELS that name no model
    /// linked into this binary (by default that is a start-up error, since a
    /// misspelt opt-out would silently audit the model).
    pub fn allow_unknown_labels(mut self) -> Self {
        self.allow_unknown_labels = true;
        self
    }

    /// Validates the configuration against the databases and the audited
    /// models linked into the binary, and builds the auditor.
    ///
    /// Errors: an invalid setting; an unknown model label; with
    /// RAISE_ERROR_IF_DB_UNAVAILABLE, a DATABASE_ALIAS that is not among the
    /// databases. Without RAISE, a missing alias is warned about here and
    /// each write then skips (or falls back) as configured.
    pub fn build(self) -> Result<Auditor, Error> {
        let config = self.config;
        config.validate()?;
        if !self.allow_unknown_labels {
            check_labels(&config)?;
        }
        let databases: Vec<(String, Pool)> = self
            .databases
            .into_iter()
            .map(|(alias, db)| (alias, db.0))
            .collect();
        let index_of = |alias: &str| databases.iter().position(|(a, _)| a == alias);
        let audit = index_of(&config.database_alias);
        let default = index_of(DEFAULT_ALIAS);
        if audit.is_none() {
            if config.raise_error_if_db_unavailable {
                return Err(Error::UnknownAlias {
                    alias: config.database_alias.clone(),
                });
            }
            let then = if config.fallback_to_default && default.is_some() {
                "log rows will go to `default` (FALLBACK_TO_DEFAULT)"
            } else {
                "log rows will be skipped with a warning"
            };
            tracing::warn!(
                "audit DATABASE_ALIAS `{}` is not among the configured databases; {then}",
                config.database_alias
            );
        }
        if config.fallback_to_default && config.raise_error_if_db_unavailable {
            tracing::warn!(
                "FALLBACK_TO_DEFAULT has no effect while RAISE_ERROR_IF_DB_UNAVAILABLE is true"
            );
        }
        let writer = (config.async_ && config.async_transport == AsyncTransport::Memory)
            .then(|| Arc::new(Writer::new(&config)));
        let publishes = config.async_ && config.async_transport == AsyncTransport::Redis;
        #[cfg(feature = "redis")]
        let broker = if publishes {
            Some(Arc::new(crate::broker::Producer::new(&config)?))
        } else {
            None
        };
        #[cfg(not(feature = "redis"))]
        if publishes {
            return Err(ConfigError::Invalid {
                key: "ASYNC_TRANSPORT",
                value: "redis".to_owned(),
                reason:
                    "the `redis` transport needs the cargo feature `redis` of awesome-audit-log"
                        .to_owned(),
            }
            .into());
        }
        Ok(Auditor {
            writer,
            #[cfg(feature = "redis")]
            broker,
            inner: Arc::new(Inner {
                chunk_size: config.bulk_chunk_size,
                config,
                databases,
                audit,
                default,
                tables: RwLock::default(),
                stats: Counters::default(),
            }),
        })
    }
}

fn check_labels(config: &AuditConfig) -> Result<(), ConfigError> {
    let known: BTreeSet<&str> = crate::registry::models()
        .iter()
        .map(|m| m.label())
        .collect();
    let lists = [
        ("AUDIT_MODELS", config.audit_models.labels()),
        ("NOT_AUDIT_MODELS", Some(&config.not_audit_models.0)),
    ];
    for (key, labels) in lists {
        if let Some(unknown) = labels
            .into_iter()
            .flatten()
            .find(|l| !known.contains(l.as_str()))
        {
            return Err(ConfigError::Invalid {
                key,
                value: unknown.clone(),
                reason: format!(
                    "no audited model has this label; known labels: {}",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    Ok(())
}
