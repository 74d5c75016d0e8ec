//! Reading log rows back: a [`Select`] on the database history is read
//! from (the audit database, or `default` where FALLBACK_TO_DEFAULT
//! applies), with the table's shape taken into account.

use std::time::Duration;

use crate::backend::{Backend, PoolTask, Select};
use crate::error::classify::{Fault, fault, is_unavailable, is_undefined_table};
use crate::{Error, LogRecord};

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
        let mut attempt = 0;
        let result = loop {
            match self.read_once(index, log_table, select).await {
                // A lock or a busy database (a table being created in
                // another transaction, say): the read can win shortly.
                Err(e) if attempt < READ_RETRIES && lost_a_race(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(10 << (2 * attempt))).await;
                }
                other => break other,
            }
        };
        match result {
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

/// How many times a read that lost a race is tried again (after 40, 160
/// and 640 ms).
const READ_RETRIES: u32 = 3;

/// A lock, a busy database, a timeout or a deadlock: not an outage.
fn lost_a_race(error: &sqlx::Error) -> bool {
    fault(error) == Fault::Transient && !is_unavailable(error)
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
