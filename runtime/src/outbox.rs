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
use std::time::Duration;

use crate::backend::{Backend, OutboxRow, Pool, TableSql, is_undefined_table};
use crate::transaction::insert_in_transaction;
use crate::{Auditor, Error};

/// Moves rows from one database's outbox into the log tables. Cheap to
/// clone; run as many as the database allows (one on SQLite).
#[derive(Clone, Debug)]
pub struct OutboxWorker {
    auditor: Auditor,
    /// The database whose outbox this worker drains.
    index: usize,
    batch_size: usize,
    poll_interval: Duration,
}

impl Auditor {
    /// A worker draining the outbox of the database registered as `alias`
    /// into the audit database (DATABASE_ALIAS). The worker sets no audit
    /// context of its own: rows keep the context of the change.
    pub fn outbox_worker(&self, alias: &str) -> Result<OutboxWorker, Error> {
        let index = self.index_of(alias).ok_or_else(|| Error::UnknownAlias {
            alias: alias.to_owned(),
        })?;
        Ok(OutboxWorker {
            auditor: self.inline(),
            index,
            batch_size: self.config().async_batch_size,
            poll_interval: Duration::from_millis(200),
        })
    }
}

impl OutboxWorker {
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
        let (alias, pool) = self.auditor.database_at(self.index);
        let result: Result<usize, sqlx::Error> = match pool {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => self.move_batch::<crate::backend::SqliteDriver>(pool).await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                self.move_batch::<crate::backend::PostgresDriver>(pool)
                    .await
            }
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => self.move_batch::<crate::backend::MySqlDriver>(pool).await,
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            Pool::None(never) => match *never {},
        };
        result.map_err(|source| {
            Error::from_sqlx(alias, awesome_audit_log_codegen::ddl::OUTBOX_TABLE, source)
        })
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
    /// empty, backs off (doubling up to ASYNC_RETRY_MAX_MS) while a database
    /// is unavailable, and logs other errors and keeps going.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let config = self.auditor.config();
        let base = Duration::from_millis(config.async_retry_base_ms.max(1));
        let max = Duration::from_millis(config.async_retry_max_ms).max(base);
        let mut backoff = base;
        tokio::pin!(shutdown);
        loop {
            let pause = match self.drain_once().await {
                Ok(0) => self.poll_interval,
                Ok(_) => {
                    backoff = base;
                    Duration::ZERO
                }
                Err(error) => {
                    tracing::warn!(
                        retry_in_ms = backoff.as_millis() as u64,
                        "audit outbox worker: {error}"
                    );
                    let pause = backoff;
                    backoff = (backoff * 2).min(max);
                    pause
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    async fn move_batch<D: Backend>(&self, pool: &sqlx::Pool<D::Db>) -> Result<usize, sqlx::Error> {
        let dialect = D::DIALECT;
        let schema = self.auditor.config().pg_schema.clone();
        let outbox = TableSql::outbox(dialect, schema.as_deref(), "");
        let mut tx = pool.begin().await?;
        let rows = match D::fetch_outbox(&mut tx, &outbox, self.batch_size as i64).await {
            Err(e) if is_undefined_table(&e) => return Ok(0),
            result => result?,
        };
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(0);
        }
        let same_database = self.auditor.audit_index() == Some(self.index);
        for (log_table, events) in group_by_table(&rows) {
            if same_database {
                let table = self.auditor.log_table_sql(self.index, log_table);
                let (_, own_pool) = self.auditor.database_at(self.index);
                insert_in_transaction::<D>(&mut tx, own_pool, &table, &events).await?;
            } else {
                let Some(audit) = self.auditor.audit_index() else {
                    return Err(sqlx::Error::Configuration(
                        format!(
                            "audit DATABASE_ALIAS `{}` is not configured",
                            self.auditor.config().database_alias
                        )
                        .into(),
                    ));
                };
                let table = self.auditor.log_table_sql(audit, log_table);
                self.auditor.write_table(audit, &table, &events).await?;
            }
        }
        let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        D::delete_outbox(&mut tx, &outbox, &ids).await?;
        tx.commit().await?;
        self.auditor.count_moved(rows.len());
        Ok(rows.len())
    }
}

/// Deadlocks between workers retried by [`OutboxWorker::drain`] before it gives up.
const MAX_CONFLICTS: u64 = 100;

/// Whether the database rolled the batch back to break a deadlock or a
/// serialization conflict (SQLSTATE 40001 / 40P01): the batch is intact and
/// can be tried again.
fn is_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// The rows per log table, tables in order of first appearance, rows in
/// outbox order.
fn group_by_table(rows: &[OutboxRow]) -> Vec<(&str, Vec<crate::event::LogEvent>)> {
    let mut groups: Vec<(&str, Vec<crate::event::LogEvent>)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|(table, _)| *table == row.log_table) {
            Some((_, events)) => events.push(row.event.clone()),
            None => groups.push((&row.log_table, vec![row.event.clone()])),
        }
    }
    groups
}
