//! The dead-letter table (`awesome_audit_log_dead_letter`) of one database
//! handled from outside the writers: its rows listed in pages and dropped.
//! Filled by the outbox workers and the in-process writer with the rows a
//! log table refused; replaying one is the SQL the operations guide shows.

use awesome_audit_log_codegen::ddl::DEAD_LETTER_TABLE;

use crate::backend::{Backend, DeadLetterRow, PoolTask, QueueSql, SweepStep};
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
    sql: QueueSql,
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
        Self {
            sql: QueueSql::new(
                database.dialect(),
                pg_schema,
                DEAD_LETTER_TABLE,
                "failed_at",
            ),
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
    params: Vec<crate::backend::Param>,
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
            let params = [crate::backend::Param::Int(id)];
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
        let params = [crate::backend::Param::Int(last)];
        D::sweep(&mut conn, SweepStep::Delete, &self.delete, &params).await
    }
}
