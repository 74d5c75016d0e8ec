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
use std::sync::Arc;

pub use crate::backend::AuditDatabase;
use crate::backend::Backend;
use crate::error::classify::{Fault, fault};
use crate::event::{LogEvent, prepare, prepare_batch};
use crate::outcome::{BatchOutcome, LogOutcome};
use crate::sink::{OnRefused, Sink, Target, group_by_key};
use crate::transport::Transport;
use crate::triggers;
use crate::{Audited, Auditor, Dialect, Error};

/// The application's sqlx transaction together with the log rows of the
/// changes made in it; see the [module docs](self). Dereferences to the
/// connection, so `query.execute(&mut *tx)` works as with a sqlx transaction.
#[must_use = "an AuditTransaction rolls back, with its log rows, when dropped without `commit`"]
pub struct AuditTransaction<'c, DB: AuditDatabase> {
    sink: Arc<Sink>,
    transport: Arc<Transport>,
    /// The transaction's database, by index among the auditor's.
    index: usize,
    /// Where rows logged inside the transaction go: the log tables when the
    /// audit database is the transaction's, the outbox with the outbox
    /// transport; `None`: they wait for the commit (audit database elsewhere).
    inside: Option<Target>,
    tx: Open<'c, DB>,
    /// Rows to dispatch after commit (audit database elsewhere), in order.
    pending: Vec<(&'static str, LogEvent)>,
    /// Tables first written in this transaction: known to exist once it
    /// commits.
    first_used: Vec<(Target, &'static str)>,
    /// Whether an audit context was handed to the database for the
    /// triggers and must be cleared before the transaction ends.
    context_handed: bool,
}

impl Auditor {
    /// Begins a transaction on the database registered as `alias`, whose
    /// pool must be of kind `DB`. Once the auditor has installed triggers
    /// (or was built with
    /// [`trigger_context`](crate::AuditorBuilder::trigger_context)), it
    /// hands the current audit scope's context to the database, so that
    /// the trigger rows of the transaction record it (see
    /// [`triggers`](crate::triggers#the-context-in-trigger-rows)); its
    /// commit and rollback clear it.
    pub async fn begin<DB: AuditDatabase>(
        &self,
        alias: &str,
    ) -> Result<AuditTransaction<'static, DB>, Error> {
        let index = self.transaction_index::<DB>(alias)?;
        if !self.sink.trigger_context() {
            return self.begin_on::<DB>(index, alias, None).await;
        }
        let ctx = crate::context::current();
        // SQLite's statements run to their end on sqlx's worker thread,
        // dropped or not: a dropped transaction is rolled back with its
        // context row. PostgreSQL outside a scope has nothing to hand over:
        // its `BEGIN` is sqlx's own.
        if DB::Driver::DIALECT == Dialect::Sqlite
            || (ctx.is_none() && DB::Driver::DIALECT == Dialect::Postgres)
        {
            return self.begin_on::<DB>(index, alias, ctx).await;
        }
        // With a context to hand over to a server, the transaction is begun
        // on a task of its own, which the caller awaits. A sqlx statement
        // dropped before its answer was read can leave the connection with
        // the context set (or out of step with the server) when the pool
        // takes it back; a caller dropped halfway (a request that timed out)
        // leaves the task to finish, and the transaction it began is then
        // dropped whole: rolled back, MySQL's variables cleared. (sqlx runs
        // on tokio alone here, so a pool is used inside a tokio runtime and
        // the inline begin is never taken.)
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return self.begin_on::<DB>(index, alias, ctx).await;
        };
        let auditor = self.clone();
        let owned = alias.to_owned();
        let task = runtime.spawn(async move { auditor.begin_on::<DB>(index, &owned, ctx).await });
        match task.await {
            Ok(begun) => begun,
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(Error::from_sqlx(alias, None, sqlx::Error::WorkerCrashed)),
        }
    }

    /// Begins the transaction on the database at `index` and, when the
    /// auditor hands contexts over, hands it `ctx` (none: clears what an
    /// earlier transaction left, on MySQL); with `BEGIN` on PostgreSQL,
    /// which [`begin`](Self::begin) runs on a task of its own that finishes
    /// what it sent.
    async fn begin_on<DB: AuditDatabase>(
        &self,
        index: usize,
        alias: &str,
        ctx: Option<Arc<crate::context::AuditContext>>,
    ) -> Result<AuditTransaction<'static, DB>, Error> {
        let (_, pool) = self.sink.database(index);
        let pool =
            DB::Driver::pool_of(pool).ok_or_else(|| wrong_backend::<DB>(alias, pool.dialect()))?;
        // PostgreSQL takes the context with `BEGIN`, in one round trip: the
        // settings, then `BEGIN`, which makes them the transaction's. Should
        // the settings fail, no transaction is left open.
        let folded = match &ctx {
            Some(ctx) if self.sink.trigger_context() => {
                triggers::begin_with_context::<DB::Driver>(ctx)
            }
            _ => None,
        };
        let folded_begin = folded.is_some();
        let begun = match folded {
            Some(sql) => pool
                .begin_with(sqlx::AssertSqlSafe(sql))
                .await
                .map_err(|source| {
                    // Data the server refuses in it is the settings' values
                    // (a NUL, say); anything else (the connection, the
                    // server going away) is the database's.
                    if fault(&source) == Fault::BadRow {
                        Error::TriggerContext { source }
                    } else {
                        Error::from_sqlx(alias, None, source)
                    }
                }),
            None => pool
                .begin()
                .await
                .map_err(|source| Error::from_sqlx(alias, None, source)),
        };
        let mut tx = AuditTransaction::new(self, index, begun?);
        // Elsewhere the context follows `BEGIN` as a statement of its own,
        // once sqlx holds the transaction, so that a transaction dropped
        // from here on is rolled back (taking SQLite's row with it) and
        // MySQL's variables are cleared.
        if self.sink.trigger_context() && !folded_begin {
            // Armed before the first statement: should handing over fail,
            // the variables are cleared.
            if DB::Driver::DIALECT == Dialect::MySql {
                tx.tx.on_drop = Some(clear_after_drop::<DB>);
            }
            tx.context_handed = triggers::hand_over::<DB::Driver>(tx.tx.get_mut(), ctx.as_deref())
                .await
                .map_err(|source| Error::TriggerContext { source })?;
            if !tx.context_handed {
                tx.tx.on_drop = None;
            }
        }
        Ok(tx)
    }

    /// Wraps a transaction the application already began on the pool it
    /// registered as `alias` (the auditor cannot check that it did). A
    /// context handed to it with [`triggers::set_context`] is cleared by
    /// the wrapper's commit and rollback.
    pub fn transaction<'c, DB: AuditDatabase>(
        &self,
        alias: &str,
        tx: sqlx::Transaction<'c, DB>,
    ) -> Result<AuditTransaction<'c, DB>, Error> {
        let index = self.transaction_index::<DB>(alias)?;
        let mut tx = AuditTransaction::new(self, index, tx);
        // The application may have handed a context over
        // (`triggers::set_context`): cleared before the end all the same.
        tx.context_handed = self.sink.trigger_context() && DB::Driver::DIALECT != Dialect::Postgres;
        Ok(tx)
    }

    /// The index of `alias`, whose pool must be of kind `DB`.
    fn transaction_index<DB: AuditDatabase>(&self, alias: &str) -> Result<usize, Error> {
        let index = self.sink.index_of(alias)?;
        let (_, pool) = self.sink.database(index);
        match DB::Driver::pool_of(pool) {
            Some(_) => Ok(index),
            None => Err(wrong_backend::<DB>(alias, pool.dialect())),
        }
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
    fn new(auditor: &Auditor, index: usize, tx: sqlx::Transaction<'c, DB>) -> Self {
        let inside = match auditor.transport.target() {
            Target::Outbox => Some(Target::Outbox),
            Target::Log if auditor.sink.audit_index() == Some(index) => Some(Target::Log),
            Target::Log => None,
        };
        Self {
            sink: Arc::clone(&auditor.sink),
            transport: Arc::clone(&auditor.transport),
            index,
            inside,
            tx: Open {
                tx: Some(tx),
                on_drop: None,
            },
            pending: Vec::new(),
            first_used: Vec::new(),
            context_handed: false,
        }
    }

    /// Whether log rows are written inside this transaction: the audit
    /// database is this transaction's database, or ASYNC uses the outbox
    /// (which lives in this transaction's database).
    pub fn logs_inside(&self) -> bool {
        self.inside.is_some()
    }

    /// Logs one change made in this transaction; the generated
    /// `M::log_change_in` calls this. Returns `Written` when the row was
    /// written inside the transaction (`Queued` when into the outbox),
    /// `Deferred` when it waits for the commit.
    pub async fn log_change<M: Audited>(
        &mut self,
        before: Option<&M>,
        after: Option<&M>,
    ) -> Result<LogOutcome, Error> {
        self.sink.check_not_captured(M::MODEL)?;
        let event = match prepare(
            self.sink.config(),
            before,
            after,
            self.transport.event_ids(),
        )? {
            Ok(event) => event,
            Err(outcome) => return Ok(outcome),
        };
        let log_table = M::MODEL.log_table();
        let Some(target) = self.inside else {
            self.pending.push((log_table, event));
            return Ok(LogOutcome::Deferred);
        };
        self.write_inside(target, log_table, std::slice::from_ref(&event))
            .await?;
        Ok(match target {
            Target::Outbox => LogOutcome::Queued,
            Target::Log => LogOutcome::Written,
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
        self.sink.check_not_captured(M::MODEL)?;
        let (events, mut outcome) =
            prepare_batch(self.sink.config(), changes, self.transport.event_ids())?;
        if events.is_empty() {
            return Ok(outcome);
        }
        let log_table = M::MODEL.log_table();
        match self.inside {
            Some(target) => {
                self.write_inside(target, log_table, &events).await?;
                match target {
                    Target::Outbox => outcome.queued = events.len(),
                    Target::Log => outcome.written = events.len(),
                }
            }
            None => {
                outcome.deferred = events.len();
                self.pending
                    .extend(events.into_iter().map(|event| (log_table, event)));
            }
        }
        Ok(outcome)
    }

    /// Commits the transaction, then sends the rows that were waiting for
    /// it (when the audit database is another one) through the transport.
    pub async fn commit(self) -> Result<(), Error> {
        let Self {
            sink,
            transport,
            index,
            mut tx,
            pending,
            first_used,
            context_handed,
            ..
        } = self;
        // Cleared inside the transaction: should this fail (or the future
        // be dropped here), the transaction is rolled back, not committed,
        // and one dropped clears what it can on its way out.
        triggers::clear::<DB::Driver>(tx.get_mut(), context_handed)
            .await
            .map_err(|source| Error::TriggerContext { source })?;
        tx.take()
            .commit()
            .await
            .map_err(|source| Error::from_sqlx(sink.database(index).0, None, source))?;
        for (target, log_table) in first_used {
            sink.committed(index, target, log_table);
        }
        // Every table's rows are sent on, even when one table's fail: the
        // first error is returned, later ones are logged (all are counted).
        let mut first_error = None;
        for (log_table, rows) in group_by_key(pending) {
            if let Err(error) = transport.dispatch(&sink, log_table, rows).await {
                if first_error.is_none() {
                    first_error = Some(error);
                } else {
                    tracing::error!(
                        table = log_table,
                        "audit log rows of a committed transaction not written: {error}"
                    );
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Rolls the transaction back; its log rows are discarded with it.
    pub async fn rollback(self) -> Result<(), Error> {
        let Self {
            sink,
            index,
            mut tx,
            context_handed,
            ..
        } = self;
        // MySQL's session variables outlive the transaction: cleared first
        // (PostgreSQL's settings and SQLite's row go with the rollback).
        let cleared = if DB::Driver::DIALECT == Dialect::MySql {
            triggers::clear::<DB::Driver>(tx.get_mut(), context_handed).await
        } else {
            Ok(())
        };
        tx.take()
            .rollback()
            .await
            .map_err(|source| Error::from_sqlx(sink.database(index).0, None, source))?;
        cleared.map_err(|source| Error::TriggerContext { source })
    }

    /// The underlying sqlx transaction.
    pub fn inner(&mut self) -> &mut sqlx::Transaction<'c, DB> {
        self.tx.get_mut()
    }

    /// The underlying sqlx transaction, discarding the log rows waiting for
    /// the commit (rows already written inside the transaction stay in it).
    /// An audit context handed to the database for the triggers stays too:
    /// clear it with [`triggers::clear_context`] before committing.
    pub fn into_inner(self) -> sqlx::Transaction<'c, DB> {
        self.tx.take()
    }

    async fn write_inside(
        &mut self,
        target: Target,
        log_table: &'static str,
        rows: &[LogEvent],
    ) -> Result<(), Error> {
        let sink = &*self.sink;
        let outcome = sink
            .write_in::<DB::Driver>(
                &mut **self.tx.get_mut(),
                self.index,
                target,
                log_table,
                rows,
                OnRefused::Fail,
            )
            .await
            .map_err(|source| {
                Error::from_sqlx(sink.database(self.index).0, Some(log_table), source)
            })?;
        if let Some((bytes, limit)) = outcome.refused.iter().find_map(|r| r.too_large) {
            return Err(Error::RowTooLarge {
                alias: sink.database(self.index).0.to_owned(),
                table: log_table.to_owned(),
                bytes,
                limit,
            });
        }
        if outcome.first_use && !self.first_used.contains(&(target, log_table)) {
            self.first_used.push((target, log_table));
        }
        sink.count_stored(target, rows.len());
        Ok(())
    }
}

impl<DB: AuditDatabase> Deref for AuditTransaction<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        self.tx.get()
    }
}

impl<DB: AuditDatabase> DerefMut for AuditTransaction<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.tx.get_mut()
    }
}

/// The open sqlx transaction of an [`AuditTransaction`], and what to do
/// should it be dropped unfinished while MySQL session variables hold an
/// audit context: they outlive the transaction, and the connection would
/// go back to its pool with them.
struct Open<'c, DB: AuditDatabase> {
    /// Always `Some` while the `AuditTransaction` exists: only
    /// [`take`](Self::take) and `drop`, which end it, take it out.
    tx: Option<sqlx::Transaction<'c, DB>>,
    /// Given the transaction when it is dropped unfinished.
    on_drop: Option<fn(sqlx::Transaction<'c, DB>)>,
}

impl<'c, DB: AuditDatabase> Open<'c, DB> {
    const TAKEN: &'static str = "an AuditTransaction's transaction is taken only when it ends";

    fn get(&self) -> &sqlx::Transaction<'c, DB> {
        self.tx.as_ref().expect(Self::TAKEN)
    }

    fn get_mut(&mut self) -> &mut sqlx::Transaction<'c, DB> {
        self.tx.as_mut().expect(Self::TAKEN)
    }

    /// The transaction, to be finished by the caller.
    fn take(mut self) -> sqlx::Transaction<'c, DB> {
        self.on_drop = None;
        self.tx.take().expect(Self::TAKEN)
    }
}

impl<DB: AuditDatabase> Drop for Open<'_, DB> {
    fn drop(&mut self) {
        if let (Some(on_drop), Some(tx)) = (self.on_drop.take(), self.tx.take()) {
            on_drop(tx);
        }
    }
}

/// Clears the audit context of a transaction dropped unfinished, then
/// rolls it back, on a task of its own: the connection goes back to the
/// pool only after both. Without a tokio runtime (the pool needs one to
/// take the connection back) the transaction is dropped as it is.
fn clear_after_drop<DB: AuditDatabase>(tx: sqlx::Transaction<'static, DB>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!(
            "an audit transaction dropped outside a tokio runtime keeps its context on the connection"
        );
        return;
    };
    runtime.spawn(async move {
        let mut tx = tx;
        if let Err(error) = triggers::clear::<DB::Driver>(&mut tx, true).await {
            // A connection that cannot run the statement is broken: the
            // pool's check when it is given back closes it.
            tracing::warn!("audit context of a dropped transaction not cleared: {error}");
        }
        let _ = tx.rollback().await;
    });
}
