//! What waits in a database's queue tables: the outbox's rows not yet
//! moved and the dead-letter table's rows set aside, per log table, with
//! the oldest of each. For a health endpoint, a dashboard or the
//! `awesome-audit-log outbox status` command.

use std::time::Duration;

use chrono::{DateTime, Utc};

use awesome_audit_log_codegen::ddl::{DEAD_LETTER_TABLE, OUTBOX_TABLE};

use crate::backend::{Backend, PoolTask, QueueCount, QueueSql};
use crate::{Database, Error};

/// The outbox and the dead-letter table of one database, read by [`status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutboxStatus {
    /// `awesome_audit_log_outbox`: rows logged and not yet moved into their
    /// log tables (the backlog of the [`OutboxWorker`](super::OutboxWorker)s).
    pub outbox: QueueStatus,
    /// `awesome_audit_log_dead_letter`: rows set aside because their log
    /// table refused them (written by the outbox workers and the
    /// in-process writer), to inspect and replay.
    pub dead_letters: QueueStatus,
}

/// One queue table: whether it exists, its rows in total and per log
/// table, and the oldest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStatus {
    /// The table's name.
    pub table: &'static str,
    /// Whether the table exists (it is made on first use).
    pub exists: bool,
    /// Its rows.
    pub rows: u64,
    /// The oldest row's time: the change's `created_at` in the outbox, its
    /// `failed_at` in the dead-letter table; `None` when there are no rows.
    pub oldest: Option<DateTime<Utc>>,
    /// How long ago [`oldest`](Self::oldest) was when the table was read
    /// (zero if the database's clock is ahead of ours).
    pub oldest_age: Option<Duration>,
    /// The rows per log table, by the table's name.
    pub per_table: Vec<TableQueue>,
}

/// The rows of one log table in a queue table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableQueue {
    /// The log table, as the queue table names it (read back from the
    /// database: shown, never used in SQL).
    pub log_table: String,
    /// How many rows.
    pub rows: u64,
    /// The oldest row's time.
    pub oldest: DateTime<Utc>,
}

impl QueueStatus {
    fn read(table: &'static str, counts: Option<Vec<QueueCount>>, now: DateTime<Utc>) -> Self {
        let exists = counts.is_some();
        let per_table: Vec<TableQueue> = counts
            .unwrap_or_default()
            .into_iter()
            .map(|count| TableQueue {
                log_table: count.log_table,
                rows: count.rows,
                oldest: count.oldest,
            })
            .collect();
        let oldest = per_table.iter().map(|queue| queue.oldest).min();
        Self {
            table,
            exists,
            rows: per_table.iter().map(|queue| queue.rows).sum(),
            oldest,
            oldest_age: oldest.map(|oldest| (now - oldest).to_std().unwrap_or(Duration::ZERO)),
            per_table,
        }
    }
}

/// Reads the outbox and the dead-letter table of `database`, in the
/// PostgreSQL schema `pg_schema` (PG_SCHEMA; ignored on the other
/// databases). A table that does not exist yet reads as empty, with
/// `exists: false`; nothing is created.
///
/// ```
/// use awesome_audit_log::config::AsyncTransport;
/// use awesome_audit_log::{AuditConfig, Auditor, Database, audited, outbox};
///
/// #[audited(table = "widget")]
/// struct Widget { id: i64, qty: i32 }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let database = Database::connect("sqlite::memory:").await?;
/// let status = outbox::status(&database, None).await?;
/// assert!(!status.outbox.exists && status.outbox.rows == 0);
///
/// let mut config = AuditConfig::default();
/// config.async_ = true;
/// config.async_transport = AsyncTransport::Outbox;
/// let auditor = Auditor::builder(config).database("default", database.clone()).build()?;
/// let _ = Widget::log_change(&auditor, None, Some(&Widget { id: 1, qty: 2 })).await?;
/// let _ = Widget::log_change(&auditor, None, Some(&Widget { id: 2, qty: 3 })).await?;
///
/// let status = outbox::status(&database, None).await?;
/// assert_eq!(status.outbox.rows, 2);
/// assert_eq!(status.outbox.per_table[0].log_table, "widget_log");
/// assert!(status.outbox.oldest_age.is_some());
/// assert_eq!(status.dead_letters.rows, 0);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub async fn status(database: &Database, pg_schema: Option<&str>) -> Result<OutboxStatus, Error> {
    let dialect = database.dialect();
    let outbox = QueueSql::new(dialect, pg_schema, OUTBOX_TABLE, "created_at");
    let dead = QueueSql::new(dialect, pg_schema, DEAD_LETTER_TABLE, "failed_at");
    let (outbox_counts, dead_counts) = database
        .0
        .run(ReadCounts(&outbox, &dead))
        .await
        .map_err(|source| Error::from_sqlx(OUTBOX_DATABASE, None, source))?;
    let now = Utc::now();
    Ok(OutboxStatus {
        outbox: QueueStatus::read(OUTBOX_TABLE, outbox_counts, now),
        dead_letters: QueueStatus::read(DEAD_LETTER_TABLE, dead_counts, now),
    })
}

/// How errors name a database that was handed over without an alias.
const OUTBOX_DATABASE: &str = "(outbox database)";

/// Counts both tables on one connection; `None` for a table that does not exist.
struct ReadCounts<'a>(&'a QueueSql, &'a QueueSql);

type Counts = Option<Vec<QueueCount>>;

impl PoolTask for ReadCounts<'_> {
    type Output = Result<(Counts, Counts), sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        let mut counts = [None, None];
        for (sql, slot) in [self.0, self.1].into_iter().zip(&mut counts) {
            if !D::table_columns(&mut conn, &sql.def).await?.is_empty() {
                *slot = Some(D::queue_counts(&mut conn, sql).await?);
            }
        }
        let [outbox, dead] = counts;
        Ok((outbox, dead))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_the_oldest_come_from_the_tables() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let now = at("2026-11-29T05:00:00Z");
        let counts = vec![
            QueueCount {
                log_table: "a_log".to_owned(),
                rows: 3,
                oldest: at("2026-11-29T04:59:00Z"),
            },
            QueueCount {
                log_table: "b_log".to_owned(),
                rows: 2,
                oldest: at("2026-11-29T04:58:30Z"),
            },
        ];
        let status = QueueStatus::read(OUTBOX_TABLE, Some(counts), now);
        assert!(status.exists);
        assert_eq!(status.rows, 5);
        assert_eq!(status.oldest, Some(at("2026-11-29T04:58:30Z")));
        assert_eq!(status.oldest_age, Some(Duration::from_secs(90)));
        assert_eq!(status.per_table.len(), 2);

        let ahead = QueueStatus::read(
            OUTBOX_TABLE,
            Some(vec![QueueCount {
                log_table: "a_log".to_owned(),
                rows: 1,
                oldest: at("2026-11-29T05:00:01Z"),
            }]),
            now,
        );
        assert_eq!(ahead.oldest_age, Some(Duration::ZERO));

        let missing = QueueStatus::read(DEAD_LETTER_TABLE, None, now);
        assert!(!missing.exists);
        assert_eq!((missing.rows, missing.oldest), (0, None));
    }
}
