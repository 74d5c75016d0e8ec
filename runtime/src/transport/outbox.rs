//! The durable ASYNC transport: log rows go to an outbox table in the
//! changed data's own database, inside the caller's transaction, and
//! [`OutboxWorker`]s move them into the per-model log tables.
//!
//! - A change and its outbox row commit or roll back together, so a process
//!   killed at any moment (even by SIGKILL) loses no committed change's row
//!   and logs no rolled-back one.
//! - Workers take the oldest rows with `FOR UPDATE SKIP LOCKED`
//!   (PostgreSQL, MySQL 8 / MariaDB 10.6+), so any number of them, in any
//!   number of processes, share the work; on SQLite run a single worker.
//! - Each row carries an event id; log tables have a unique `event_id`
//!   column, and the worker inserts with "on conflict do nothing", so a batch
//!   redelivered after a crash (written to the log, but not yet deleted from
//!   the outbox) is not logged twice. When the log tables live in the same
//!   database as the outbox, the move is one transaction anyway.
//! - A row the log table refuses (found by halving the batch, each attempt
//!   under a savepoint), and a row that cannot be read back (an unknown
//!   entry point, a log table name that is not a plain identifier ending in
//!   `_log`), are copied as they are to the dead-letter table
//!   `awesome_audit_log_dead_letter` with the reason, in the same
//!   transaction, logged and counted in
//!   [`AuditStats::dead_lettered`](crate::AuditStats::dead_lettered): one bad
//!   row never holds back the rows behind it.
//!
//! Turn it on with `ASYNC = true` and `ASYNC_TRANSPORT = "outbox"`, log in
//! transactions with `log_change_in`, and run a worker:
//!
//! ```
//! use awesome_audit_log::config::AsyncTransport;
//! use awesome_audit_log::{AuditConfig, Auditor, LogOutcome, audited};
//!
//! #[audited(table = "widget")]
//! struct Widget { id: i64, qty: i32 }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut config = AuditConfig::default();
//! config.async_ = true;
//! config.async_transport = AsyncTransport::Outbox;
//! let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
//! let auditor = Auditor::builder(config).database("default", pool).build()?;
//!
//! let mut tx = auditor.begin::<sqlx::Sqlite>("default").await?;
//! // ... the application's own writes on `&mut *tx` ...
//! let outcome = Widget::log_change_in(&mut tx, None, Some(&Widget { id: 1, qty: 2 })).await?;
//! assert_eq!(outcome, LogOutcome::Queued);
//! tx.commit().await?;
//!
//! let worker = auditor.outbox_worker("default")?;
//! assert_eq!(worker.drain().await?, 1);          // moved into widget_log
//! assert_eq!(WidgetLog::for_object(&auditor, &1).await?.len(), 1);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use awesome_audit_log_codegen::ddl::{DEAD_LETTER_TABLE, OUTBOX_TABLE};
use awesome_audit_log_codegen::ident::is_log_table_name;

use super::retry::{Backoff, run_until};
use crate::Error;
use crate::backend::{Backend, OutboxContent, OutboxSql, PoolTask};
use crate::error::classify::{is_conflict, is_undefined_table};
use crate::event::LogEvent;
use crate::sink::{Counters, OnRefused, Sink, Target, group_by_key, learn_shape};

mod dead_letters;
mod status;

pub use crate::backend::DeadLetterRow;
pub use dead_letters::{DeadLetterRows, DeadLetterTable, TableRetry};
pub use status::{OutboxStatus, QueueStatus, TableQueue, status};

/// Moves rows from one database's outbox into the log tables. Cheap to
/// clone; run as many as the database allows (one on SQLite).
#[derive(Clone, Debug)]
pub struct OutboxWorker {
    sink: Arc<Sink>,
    /// The database whose outbox this worker drains.
    index: usize,
    outbox: Arc<OutboxSql>,
    batch_size: usize,
    poll_interval: Duration,
}

impl OutboxWorker {
    /// A worker draining the outbox of the database at `index`.
    pub(crate) fn new(sink: Arc<Sink>, index: usize) -> Self {
        let (_, pool) = sink.database(index);
        let outbox = OutboxSql::new(pool.dialect(), sink.config().pg_schema.as_deref());
        Self {
            batch_size: sink.config().async_batch_size,
            outbox: Arc::new(outbox),
            sink,
            index,
            poll_interval: Duration::from_millis(200),
        }
    }

    /// Rows moved per transaction (default: ASYNC_BATCH_SIZE).
    pub fn batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// How long [`run`](Self::run) sleeps when the outbox is empty (default 200 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Moves one batch; returns how many rows it moved (0: the outbox is empty).
    pub async fn drain_once(&self) -> Result<usize, Error> {
        let (alias, pool) = self.sink.database(self.index);
        pool.run(MoveBatch(self))
            .await
            .map_err(|source| Error::from_sqlx(alias, Some(OUTBOX_TABLE), source))
    }

    /// Moves batches until the outbox is empty; returns the rows moved. A
    /// batch that lost a deadlock to another worker is retried.
    pub async fn drain(&self) -> Result<usize, Error> {
        let mut moved = 0;
        let mut conflicts = 0;
        loop {
            match self.drain_once().await {
                Ok(0) => return Ok(moved),
                Ok(rows) => moved += rows,
                Err(Error::Database { source, .. })
                    if is_conflict(&source) && conflicts < MAX_CONFLICTS =>
                {
                    conflicts += 1;
                    tokio::time::sleep(Duration::from_millis(5 * conflicts)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Moves rows until `shutdown` completes: polls when the outbox is
    /// empty, backs off (ASYNC_RETRY_BASE_MS doubling up to
    /// ASYNC_RETRY_MAX_MS) while a database is unavailable, and logs other
    /// errors and keeps going.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let backoff = Backoff::from_config(self.sink.config());
        run_until(
            "audit outbox worker",
            shutdown,
            backoff,
            self.poll_interval,
            || self.drain_once(),
        )
        .await;
    }
}

/// Deadlocks between workers retried by [`OutboxWorker::drain`] before it gives up.
const MAX_CONFLICTS: u64 = 100;

/// One batch: taken from the outbox, written to the log tables and deleted
/// from the outbox in one transaction of the outbox's database. Rows the
/// log table refuses, and rows that cannot be read, are copied to the
/// dead-letter table with the reason in the same transaction, so the queue
/// moves on and nothing is lost.
struct MoveBatch<'a>(&'a OutboxWorker);

impl PoolTask for MoveBatch<'_> {
    type Output = Result<usize, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let worker = self.0;
        let sink = &*worker.sink;
        let mut tx = pool.begin().await?;
        let moved = match self.move_in::<D>(&mut tx).await {
            Ok(moved) => moved,
            Err(error) => {
                // Rolled back before the error is returned: sqlx rolls a
                // dropped transaction back on a task of its own when the
                // pool takes the connection back, and a batch taken before
                // that, on another connection, would skip the rows it
                // still locks.
                let _ = tx.rollback().await;
                return Err(error);
            }
        };
        tx.commit().await?;
        for log_table in &moved.first_use {
            sink.committed(worker.index, Target::Log, log_table);
        }
        for (id, reason) in &moved.dead {
            tracing::error!(
                outbox_id = id,
                table = OUTBOX_TABLE,
                "audit outbox row moved to `{DEAD_LETTER_TABLE}`: {reason}"
            );
        }
        Counters::add(&sink.stats().written, moved.rows - moved.dead.len());
        Counters::add(&sink.stats().dead_lettered, moved.dead.len());
        Ok(moved.rows)
    }
}

/// What one batch did in its transaction, to be counted once it commits.
#[derive(Default)]
struct Moved {
    /// The outbox rows taken (written or set aside).
    rows: usize,
    /// The log tables first written in the transaction.
    first_use: Vec<String>,
    /// The rows set aside, with the reason.
    dead: Vec<(i64, String)>,
}

impl MoveBatch<'_> {
    /// Takes a batch in `tx`, writes it to the log tables (or sets rows
    /// aside) and deletes it from the outbox; the caller commits.
    async fn move_in<D: Backend>(
        &self,
        tx: &mut sqlx::Transaction<'static, D::Db>,
    ) -> Result<Moved, sqlx::Error> {
        let worker = self.0;
        let sink = &*worker.sink;
        let limit = i64::try_from(worker.batch_size).unwrap_or(i64::MAX);
        // The outbox's shape (one made before `correlation_id` is read
        // without it), learned once; no outbox yet: nothing to move.
        let shape = learn_shape::<D>(&mut *tx, &worker.outbox.def).await?;
        if !shape.exists {
            return Ok(Moved::default());
        }
        let rows = match D::fetch_outbox(&mut *tx, &worker.outbox, shape, limit).await {
            Err(e) if is_undefined_table(&e) => {
                worker.outbox.def.forget_shape();
                return Ok(Moved::default());
            }
            result => result?,
        };
        if rows.is_empty() {
            return Ok(Moved::default());
        }
        let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        let mut dead: Vec<(i64, String)> = Vec::new();
        let mut events: Vec<(String, (i64, LogEvent))> = Vec::new();
        for row in rows {
            match into_event(row.id, row.content) {
                Ok((log_table, event)) => events.push((log_table, (row.id, event))),
                Err(reason) => dead.push((row.id, reason)),
            }
        }
        let same_database = sink.audit_index() == Some(worker.index);
        let mut first_use = Vec::new();
        for (log_table, group) in group_by_key(events) {
            let (group_ids, events): (Vec<i64>, Vec<LogEvent>) = group.into_iter().unzip();
            let refused = if same_database {
                let outcome = sink
                    .write_in::<D>(
                        &mut *tx,
                        worker.index,
                        Target::Log,
                        &log_table,
                        &events,
                        OnRefused::Isolate,
                    )
                    .await?;
                if outcome.first_use {
                    first_use.push(log_table.clone());
                }
                outcome.refused
            } else {
                let Some(audit) = sink.audit_index() else {
                    return Err(sqlx::Error::Configuration(
                        format!(
                            "audit DATABASE_ALIAS `{}` is not configured",
                            sink.config().database_alias
                        )
                        .into(),
                    ));
                };
                sink.write_to(audit, Target::Log, &log_table, &events, OnRefused::Isolate)
                    .await?
            };
            dead.extend(
                refused
                    .into_iter()
                    .map(|refused| (group_ids[refused.index], refused.reason)),
            );
        }
        for (id, reason) in &dead {
            sink.dead_letter_outbox_row::<D>(&mut *tx, worker.index, shape, *id, reason)
                .await?;
        }
        D::delete_outbox(&mut *tx, &worker.outbox, &ids).await?;
        Ok(Moved {
            rows: ids.len(),
            first_use,
            dead,
        })
    }
}

/// The log table and the event of an outbox row, or why the row cannot be
/// one. The table's name comes from the database, so it is checked before
/// it reaches SQL.
fn into_event(
    id: i64,
    content: Result<OutboxContent, String>,
) -> Result<(String, LogEvent), String> {
    let content = content.map_err(|reason| format!("outbox row {id} cannot be read: {reason}"))?;
    if !is_log_table_name(&content.log_table) {
        return Err(format!(
            "outbox row {id}: {:?} is not a log table name",
            content.log_table
        ));
    }
    let event = LogEvent::from_record(content.record, content.event_id)
        .map_err(|error| format!("outbox row {id}: {error}"))?;
    Ok((content.log_table, event))
}
