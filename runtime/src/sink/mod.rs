//! The sink: where log rows land. It holds the databases by alias, picks
//! the audit database (DATABASE_ALIAS), applies RAISE_ERROR_IF_DB_UNAVAILABLE
//! and FALLBACK_TO_DEFAULT, caches each table's SQL, creates tables on first
//! use, writes in chunks of BULK_CHUNK_SIZE rows that fit the database's
//! statement limit, isolates the rows a database refuses (and keeps them in
//! the dead-letter table), and keeps the counters.
//!
//! Every transport and the transaction write through it; it knows nothing
//! of them. It reaches the databases only through [`Pool::run`] and the
//! [`Backend`](crate::backend::Backend) trait.

use std::sync::{Arc, OnceLock};

use crate::backend::{
    Backend, Conn, DeadLetterSql, Pool, PoolTask, TableDef, TableShape, TableSql,
};
use crate::config::{AuditConfig, DEFAULT_ALIAS};
use crate::error::classify::is_unavailable;
use crate::event::LogEvent;
use crate::{Error, ModelInfo};

mod dead_letters;
mod group;
mod insert;
mod race;
mod read;
mod stats;
mod sweep;
mod tables;

pub(crate) use group::group_by_key;
pub(crate) use insert::{
    Creation, InTransactionOutcome, OnRefused, Refused, ensure_table, learn_shape,
};
pub use stats::AuditStats;
pub(crate) use stats::Counters;
pub(crate) use tables::Target;

use insert::{InsertRows, insert_in_transaction};
use tables::TableCache;

/// The databases, the policy for an unavailable one, the table cache and
/// the counters. Shared (`Arc`) by the auditor, its transport, its
/// transactions and its workers.
#[derive(Debug)]
pub(crate) struct Sink {
    config: AuditConfig,
    databases: Vec<(String, Pool)>,
    /// Index of DATABASE_ALIAS in `databases`, if configured.
    audit: Option<usize>,
    /// Index of `default`, if configured.
    default: Option<usize>,
    tables: TableCache,
    /// Per database: its statement size limit, asked on first use.
    limits: Vec<OnceLock<Option<u64>>>,
    /// Per database: its dead-letter table's SQL, built on first use.
    dead_letters: Vec<OnceLock<DeadLetterSql>>,
    stats: Counters,
    /// The labels of the models whose database triggers this auditor
    /// installed (and has not uninstalled since).
    captured: std::sync::Mutex<std::collections::BTreeSet<&'static str>>,
    /// Whether the auditor's transactions hand the audit context to the
    /// database for the model triggers.
    trigger_context: std::sync::atomic::AtomicBool,
}

impl Sink {
    pub(crate) fn new(config: AuditConfig, databases: Vec<(String, Pool)>) -> Self {
        let index_of = |alias: &str| databases.iter().position(|(a, _)| a == alias);
        Self {
            audit: index_of(&config.database_alias),
            default: index_of(DEFAULT_ALIAS),
            tables: TableCache::new(databases.len()),
            limits: databases.iter().map(|_| OnceLock::new()).collect(),
            dead_letters: databases.iter().map(|_| OnceLock::new()).collect(),
            stats: Counters::default(),
            captured: std::sync::Mutex::default(),
            trigger_context: std::sync::atomic::AtomicBool::new(false),
            config,
            databases,
        }
    }

    /// From now on the auditor's transactions hand the audit context to
    /// the database for the model triggers.
    pub(crate) fn enable_trigger_context(&self) {
        self.trigger_context
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the auditor's transactions hand the audit context to the
    /// database ([`enable_trigger_context`](Self::enable_trigger_context)).
    pub(crate) fn trigger_context(&self) -> bool {
        self.trigger_context
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Remembers that the triggers of the model `label` are installed
    /// (`true`) or were removed (`false`) by this auditor.
    pub(crate) fn set_captured(&self, label: &'static str, installed: bool) {
        let mut captured = self
            .captured
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if installed {
            captured.insert(label);
        } else {
            captured.remove(label);
        }
    }

    /// `Error::CapturedByTriggers` when this auditor installed the triggers
    /// of `model`: a `log_change` would log each change a second time.
    pub(crate) fn check_not_captured(&self, model: &ModelInfo) -> Result<(), Error> {
        if model.triggers().is_none() {
            return Ok(());
        }
        let captured = self
            .captured
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if captured.contains(model.label()) {
            return Err(Error::CapturedByTriggers {
                model: model.label(),
            });
        }
        Ok(())
    }

    /// The configuration in force.
    pub(crate) fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// The counters.
    pub(crate) fn stats(&self) -> &Counters {
        &self.stats
    }

    /// The aliases and the dialects of their databases, in order.
    pub(crate) fn aliases(&self) -> impl Iterator<Item = (&str, crate::Dialect)> {
        self.databases
            .iter()
            .map(|(alias, pool)| (alias.as_str(), pool.dialect()))
    }

    /// The index of `alias` among the databases.
    pub(crate) fn index_of(&self, alias: &str) -> Result<usize, Error> {
        self.databases
            .iter()
            .position(|(a, _)| a == alias)
            .ok_or_else(|| Error::UnknownAlias {
                alias: alias.to_owned(),
            })
    }

    /// The index of the audit database (DATABASE_ALIAS), if configured.
    pub(crate) fn audit_index(&self) -> Option<usize> {
        self.audit
    }

    /// The alias and pool at `index`.
    pub(crate) fn database(&self, index: usize) -> (&str, &Pool) {
        let (alias, pool) = &self.databases[index];
        (alias, pool)
    }

    /// The SQL of `log_table` (or of the outbox for its rows) on the
    /// database at `index`.
    pub(crate) fn table(&self, index: usize, target: Target, log_table: &str) -> Arc<TableSql> {
        self.tables.get(index, target, log_table, || {
            let dialect = self.databases[index].1.dialect();
            let schema = self.config.pg_schema.as_deref();
            match target {
                Target::Log => {
                    let partition = crate::registry::models()
                        .into_iter()
                        .find(|model| model.log_table() == log_table)
                        .and_then(|model| model.partition());
                    TableSql::log(dialect, schema, log_table, partition)
                }
                Target::Outbox => TableSql::outbox(dialect, schema, log_table),
            }
        })
    }

    /// Rows per multi-row INSERT on the database at `index`.
    pub(crate) fn chunk_size(&self, index: usize) -> usize {
        self.config
            .bulk_chunk_size
            .unwrap_or_else(|| self.databases[index].1.default_chunk_size())
    }

    /// Counts rows that reached `target`: `written` into the log tables,
    /// `queued` into the outbox (until a worker moves them).
    pub(crate) fn count_stored(&self, target: Target, rows: usize) {
        let counter = match target {
            Target::Log => &self.stats.written,
            Target::Outbox => &self.stats.queued,
        };
        Counters::add(counter, rows);
    }

    /// Writes `rows` of `log_table` to the audit database, falling back or
    /// skipping as configured; returns how many were stored (the rest were
    /// skipped with a counted warning). All or nothing per statement: a
    /// refused row is an error (a row too large for one statement is found
    /// before anything is written).
    pub(crate) async fn write(
        &self,
        target: Target,
        log_table: &str,
        rows: &[LogEvent],
    ) -> Result<usize, Error> {
        let outcome = match self.audit {
            Some(index) => match self
                .write_to(index, target, log_table, rows, OnRefused::Fail)
                .await
            {
                Ok(refused) if refused.is_empty() => Ok(rows.len()),
                Ok(refused) => Err(self.too_large(index, log_table, &refused)),
                Err(e) if is_unavailable(&e) => {
                    self.unavailable(target, log_table, rows, Some(e)).await
                }
                Err(e) => Err(Error::from_sqlx(
                    &self.databases[index].0,
                    Some(log_table),
                    e,
                )),
            },
            None => self.unavailable(target, log_table, rows, None).await,
        };
        match &outcome {
            Ok(stored) => self.count_stored(target, *stored),
            Err(_) => {
                Counters::add(&self.stats.failed, rows.len());
            }
        }
        outcome
    }

    /// The error for rows too large for one statement.
    fn too_large(&self, index: usize, log_table: &str, refused: &[Refused]) -> Error {
        let (bytes, limit) = refused
            .iter()
            .find_map(|refused| refused.too_large)
            .unwrap_or_default();
        Error::RowTooLarge {
            alias: self.databases[index].0.clone(),
            table: log_table.to_owned(),
            bytes,
            limit,
        }
    }

    /// Writes `rows` to the audit database without falling back or
    /// skipping (retrying callers decide what to do with `Unavailable`),
    /// isolating the rows the database refuses; counts what was stored and
    /// returns the refused rows.
    pub(crate) async fn try_write(
        &self,
        target: Target,
        log_table: &str,
        rows: &[LogEvent],
    ) -> Result<Vec<Refused>, Error> {
        let Some(index) = self.audit else {
            return Err(Error::UnknownAlias {
                alias: self.config.database_alias.clone(),
            });
        };
        match self
            .write_to(index, target, log_table, rows, OnRefused::Isolate)
            .await
        {
            Ok(refused) => {
                self.count_stored(target, rows.len() - refused.len());
                Ok(refused)
            }
            Err(source) => Err(Error::from_sqlx(
                &self.databases[index].0,
                Some(log_table),
                source,
            )),
        }
    }

    /// RAISE / FALLBACK for rows the audit database could not take: it is
    /// missing (`cause` None) or down. Returns the rows stored in `default`
    /// (0 when skipped).
    pub(crate) async fn unavailable(
        &self,
        target: Target,
        log_table: &str,
        rows: &[LogEvent],
        cause: Option<sqlx::Error>,
    ) -> Result<usize, Error> {
        let alias = &self.config.database_alias;
        if self.config.raise_error_if_db_unavailable {
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
                table = log_table,
                rows = rows.len(),
                "audit database `{alias}` {reason}; writing to `{DEFAULT_ALIAS}` instead (FALLBACK_TO_DEFAULT)"
            );
            return match self
                .write_to(index, target, log_table, rows, OnRefused::Fail)
                .await
            {
                Ok(refused) if !refused.is_empty() => {
                    Err(self.too_large(index, log_table, &refused))
                }
                Ok(_) => {
                    Counters::add(&self.stats.fallback, rows.len());
                    Ok(rows.len())
                }
                Err(e) if is_unavailable(&e) => Ok(self.skip(
                    log_table,
                    rows.len(),
                    &format!("and `{DEFAULT_ALIAS}` is unavailable too: {e}"),
                )),
                Err(e) => Err(Error::from_sqlx(DEFAULT_ALIAS, Some(log_table), e)),
            };
        }
        Ok(self.skip(
            log_table,
            rows.len(),
            &format!("audit database `{alias}` {reason}"),
        ))
    }

    /// Skips `rows` rows of `log_table` with a counted warning; returns 0
    /// (the rows stored).
    pub(crate) fn skip(&self, log_table: &str, rows: usize, reason: &str) -> usize {
        let total = Counters::add(&self.stats.skipped, rows);
        tracing::warn!(
            table = log_table,
            rows,
            skipped_total = total,
            "audit log rows skipped: {reason} (RAISE_ERROR_IF_DB_UNAVAILABLE is false)"
        );
        0
    }

    /// `default`, when FALLBACK_TO_DEFAULT applies and it is another database.
    fn fallback_index(&self) -> Option<usize> {
        if !self.config.fallback_to_default || self.config.raise_error_if_db_unavailable {
            return None;
        }
        self.default.filter(|&default| Some(default) != self.audit)
    }

    /// The database history is read from: the audit database, or `default`
    /// when the audit alias is missing and FALLBACK applies.
    pub(crate) fn read_index(&self) -> Result<usize, Error> {
        match (self.audit, self.fallback_index()) {
            (Some(index), _) | (None, Some(index)) => Ok(index),
            (None, None) => Err(Error::UnknownAlias {
                alias: self.config.database_alias.clone(),
            }),
        }
    }

    /// Inserts `rows` into `log_table` (or the outbox for it) on the
    /// database at `index`, in runs that fit the database, creating the
    /// table on first use; returns the refused rows (see [`OnRefused`]).
    /// No counting, no fallback.
    pub(crate) async fn write_to(
        &self,
        index: usize,
        target: Target,
        log_table: &str,
        rows: &[LogEvent],
        on_refused: OnRefused,
    ) -> Result<Vec<Refused>, sqlx::Error> {
        let table = self.table(index, target, log_table);
        let insert = InsertRows {
            table: &table,
            rows,
            chunk: self.chunk_size(index),
            limit: &self.limits[index],
            on_refused,
        };
        self.databases[index].1.run(insert).await
    }

    /// Inserts `rows` into `log_table` (or the outbox for it) inside the
    /// caller's transaction on the database at `index` (see
    /// [`insert_in_transaction`]). No counting. When the outcome says
    /// `first_use`, call [`Sink::committed`] with the table once the
    /// transaction has committed.
    pub(crate) async fn write_in<D: Backend>(
        &self,
        conn: &mut Conn<D>,
        index: usize,
        target: Target,
        log_table: &str,
        rows: &[LogEvent],
        on_refused: OnRefused,
    ) -> Result<InTransactionOutcome, sqlx::Error> {
        let table = self.table(index, target, log_table);
        let pool = &self.databases[index].1;
        insert_in_transaction::<D>(
            conn,
            pool,
            &table,
            rows,
            self.chunk_size(index),
            &self.limits[index],
            on_refused,
        )
        .await
    }

    /// Remembers that `log_table` (or the outbox for it) exists on the
    /// database at `index`: a transaction that created or first wrote it
    /// has committed.
    pub(crate) fn committed(&self, index: usize, target: Target, log_table: &str) {
        self.table(index, target, log_table).mark_known();
    }

    /// What `log_table` on the database at `index` has of the columns that
    /// not every log table has (see [`TableShape`]): asked of the database
    /// on first use, on a pool connection, and remembered once the table
    /// exists, for reads and writes alike (a missing table is asked about
    /// again next time). Readers select `event_id` and `correlation_id`
    /// only where the table has them.
    pub(crate) async fn shape(
        &self,
        index: usize,
        log_table: &str,
    ) -> Result<TableShape, sqlx::Error> {
        let table = self.table(index, Target::Log, log_table);
        if let Some(shape) = table.def.shape() {
            return Ok(shape);
        }
        self.databases[index].1.run(LearnShape(&table.def)).await
    }
}

/// Learns a table's shape on a pool connection.
struct LearnShape<'a>(&'a TableDef);

impl PoolTask for LearnShape<'_> {
    type Output = Result<TableShape, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        learn_shape::<D>(&mut conn, self.0).await
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    async fn exec(pool: &sqlx::SqlitePool, sql: &'static str) {
        sqlx::raw_sql(sql).execute(pool).await.unwrap();
    }

    /// The shape is asked of the database until the table exists, then
    /// remembered (a column added later is not seen: one question per
    /// process), and asked again once the table is forgotten.
    #[tokio::test]
    async fn shapes_are_learned_once_the_table_exists() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let sink = Sink::new(
            AuditConfig::default(),
            vec![("default".to_owned(), Pool::Sqlite(pool.clone()))],
        );
        let missing = sink.shape(0, "widget_log").await.unwrap();
        assert!(!missing.exists);

        exec(
            &pool,
            "CREATE TABLE widget_log (id INTEGER PRIMARY KEY, event_id TEXT)",
        )
        .await;
        let earlier = sink.shape(0, "widget_log").await.unwrap();
        assert_eq!(
            (earlier.exists, earlier.event_id, earlier.correlation_id),
            (true, true, false)
        );
        exec(
            &pool,
            "ALTER TABLE widget_log ADD COLUMN correlation_id TEXT",
        )
        .await;
        assert_eq!(sink.shape(0, "widget_log").await.unwrap(), earlier);

        sink.table(0, Target::Log, "widget_log").forget();
        let now = sink.shape(0, "widget_log").await.unwrap();
        assert_eq!(now, TableShape::FULL);
    }
}
