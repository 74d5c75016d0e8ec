//! Reading log rows back: a [`Select`] on the database history is read
//! from (the audit database, or `default` where FALLBACK_TO_DEFAULT
//! applies), with the table's shape taken into account.

use crate::backend::{Backend, PoolTask, Select};
use crate::error::classify::is_undefined_table;
use crate::{Error, LogRecord};

use super::race::retrying;
use super::{Sink, Target};

impl Sink {
    /// The rows of `log_table` that `select` asks for; none when the table
    /// does not exist yet. Rows are untrusted: one that cannot be decoded
    /// is an error naming the table and the column.
    pub(crate) async fn select(
        &self,
        log_table: &str,
        select: &Select,
    ) -> Result<Vec<LogRecord>, Error> {
        let index = self.read_index()?;
        match retrying(|| self.read_once(index, log_table, select)).await {
            Ok(rows) => Ok(rows),
            Err(e) if is_undefined_table(&e) => Ok(Vec::new()),
            Err(sqlx::Error::ColumnDecode { index, source }) => Err(Error::Decode {
                table: log_table.to_owned(),
                message: format!("column `{index}`: {source}"),
            }),
            Err(e) => Err(Error::from_sqlx(self.database(index).0, Some(log_table), e)),
        }
    }

    /// One try: the table's shape (learned once), then the statement.
    async fn read_once(
        &self,
        index: usize,
        log_table: &str,
        select: &Select,
    ) -> Result<Vec<LogRecord>, sqlx::Error> {
        let shape = self.shape(index, log_table).await?;
        // A table that does not exist yet has no rows.
        if !shape.exists {
            return Ok(Vec::new());
        }
        let table = self.table(index, Target::Log, log_table);
        let pool = self.database(index).1;
        let Some((sql, params)) =
            select.sql(pool.dialect(), &table.def.qualified, shape.correlation_id)
        else {
            return Ok(Vec::new());
        };
        pool.run(Read {
            sql: &sql,
            params: &params,
        })
        .await
    }
}

/// Runs one read statement on a pool connection.
struct Read<'a> {
    sql: &'a str,
    params: &'a [crate::backend::Param],
}

impl PoolTask for Read<'_> {
    type Output = Result<Vec<LogRecord>, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        D::select(&mut conn, self.sql, self.params).await
    }
}
