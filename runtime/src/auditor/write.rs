//! The write path: where rows go (inline, queue, outbox, broker), with
//! the RAISE / FALLBACK handling of an unavailable database, chunked
//! INSERTs, first-use table creation and the per-table SQL cache.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::backend::{Pool, TableSql, is_lost_create_race, is_unavailable, is_undefined_table};
use crate::config::{AsyncTransport, DEFAULT_ALIAS};
use crate::event::{Dispatched, LogEvent};
use crate::writer::Enqueued;
use crate::{Error, ModelInfo};

use super::{Auditor, Transport};

impl Auditor {
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
            Err(source) => Err(Error::from_sqlx(
                &inner.databases[index].0,
                model.log_table(),
                source,
            )),
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
    pub(super) fn fallback_index(&self) -> Option<usize> {
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
    pub(super) async fn write_to(
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
    pub(super) fn with_event_id(&self, mut event: LogEvent) -> LogEvent {
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

    pub(super) fn cached_sql(
        &self,
        index: usize,
        model: &'static ModelInfo,
        outbox: bool,
    ) -> Arc<TableSql> {
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
