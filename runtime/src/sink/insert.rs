//! Inserting rows in chunks, and creating a missing table on first use:
//! on a pool connection, or inside the caller's open transaction without
//! spoiling it.

use crate::Dialect;
use crate::backend::{Backend, Conn, Pool, PoolTask, TableSql};
use crate::error::classify::{is_lost_create_race, is_undefined_table};
use crate::event::LogEvent;

const SAVEPOINT: &str = "awesome_audit_log_first_use";

/// Inserts rows on a connection of a pool, `chunk` rows per statement;
/// creates the table when the database says it is missing, then retries.
pub(crate) struct InsertRows<'a> {
    pub table: &'a TableSql,
    pub rows: &'a [LogEvent],
    pub chunk: usize,
}

impl PoolTask for InsertRows<'_> {
    type Output = Result<(), sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        for rows in self.rows.chunks(self.chunk.max(1)) {
            match D::insert(&mut conn, self.table, rows).await {
                Err(e) if is_undefined_table(&e) => {
                    create_table::<D>(&mut conn, self.table).await?;
                    D::insert(&mut conn, self.table, rows).await?;
                }
                result => result?,
            }
            self.table.mark_known();
        }
        Ok(())
    }
}

/// Creates a missing table (and its PostgreSQL schema) on a pool
/// connection (not inside a caller's transaction).
struct CreateTable<'a>(&'a TableSql);

impl PoolTask for CreateTable<'_> {
    type Output = Result<(), sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        create_table::<D>(&mut conn, self.0).await
    }
}

/// Runs the table's `CREATE ... IF NOT EXISTS` statements on `conn`.
/// Losing a race with another writer creating the same table is success.
async fn create_table<D: Backend>(conn: &mut Conn<D>, table: &TableSql) -> Result<(), sqlx::Error> {
    for statement in &table.create {
        match D::execute(conn, statement).await {
            Err(e) if is_lost_create_race(&e) => {}
            result => result?,
        }
    }
    tracing::debug!(table = %table.qualified, "created audit log table");
    Ok(())
}

/// Inserts `rows` on `conn`, inside its transaction, `chunk` rows per
/// statement. Until the table is known to exist, a missing table is created
/// without spoiling the transaction: under a savepoint on PostgreSQL (a
/// failed statement aborts the whole transaction there), through `pool` on
/// MySQL (where DDL would commit the caller's transaction), in the
/// transaction on SQLite.
pub(crate) async fn insert_in_transaction<D: Backend>(
    conn: &mut Conn<D>,
    pool: &Pool,
    table: &TableSql,
    rows: &[LogEvent],
    chunk: usize,
) -> Result<(), sqlx::Error> {
    for rows in rows.chunks(chunk.max(1)) {
        if table.is_known() {
            D::insert(conn, table, rows).await?;
        } else {
            first_insert_in_transaction::<D>(conn, pool, table, rows).await?;
        }
    }
    Ok(())
}

async fn first_insert_in_transaction<D: Backend>(
    conn: &mut Conn<D>,
    pool: &Pool,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let savepoint = D::DIALECT == Dialect::Postgres;
    if savepoint {
        D::execute(conn, &format!("SAVEPOINT {SAVEPOINT}")).await?;
    }
    match D::insert(conn, table, rows).await {
        Ok(()) => table.mark_known(),
        Err(e) if is_undefined_table(&e) => {
            if savepoint {
                D::execute(conn, &format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}")).await?;
            }
            match D::DIALECT {
                Dialect::MySql => pool.run(CreateTable(table)).await?,
                Dialect::Postgres | Dialect::Sqlite => {
                    for statement in &table.create {
                        match D::execute(conn, statement).await {
                            Err(e) if savepoint && is_lost_create_race(&e) => {
                                D::execute(conn, &format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
                                    .await?;
                            }
                            result => result?,
                        }
                    }
                }
            }
            D::insert(conn, table, rows).await?;
        }
        Err(e) => return Err(e),
    }
    if savepoint {
        D::execute(conn, &format!("RELEASE SAVEPOINT {SAVEPOINT}")).await?;
    }
    Ok(())
}
