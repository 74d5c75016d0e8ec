//! Inserting rows: in chunks that fit the database's statement limit,
//! learning each table's shape and creating a missing table on first use
//! (on a pool connection, or inside the caller's open transaction without
//! spoiling it), and, where asked, isolating the rows the database refuses
//! so that the rest are written.

use std::ops::Range;
use std::sync::OnceLock;

use crate::Dialect;
use crate::backend::{
    Backend, Conn, Pool, PoolTask, TableDef, TableShape, TableSql, with_event_id,
};
use crate::error::classify::{Fault, fault, is_lost_create_race, is_undefined_table};
use crate::event::LogEvent;

const FIRST_USE: &str = "awesome_audit_log_first_use";
const ATTEMPT: &str = "awesome_audit_log_attempt";

/// What to do with rows the database refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnRefused {
    /// Fail the call: a row too large for one statement is reported before
    /// anything is written; a refused statement is an error.
    Fail,
    /// Write every other row; report the refused ones with the reason.
    Isolate,
}

/// A row the database refused (or would refuse), by its index among the
/// rows given.
#[derive(Debug)]
pub(crate) struct Refused {
    pub index: usize,
    pub reason: String,
    /// The row's estimated size when it is too large for one statement.
    pub too_large: Option<(u64, u64)>,
}

/// The database's statement size limit, asked once per database.
pub(crate) async fn statement_limit<D: Backend>(
    cell: &OnceLock<Option<u64>>,
    conn: &mut Conn<D>,
) -> Result<Option<u64>, sqlx::Error> {
    if let Some(limit) = cell.get() {
        return Ok(*limit);
    }
    let limit = D::max_statement_bytes(conn).await?;
    Ok(*cell.get_or_init(|| limit))
}

/// The rows in runs of at most `max_rows` rows whose estimated size fits
/// `max_bytes`; a row that alone does not fit comes back as refused.
fn plan(
    rows: &[LogEvent],
    max_rows: usize,
    max_bytes: Option<u64>,
) -> (Vec<Range<usize>>, Vec<Refused>) {
    let max_rows = max_rows.max(1);
    let Some(limit) = max_bytes else {
        // No statement limit (PostgreSQL, SQLite): rows alone decide, and
        // the hot path sizes nothing.
        let runs = (0..rows.len())
            .step_by(max_rows)
            .map(|start| start..(start + max_rows).min(rows.len()))
            .collect();
        return (runs, Vec::new());
    };
    let budget = statement_budget(limit);
    let mut runs = Vec::new();
    let mut refused = Vec::new();
    let mut start = 0;
    let mut bytes = 0u64;
    for (index, row) in rows.iter().enumerate() {
        let size = row.estimated_bytes();
        if size > budget {
            if start < index {
                runs.push(start..index);
            }
            refused.push(Refused {
                index,
                reason: format!(
                    "the row needs about {size} bytes, more than the database takes in one statement ({limit} bytes, max_allowed_packet)"
                ),
                too_large: Some((size, limit)),
            });
            start = index + 1;
            bytes = 0;
            continue;
        }
        if index > start && (index - start >= max_rows || bytes + size > budget) {
            runs.push(start..index);
            start = index;
            bytes = 0;
        }
        bytes += size;
    }
    if start < rows.len() {
        runs.push(start..rows.len());
    }
    (runs, refused)
}

/// The bytes of values one statement may carry under the database's
/// `limit`: room is left for the statement text and the protocol's framing.
pub(crate) fn statement_budget(limit: u64) -> u64 {
    limit.saturating_sub(limit / 10).saturating_sub(1024)
}

/// One way of trying an insert: on a pool connection, or under a savepoint
/// of the caller's transaction.
trait Attempt {
    fn insert(&mut self, rows: &[LogEvent])
    -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

/// Inserts each run; with [`OnRefused::Isolate`], a run the database
/// refuses is halved until the refused rows are found, and the rest are
/// written. Transient and permanent errors end the work.
async fn insert_runs<A: Attempt + Send>(
    attempt: &mut A,
    rows: &[LogEvent],
    runs: Vec<Range<usize>>,
    on_refused: OnRefused,
    refused: &mut Vec<Refused>,
) -> Result<(), sqlx::Error> {
    // Runs still to try, the next one last; halves are pushed so that rows
    // keep their order.
    let mut todo: Vec<Range<usize>> = runs.into_iter().rev().collect();
    while let Some(run) = todo.pop() {
        let error = match attempt.insert(&rows[run.clone()]).await {
            Ok(()) => continue,
            Err(error) => error,
        };
        if on_refused == OnRefused::Fail || fault(&error) != Fault::BadRow {
            return Err(error);
        }
        if run.len() == 1 {
            refused.push(Refused {
                index: run.start,
                reason: format!("refused by the database: {error}"),
                too_large: None,
            });
            continue;
        }
        let middle = run.start + run.len() / 2;
        todo.push(middle..run.end);
        todo.push(run.start..middle);
    }
    refused.sort_by_key(|refused| refused.index);
    Ok(())
}

/// Inserts rows on a connection of a pool, in runs that fit the
/// database; creates the table when it is missing.
pub(crate) struct InsertRows<'a> {
    pub table: &'a TableSql,
    pub rows: &'a [LogEvent],
    pub chunk: usize,
    pub limit: &'a OnceLock<Option<u64>>,
    pub on_refused: OnRefused,
}

struct OnPool<'a, D: Backend> {
    conn: &'a mut Conn<D>,
    table: &'a TableSql,
}

impl<D: Backend> Attempt for OnPool<'_, D> {
    async fn insert(&mut self, rows: &[LogEvent]) -> Result<(), sqlx::Error> {
        let on_pool = Creation::OnConnection;
        match insert_into::<D>(self.conn, self.table, on_pool, rows).await {
            Err(e) if is_undefined_table(&e) => {
                // It has gone since its shape was learned: make it again.
                self.table.forget();
                insert_into::<D>(self.conn, self.table, on_pool, rows).await?;
            }
            result => result?,
        }
        self.table.mark_known();
        Ok(())
    }
}

/// Inserts `rows` into `table` with the columns it has: its shape is
/// learned (and the table created, when missing) on first use.
async fn insert_into<D: Backend>(
    conn: &mut Conn<D>,
    table: &TableSql,
    creation: Creation<'_>,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    let shape = ensure_table::<D>(conn, &table.def, creation, rows).await?;
    D::insert(conn, table, shape, rows).await
}

/// Where a missing table is created: on the connection itself (a pool
/// connection), or for a connection inside the caller's transaction (see
/// [`create_in_transaction`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Creation<'a> {
    /// On the connection, which is not in a transaction.
    OnConnection,
    /// For a connection in a transaction of this pool.
    InTransaction(&'a Pool),
}

/// The shape of `table`: remembered, or asked of the database on `conn`
/// (and remembered if the table exists). Asks nothing once it is known.
pub(crate) async fn learn_shape<D: Backend>(
    conn: &mut Conn<D>,
    table: &TableDef,
) -> Result<TableShape, sqlx::Error> {
    if let Some(shape) = table.shape() {
        return Ok(shape);
    }
    let shape = TableShape::of(&D::table_columns(conn, table).await?);
    table.remember(shape);
    Ok(shape)
}

/// The shape of `table`, which is created first when it is missing (as
/// `creation` says): learned on first use, after which the hot path asks
/// nothing. When rows with event ids meet a table without the `event_id`
/// column (one the Django original created), a warning says that they
/// are written without them.
pub(crate) async fn ensure_table<D: Backend>(
    conn: &mut Conn<D>,
    table: &TableDef,
    creation: Creation<'_>,
    rows: &[LogEvent],
) -> Result<TableShape, sqlx::Error> {
    if let Some(shape) = table.shape() {
        return Ok(shape);
    }
    let mut shape = learn_shape::<D>(conn, table).await?;
    if !shape.exists {
        match creation {
            Creation::OnConnection => create_table::<D>(conn, &table.create).await?,
            Creation::InTransaction(pool) => {
                create_in_transaction::<D>(conn, pool, &table.create).await?;
            }
        }
        shape = learn_shape::<D>(conn, table).await?;
    }
    if shape.exists && !shape.event_id && with_event_id(rows) {
        tracing::warn!(
            table = %table.name,
            "audit log table `{}` has no `event_id` column: rows of the ASYNC transports are written without their event ids, so a redelivered row can be written twice; add the column to make delivery exactly-once",
            table.name
        );
    }
    // Just created, yet not in the catalog: it is the table we created.
    Ok(if shape.exists {
        shape
    } else {
        TableShape::FULL
    })
}

impl PoolTask for InsertRows<'_> {
    type Output = Result<Vec<Refused>, sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        let limit = statement_limit::<D>(self.limit, &mut conn).await?;
        let (runs, mut refused) = plan(self.rows, self.chunk, limit);
        if self.on_refused == OnRefused::Fail && !refused.is_empty() {
            return Ok(refused);
        }
        let mut attempt = OnPool::<D> {
            conn: &mut conn,
            table: self.table,
        };
        insert_runs(&mut attempt, self.rows, runs, self.on_refused, &mut refused).await?;
        Ok(refused)
    }
}

/// Runs `statements` (`CREATE ... IF NOT EXISTS`) on `conn`. Losing a race
/// with another writer creating the same table is success.
pub(crate) async fn create_table<D: Backend>(
    conn: &mut Conn<D>,
    statements: &[String],
) -> Result<(), sqlx::Error> {
    for statement in statements {
        match D::execute(conn, statement).await {
            Err(e) if is_lost_create_race(&e) => {}
            result => result?,
        }
    }
    tracing::debug!(statement = ?statements.last(), "created audit table");
    Ok(())
}

/// Creates a table while `conn` is inside the caller's transaction,
/// without spoiling it: under a savepoint on PostgreSQL (a failed statement
/// aborts the whole transaction there), on a connection of its own outside
/// the pool on MySQL (DDL would commit the caller's transaction, and a
/// connection from the pool could wait for ever behind the callers'
/// transactions), in the transaction on SQLite.
pub(crate) async fn create_in_transaction<D: Backend>(
    conn: &mut Conn<D>,
    pool: &Pool,
    statements: &[String],
) -> Result<(), sqlx::Error> {
    match D::DIALECT {
        Dialect::MySql => {
            use sqlx::{ConnectOptions as _, Connection as _};
            let pool = D::pool_of(pool).ok_or_else(|| {
                sqlx::Error::Configuration("the pool is not of the transaction's kind".into())
            })?;
            let mut own = pool.connect_options().connect().await?;
            let created = create_table::<D>(&mut own, statements).await;
            let _ = own.close().await;
            created
        }
        Dialect::Postgres => {
            for statement in statements {
                D::execute(conn, &format!("SAVEPOINT {FIRST_USE}")).await?;
                match D::execute(conn, statement).await {
                    Err(e) if is_lost_create_race(&e) => {
                        D::execute(conn, &format!("ROLLBACK TO SAVEPOINT {FIRST_USE}")).await?;
                    }
                    result => result?,
                }
                D::execute(conn, &format!("RELEASE SAVEPOINT {FIRST_USE}")).await?;
            }
            Ok(())
        }
        Dialect::Sqlite => create_table::<D>(conn, statements).await,
    }
}

/// Under a savepoint of the caller's transaction: a refused statement is
/// rolled back to it, and the transaction goes on.
struct InTransaction<'a, D: Backend> {
    conn: &'a mut Conn<D>,
    pool: &'a Pool,
    table: &'a TableSql,
    savepoint: bool,
}

impl<D: Backend> Attempt for InTransaction<'_, D> {
    async fn insert(&mut self, rows: &[LogEvent]) -> Result<(), sqlx::Error> {
        let in_transaction = Creation::InTransaction(self.pool);
        if !self.savepoint {
            let result = insert_into::<D>(self.conn, self.table, in_transaction, rows).await;
            // A table that has gone: MySQL and SQLite roll back only the
            // statement, so it can be created again here; PostgreSQL has
            // aborted the transaction (the caller gets the error).
            if matches!(&result, Err(e) if is_undefined_table(e)) && D::DIALECT != Dialect::Postgres
            {
                self.table.forget();
                return insert_into::<D>(self.conn, self.table, in_transaction, rows).await;
            }
            return result;
        }
        D::execute(self.conn, &format!("SAVEPOINT {ATTEMPT}")).await?;
        // The shape is learned (and the table created) under the savepoint
        // too: nothing of first use can spoil the caller's transaction.
        let mut result = insert_into::<D>(self.conn, self.table, in_transaction, rows).await;
        if matches!(&result, Err(e) if is_undefined_table(e)) {
            D::execute(self.conn, &format!("ROLLBACK TO SAVEPOINT {ATTEMPT}")).await?;
            self.table.forget();
            result = insert_into::<D>(self.conn, self.table, in_transaction, rows).await;
        }
        match result {
            Ok(()) => {
                D::execute(self.conn, &format!("RELEASE SAVEPOINT {ATTEMPT}")).await?;
                Ok(())
            }
            Err(error) => {
                // Leave the transaction usable; the error says what happened.
                D::execute(self.conn, &format!("ROLLBACK TO SAVEPOINT {ATTEMPT}")).await?;
                D::execute(self.conn, &format!("RELEASE SAVEPOINT {ATTEMPT}")).await?;
                Err(error)
            }
        }
    }
}

/// What an insert inside a transaction did.
#[derive(Debug, Default)]
pub(crate) struct InTransactionOutcome {
    /// Rows refused (with [`OnRefused::Isolate`]; with `Fail`, rows too
    /// large for one statement, and then nothing was written).
    pub refused: Vec<Refused>,
    /// Whether the table was not known to exist before: it is, once the
    /// transaction commits (not before: it may roll back).
    pub first_use: bool,
}

/// Inserts `rows` on `conn`, inside its transaction, in runs that fit the
/// database. Until the table is known to exist, and whenever rows are to be
/// isolated, each statement runs under a savepoint, and a missing table is
/// created with [`create_in_transaction`]. A table the cache knew but that
/// has gone (renamed, dropped) is forgotten, shape included, so the next
/// call recreates it.
pub(crate) async fn insert_in_transaction<D: Backend>(
    conn: &mut Conn<D>,
    pool: &Pool,
    table: &TableSql,
    rows: &[LogEvent],
    chunk: usize,
    limit: &OnceLock<Option<u64>>,
    on_refused: OnRefused,
) -> Result<InTransactionOutcome, sqlx::Error> {
    let limit = statement_limit::<D>(limit, conn).await?;
    let (runs, mut refused) = plan(rows, chunk, limit);
    let first_use = !table.is_known();
    if on_refused == OnRefused::Fail && !refused.is_empty() {
        return Ok(InTransactionOutcome { refused, first_use });
    }
    let mut attempt = InTransaction::<D> {
        conn,
        pool,
        table,
        savepoint: first_use || on_refused == OnRefused::Isolate,
    };
    let result = insert_runs(&mut attempt, rows, runs, on_refused, &mut refused).await;
    if let Err(e) = &result
        && is_undefined_table(e)
    {
        table.forget();
    }
    result?;
    Ok(InTransactionOutcome { refused, first_use })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;
    use crate::event::now;

    fn row(bytes: usize) -> LogEvent {
        LogEvent {
            action: Action::Insert,
            object_pk: "1".to_owned(),
            before: None,
            after: Some("x".repeat(bytes)),
            changes: None,
            context: None,
            created_at: now(),
            event_id: None,
        }
    }

    #[test]
    fn runs_respect_rows_and_bytes_and_set_aside_rows_too_large() {
        let rows: Vec<LogEvent> = [10, 10, 10, 10, 10].map(row).into();
        assert_eq!(plan(&rows, 2, None).0, vec![0..2, 2..4, 4..5]);
        let small = rows[0].estimated_bytes();
        // A budget (limit less a tenth and 1 KiB) that holds two rows.
        let limit = ((2 * small + 1024) as f64 / 0.9).ceil() as u64 + 1;
        let (runs, refused) = plan(&rows, 500, Some(limit));
        assert_eq!(runs, vec![0..2, 2..4, 4..5]);
        assert!(refused.is_empty());

        let rows: Vec<LogEvent> = [10, 100_000, 10, 10].map(row).into();
        let (runs, refused) = plan(&rows, 500, Some(50_000));
        assert_eq!(runs, vec![0..1, 2..4]);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].index, 1);
        assert!(refused[0].too_large.is_some());
        assert!(refused[0].reason.contains("max_allowed_packet"));
    }
}
