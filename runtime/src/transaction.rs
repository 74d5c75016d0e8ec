//! Logging inside the caller's database transaction.
//!
//! [`Auditor::begin`] (or [`Auditor::transaction`] for a transaction the
//! application already opened) gives an [`AuditTransaction`]: the
//! application's sqlx transaction plus the log rows of the changes made in it.
//!
//! - When the audit database (DATABASE_ALIAS) is the transaction's database,
//!   each log row is written inside the transaction: commit keeps change and
//!   log together, rollback removes both. No committed change lacks its row.
//! - When the audit database is another one, the rows wait in memory and are
//!   written after [`AuditTransaction::commit`] succeeds; a rollback (or
//!   dropping the transaction) discards them, so a rolled-back change is
//!   never logged. A failure to write them after the commit is reported as
//!   configured (an error, or a counted warning).
//!
//! ```
//! use awesome_audit_log::{AuditConfig, Auditor, Database, audited};
//!
//! #[audited(table = "widget")]
//! #[derive(Clone)]
//! struct Widget { id: i64, qty: i32 }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
//! sqlx::query("CREATE TABLE widget (id INTEGER PRIMARY KEY, qty INTEGER)").execute(&pool).await?;
//! let auditor = Auditor::builder(AuditConfig::default()).database("default", pool.clone()).build()?;
//!
//! let w = Widget { id: 1, qty: 2 };
//! let mut tx = auditor.begin::<sqlx::Sqlite>("default").await?;
//! sqlx::query("INSERT INTO widget (id, qty) VALUES (?, ?)").bind(w.id).bind(w.qty).execute(&mut *tx).await?;
//! Widget::log_change_in(&mut tx, None, Some(&w)).await?;
//! tx.rollback().await?;   // neither the widget nor its log row exists now
//!
//! assert!(WidgetLog::for_object(&auditor, &1).await?.is_empty());
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::ops::{Deref, DerefMut};

use crate::auditor::{Transport, create_table};
use crate::backend::{Backend, TableSql, is_lost_create_race, is_undefined_table};
use crate::event::{BatchOutcome, LogEvent, LogOutcome};
use crate::{Audited, Auditor, Dialect, Error, ModelInfo};

/// A database the auditor can log into inside a transaction:
/// `sqlx::Sqlite`, `sqlx::Postgres` or `sqlx::MySql` (per enabled feature).
pub trait AuditDatabase: sqlx::Database {
    /// How the audit log writes to this database (an implementation detail).
    #[doc(hidden)]
    type Driver: Backend<Db = Self>;
}

/// The application's sqlx transaction together with the log rows of the
/// changes made in it; see the [module docs](self). Dereferences to the
/// connection, so `query.execute(&mut *tx)` works as with a sqlx transaction.
pub struct AuditTransaction<'c, DB: AuditDatabase> {
    auditor: Auditor,
    /// The alias of the transaction's database.
    index: usize,
    /// Whether the audit database is the transaction's.
    same_database: bool,
    tx: sqlx::Transaction<'c, DB>,
    /// Rows to write after commit (audit database elsewhere), in order.
    pending: Vec<(&'static ModelInfo, LogEvent)>,
}

const SAVEPOINT: &str = "awesome_audit_log_first_use";

impl Auditor {
    /// Begins a transaction on the database registered as `alias`, whose
    /// pool must be of kind `DB`.
    pub async fn begin<DB: AuditDatabase>(
        &self,
        alias: &str,
    ) -> Result<AuditTransaction<'static, DB>, Error> {
        let index = self.index_of(alias).ok_or_else(|| Error::UnknownAlias {
            alias: alias.to_owned(),
        })?;
        let (_, pool) = self.database_at(index);
        let pool =
            DB::Driver::pool_of(pool).ok_or_else(|| wrong_backend::<DB>(alias, pool.dialect()))?;
        let tx = pool
            .begin()
            .await
            .map_err(|source| Error::from_sqlx(alias, "", source))?;
        Ok(AuditTransaction::new(self.clone(), index, tx))
    }

    /// Wraps a transaction the application already began on the pool it
    /// registered as `alias` (the auditor cannot check that it did).
    pub fn transaction<'c, DB: AuditDatabase>(
        &self,
        alias: &str,
        tx: sqlx::Transaction<'c, DB>,
    ) -> Result<AuditTransaction<'c, DB>, Error> {
        let index = self.index_of(alias).ok_or_else(|| Error::UnknownAlias {
            alias: alias.to_owned(),
        })?;
        let (_, pool) = self.database_at(index);
        if DB::Driver::pool_of(pool).is_none() {
            return Err(wrong_backend::<DB>(alias, pool.dialect()));
        }
        Ok(AuditTransaction::new(self.clone(), index, tx))
    }
}

fn wrong_backend<DB: AuditDatabase>(alias: &str, actual: Dialect) -> Error {
    Error::WrongBackend {
        alias: alias.to_owned(),
        expected: DB::Driver::DIALECT,
        actual,
    }
}

impl<'c, DB: AuditDatabase> AuditTransaction<'c, DB> {
    fn new(auditor: Auditor, index: usize, tx: sqlx::Transaction<'c, DB>) -> Self {
        let same_database = auditor.audit_index() == Some(index);
        Self {
            auditor,
            index,
            same_database,
            tx,
            pending: Vec::new(),
        }
    }

    /// Whether log rows are written inside this transaction: the audit
    /// database is this transaction's database, or ASYNC uses the outbox
    /// (which lives in this transaction's database).
    pub fn logs_inside(&self) -> bool {
        self.same_database || self.auditor.transport() == Transport::Outbox
    }

    /// Logs one change made in this transaction; the generated
    /// `M::log_change_in` calls this. Returns `Written` when the row was
    /// written inside the transaction, `Deferred` when it waits for the commit.
    pub async fn log_change<M: Audited>(
        &mut self,
        before: Option<&M>,
        after: Option<&M>,
    ) -> Result<LogOutcome, Error> {
        let event = match self.auditor.prepare(before, after)? {
            Ok(event) => event,
            Err(outcome) => return Ok(outcome),
        };
        if !self.logs_inside() {
            self.pending.push((M::MODEL, event));
            return Ok(LogOutcome::Deferred);
        }
        self.write_inside(M::MODEL, std::slice::from_ref(&event))
            .await?;
        Ok(match self.auditor.transport() {
            Transport::Outbox => LogOutcome::Queued,
            Transport::Direct => LogOutcome::Written,
        })
    }

    /// Logs many changes made in this transaction, in multi-row INSERTs;
    /// the generated `M::log_changes_in` calls this.
    pub async fn log_changes<'a, M: Audited, I>(
        &mut self,
        changes: I,
    ) -> Result<BatchOutcome, Error>
    where
        I: IntoIterator<Item = (Option<&'a M>, Option<&'a M>)>,
    {
        let (events, mut outcome) = self.auditor.prepare_batch(changes)?;
        if events.is_empty() {
            return Ok(outcome);
        }
        if self.logs_inside() {
            self.write_inside(M::MODEL, &events).await?;
            match self.auditor.transport() {
                Transport::Outbox => outcome.queued = events.len(),
                Transport::Direct => outcome.written = events.len(),
            }
        } else {
            outcome.deferred = events.len();
            self.pending
                .extend(events.into_iter().map(|event| (M::MODEL, event)));
        }
        Ok(outcome)
    }

    /// Commits the transaction, then writes the rows that were waiting for
    /// it (when the audit database is another one).
    pub async fn commit(self) -> Result<(), Error> {
        let Self {
            auditor,
            index,
            tx,
            pending,
            ..
        } = self;
        tx.commit()
            .await
            .map_err(|source| tx_error(&auditor, index, source))?;
        let mut rest = &pending[..];
        while let Some((model, _)) = rest.first() {
            let run = rest
                .iter()
                .position(|(m, _)| !std::ptr::eq(*m, *model))
                .unwrap_or(rest.len());
            let rows: Vec<LogEvent> = rest[..run].iter().map(|(_, e)| e.clone()).collect();
            auditor.dispatch(model, rows).await?;
            rest = &rest[run..];
        }
        Ok(())
    }

    /// Rolls the transaction back; its log rows are discarded with it.
    pub async fn rollback(self) -> Result<(), Error> {
        let Self {
            auditor, index, tx, ..
        } = self;
        tx.rollback()
            .await
            .map_err(|source| tx_error(&auditor, index, source))
    }

    /// The underlying sqlx transaction.
    pub fn inner(&mut self) -> &mut sqlx::Transaction<'c, DB> {
        &mut self.tx
    }

    /// The underlying sqlx transaction, discarding the log rows waiting for
    /// the commit (rows already written inside the transaction stay in it).
    pub fn into_inner(self) -> sqlx::Transaction<'c, DB> {
        self.tx
    }

    async fn write_inside(
        &mut self,
        model: &'static ModelInfo,
        rows: &[LogEvent],
    ) -> Result<(), Error> {
        let table = match self.auditor.transport() {
            Transport::Outbox => self.auditor.outbox_sql(self.index, model),
            Transport::Direct => self.auditor.table_sql(self.index, model),
        };
        let chunk_size = self
            .auditor
            .chunk_size(self.auditor.database_at(self.index).1);
        for chunk in rows.chunks(chunk_size) {
            if let Err(source) = self.insert_chunk(&table, chunk).await {
                let (alias, _) = self.auditor.database_at(self.index);
                return Err(self.auditor.db_error(alias, model, source));
            }
        }
        self.auditor.count_written(rows.len());
        Ok(())
    }

    /// Inserts on the transaction's connection (see [`insert_in_transaction`]).
    async fn insert_chunk(
        &mut self,
        table: &TableSql,
        rows: &[LogEvent],
    ) -> Result<(), sqlx::Error> {
        let (_, pool) = self.auditor.database_at(self.index);
        insert_in_transaction::<DB::Driver>(&mut self.tx, pool, table, rows).await
    }
}

/// Inserts `rows` on `conn`, inside its transaction. Until the table is
/// known to exist, a missing table is created without spoiling the
/// transaction: under a savepoint on PostgreSQL (a failed statement aborts
/// the whole transaction there), through `pool` on MySQL (where DDL would
/// commit the caller's transaction), in the transaction on SQLite.
pub(crate) async fn insert_in_transaction<D: Backend>(
    conn: &mut <D::Db as sqlx::Database>::Connection,
    pool: &crate::backend::Pool,
    table: &TableSql,
    rows: &[LogEvent],
) -> Result<(), sqlx::Error> {
    if table.is_known() {
        return D::insert(conn, table, rows).await;
    }
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
                Dialect::MySql => create_table(pool, table).await?,
                Dialect::Postgres | Dialect::Sqlite => {
                    for statement in table.create_schema.iter().chain([&table.create_table]) {
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

fn tx_error(auditor: &Auditor, index: usize, source: sqlx::Error) -> Error {
    let (alias, _) = auditor.database_at(index);
    Error::Database {
        alias: alias.to_owned(),
        table: "",
        source,
    }
}

impl<DB: AuditDatabase> Deref for AuditTransaction<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: AuditDatabase> DerefMut for AuditTransaction<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}
