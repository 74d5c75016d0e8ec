//! Retention on a database of the sink: the columns of a log table (so
//! that only log tables are touched), the number of rows a [`Sweep`]
//! matches, and one batch of deletes. Each statement runs on a pool
//! connection of its own, tried again when it loses a race.

use crate::Error;
use crate::backend::{Backend, Param, PoolTask, Sweep, SweepStep, TableDef};

use super::race::retrying;
use super::{Sink, Target};

impl Sink {
    /// The columns of `log_table` on the database at `index` (in PG_SCHEMA
    /// on PostgreSQL); none when the table does not exist.
    pub(crate) async fn columns(
        &self,
        index: usize,
        log_table: &str,
    ) -> Result<Vec<String>, Error> {
        let table = self.table(index, Target::Log, log_table);
        let (alias, pool) = self.database(index);
        retrying(|| pool.run(Columns(&table.def)))
            .await
            .map_err(|e| Error::from_sqlx(alias, Some(log_table), e))
    }

    /// How many rows of `log_table` on the database at `index` `sweep`
    /// matches now.
    pub(crate) async fn sweep_count(
        &self,
        index: usize,
        log_table: &str,
        sweep: &Sweep,
    ) -> Result<u64, Error> {
        let qualified = &self.table(index, Target::Log, log_table).def.qualified;
        let (sql, params) = sweep.count(self.database(index).1.dialect(), qualified);
        self.run_sweep(index, log_table, SweepStep::Count, &sql, &params)
            .await
    }

    /// Deletes at most `limit` rows of `log_table` on the database at
    /// `index` that `sweep` matches, in one statement; the rows deleted.
    pub(crate) async fn sweep_batch(
        &self,
        index: usize,
        log_table: &str,
        sweep: &Sweep,
        limit: u64,
    ) -> Result<u64, Error> {
        let qualified = &self.table(index, Target::Log, log_table).def.qualified;
        let (sql, params) = sweep.delete(self.database(index).1.dialect(), qualified, limit);
        self.run_sweep(index, log_table, SweepStep::Delete, &sql, &params)
            .await
    }

    async fn run_sweep(
        &self,
        index: usize,
        log_table: &str,
        step: SweepStep,
        sql: &str,
        params: &[Param],
    ) -> Result<u64, Error> {
        let (alias, pool) = self.database(index);
        retrying(|| pool.run(Sweeping { step, sql, params }))
            .await
            .map_err(|e| Error::from_sqlx(alias, Some(log_table), e))
    }
}

/// Reads a table's columns on a pool connection.
struct Columns<'a>(&'a TableDef);

impl PoolTask for Columns<'_> {
    type Output = Result<Vec<String>, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        D::table_columns(&mut conn, self.0).await
    }
}

/// Runs one statement of a sweep on a pool connection.
struct Sweeping<'a> {
    step: SweepStep,
    sql: &'a str,
    params: &'a [Param],
}

impl PoolTask for Sweeping<'_> {
    type Output = Result<u64, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        D::sweep(&mut conn, self.step, self.sql, self.params).await
    }
}
