//! The dead-letter table (`awesome_audit_log_dead_letter`) of one database
//! handled from outside the writers: its rows listed in pages, moved back
//! to the outbox for the outbox workers to write, and dropped. Filled by
//! the outbox workers and the in-process writer with the rows a log table
//! refused.

use awesome_audit_log_codegen::ddl::DEAD_LETTER_TABLE;

use crate::backend::{
    Backend, DeadLetterRow, OutboxSql, Param, PoolTask, QueueSql, SweepStep, requeue,
};
use crate::error::classify::{Fault, fault};
use crate::sink::{Creation, ensure_table, learn_shape};
use crate::{Database, Error};

/// The dead-letter table of one database (in PG_SCHEMA on PostgreSQL).
///
/// ```
/// use awesome_audit_log::{Database, outbox::DeadLetterTable};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let database = Database::connect("sqlite::memory:").await?;
/// let table = DeadLetterTable::new(&database, None);
/// let page = table.list(20, None).await?;      // no table yet: nothing
/// assert!(page.rows.is_empty() && page.next_after.is_none());
/// assert_eq!(table.drop(&[1]).await?, [(1, false)]);
/// assert_eq!(table.drop_all().await?, 0);
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct DeadLetterTable {
    database: Database,
    schema: Option<String>,
    sql: QueueSql,
}

/// What became of one row of the dead-letter table asked to be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableRetry {
    /// Moved into the outbox (or its event was there already) and deleted
    /// from the dead-letter table.
    Queued,
    /// No such row, or one without an event id (it would not be exactly
    /// once; replay it by hand).
    NotFound,
    /// The outbox refused it; it stays in the dead-letter table.
    Refused(String),
}

/// A page of the dead-letter table, by id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadLetterRows {
    /// The rows.
    pub rows: Vec<DeadLetterRow>,
    /// Where the next page starts (pass it as `after`) when this one is
    /// full: there may be more.
    pub next_after: Option<i64>,
}

/// How errors name a database that was handed over without an alias.
const DATABASE: &str = "(dead-letter database)";

impl DeadLetterTable {
    /// The table of `database`, in `pg_schema` on PostgreSQL.
    pub fn new(database: &Database, pg_schema: Option<&str>) -> Self {
        let dialect = database.dialect();
        Self {
            sql: QueueSql::new(dialect, pg_schema, DEAD_LETTER_TABLE, "failed_at"),
            schema: pg_schema
                .filter(|_| dialect == crate::Dialect::Postgres)
                .map(str::to_owned),
            database: database.clone(),
        }
    }

    async fn run<T: PoolTask<Output = Result<R, sqlx::Error>>, R>(
        &self,
        task: T,
    ) -> Result<R, Error> {
        self.database
            .0
            .run(task)
            .await
            .map_err(|source| Error::from_sqlx(DATABASE, Some(DEAD_LETTER_TABLE), source))
    }

    /// Up to `limit` rows (at least one), oldest first, after the id
    /// `after` if given. A table not made yet has none.
    pub async fn list(&self, limit: usize, after: Option<i64>) -> Result<DeadLetterRows, Error> {
        let limit = limit.max(1);
        let (sql, params) = self.sql.page(
            self.database.dialect(),
            after.unwrap_or(i64::MIN),
            i64::try_from(limit).unwrap_or(i64::MAX),
        );
        let rows = self
            .run(Page {
                table: &self.sql,
                sql,
                params,
            })
            .await?;
        let next_after = (rows.len() == limit)
            .then(|| rows.last().map(|row| row.id))
            .flatten();
        Ok(DeadLetterRows { rows, next_after })
    }

    /// Deletes the rows `ids`; says for each whether it was there.
    pub async fn drop(&self, ids: &[i64]) -> Result<Vec<(i64, bool)>, Error> {
        let sql = self.sql.delete(self.database.dialect(), false);
        let deleted = self
            .run(Delete {
                table: &self.sql,
                sql: &sql,
                ids,
            })
            .await?;
        Ok(ids.iter().copied().zip(deleted).collect())
    }

    /// Moves each row of `ids` back into the outbox of the same database
    /// (made if missing), for the outbox workers to write, deleting it from
    /// the dead-letter table in the same transaction. The workers' insert
    /// skips event ids the log table has, so an event that was written
    /// after all is not written twice; one already in the outbox is not
    /// queued twice. A row the outbox refuses (the reason it was set aside
    /// may still hold, such as a value PostgreSQL's JSON refuses) stays
    /// where it is, with the reason. Rows set aside by the in-process
    /// writer need an [`OutboxWorker`](super::OutboxWorker) on this
    /// database to be written.
    pub async fn retry(&self, ids: &[i64]) -> Result<Vec<(i64, TableRetry)>, Error> {
        let outcomes = self
            .run(Requeue {
                dead: &self.sql,
                outbox: OutboxSql::new(self.database.dialect(), self.schema.as_deref()),
                pool: &self.database.0,
                schema: self.schema.as_deref(),
                ids,
            })
            .await?;
        Ok(ids.iter().copied().zip(outcomes).collect())
    }

    /// Deletes every row there is now (rows set aside while it runs stay);
    /// returns how many.
    pub async fn drop_all(&self) -> Result<u64, Error> {
        let dialect = self.database.dialect();
        self.run(DeleteAll {
            table: &self.sql,
            last: self.sql.last_id(dialect),
            delete: self.sql.delete(dialect, true),
        })
        .await
    }
}

/// Whether the table exists (nothing is ever created here).
async fn exists<D: Backend>(
    conn: &mut crate::backend::Conn<D>,
    table: &QueueSql,
) -> Result<bool, sqlx::Error> {
    Ok(!D::table_columns(conn, &table.def).await?.is_empty())
}

struct Page<'a> {
    table: &'a QueueSql,
    sql: String,
    params: Vec<Param>,
}

impl PoolTask for Page<'_> {
    type Output = Result<Vec<DeadLetterRow>, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        if !exists::<D>(&mut conn, self.table).await? {
            return Ok(Vec::new());
        }
        D::dead_letter_rows(&mut conn, &self.sql, &self.params).await
    }
}

struct Delete<'a> {
    table: &'a QueueSql,
    sql: &'a str,
    ids: &'a [i64],
}

impl PoolTask for Delete<'_> {
    type Output = Result<Vec<bool>, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        if !exists::<D>(&mut conn, self.table).await? {
            return Ok(vec![false; self.ids.len()]);
        }
        let mut deleted = Vec::with_capacity(self.ids.len());
        for &id in self.ids {
            let params = [Param::Int(id)];
            deleted.push(D::sweep(&mut conn, SweepStep::Delete, self.sql, &params).await? > 0);
        }
        Ok(deleted)
    }
}

struct DeleteAll<'a> {
    table: &'a QueueSql,
    last: String,
    delete: String,
}

impl PoolTask for DeleteAll<'_> {
    type Output = Result<u64, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        if !exists::<D>(&mut conn, self.table).await? {
            return Ok(0);
        }
        let last = D::sweep(&mut conn, SweepStep::Count, &self.last, &[]).await?;
        let last = i64::try_from(last).unwrap_or(i64::MAX);
        let params = [Param::Int(last)];
        D::sweep(&mut conn, SweepStep::Delete, &self.delete, &params).await
    }
}

struct Requeue<'a> {
    dead: &'a QueueSql,
    outbox: OutboxSql,
    pool: &'a crate::backend::Pool,
    schema: Option<&'a str>,
    ids: &'a [i64],
}

impl PoolTask for Requeue<'_> {
    type Output = Result<Vec<TableRetry>, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        if !exists::<D>(&mut conn, self.dead).await? {
            return Ok(vec![TableRetry::NotFound; self.ids.len()]);
        }
        let mut outcomes = Vec::with_capacity(self.ids.len());
        for &id in self.ids {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let creation = Creation::InTransaction(self.pool);
            let outbox = ensure_table::<D>(&mut *tx, &self.outbox.def, creation, &[]).await?;
            let dead = learn_shape::<D>(&mut *tx, &self.dead.def).await?;
            let (insert, delete) = requeue(D::DIALECT, self.schema, dead, outbox);
            let params = [Param::Int(id)];
            match D::execute_bound(&mut *tx, &insert, &params).await {
                Err(e) if fault(&e) == Fault::BadRow => {
                    tx.rollback().await?;
                    outcomes.push(TableRetry::Refused(e.to_string()));
                    continue;
                }
                result => result?,
            };
            let deleted = D::execute_bound(&mut *tx, &delete, &params).await?;
            tx.commit().await?;
            outcomes.push(if deleted > 0 {
                TableRetry::Queued
            } else {
                TableRetry::NotFound
            });
        }
        Ok(outcomes)
    }
}
