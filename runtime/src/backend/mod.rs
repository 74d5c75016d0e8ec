//! The bottom of the write path: one code path per kind of database behind
//! the [`Backend`] trait. `sqlx::Any` cannot carry JSON or chrono values,
//! so each backend binds and reads its own types.
//!
//! The layers above never name a driver: they hold a [`Pool`] and hand it a
//! [`PoolTask`], which [`Pool::run`] runs with the pool's driver, or they
//! are generic over [`AuditDatabase::Driver`] for the caller's open
//! transactions. This layer knows log rows ([`LogEvent`], [`LogRecord`])
//! and table SQL ([`TableSql`]), and nothing of aliases, transports,
//! transactions or the audit context.

use std::future::Future;

use chrono::{DateTime, Utc};

use crate::event::LogEvent;
use crate::{Dialect, LogRecord};

mod bind;
mod dead_letter;
mod decode;
mod fit;
mod json_text;
pub(crate) mod partitions;
mod queue;
mod select;
mod sweep;
mod table;

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub(crate) use bind::with_event_id;
pub(crate) use dead_letter::{DeadLetter, DeadLetterSql, requeue};
pub(crate) use decode::{OutboxContent, OutboxRow};
pub(crate) use fit::fit_column;
pub(crate) use queue::QueueSql;
pub use queue::{DeadLetterRow, QueueCount};
pub use select::Param;
pub(crate) use select::{Order, Position, Select, UpTo};
pub(crate) use sweep::{Sweep, SweepStep};
pub(crate) use table::{OutboxSql, TableDef, TableShape, TableSql};

/// A connection pool of one of the supported databases.
#[derive(Debug, Clone)]
pub enum Pool {
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    /// MySQL / MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// No backend feature is enabled, so no pool can exist.
    #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
    None(std::convert::Infallible),
}

/// A connection of backend `D`'s database.
pub(crate) type Conn<D> = <<D as Backend>::Db as sqlx::Database>::Connection;

/// A database the auditor can log into inside a transaction:
/// `sqlx::Sqlite`, `sqlx::Postgres` or `sqlx::MySql` (per enabled feature).
pub trait AuditDatabase: sqlx::Database {
    /// How the audit log writes to this database (an implementation detail).
    #[doc(hidden)]
    type Driver: Backend<Db = Self>;
}

/// What the write path needs of one kind of database, on a connection of a
/// pool or of the caller's open transaction alike. Implemented by one
/// driver type per enabled database, named by [`AuditDatabase::Driver`],
/// so that none of these functions is in scope on the sqlx types themselves.
pub trait Backend: Send + Sync + 'static {
    /// The sqlx database.
    type Db: sqlx::Database;

    /// The dialect of this database.
    const DIALECT: Dialect;

    /// The pool, if `pool` is of this kind.
    fn pool_of(pool: &Pool) -> Option<&sqlx::Pool<Self::Db>>;

    /// Inserts `rows` into `table`, whose shape is `shape`, with one
    /// statement.
    #[doc(hidden)]
    fn insert<'c>(
        conn: &'c mut Conn<Self>,
        table: &'c TableSql,
        shape: TableShape,
        rows: &'c [LogEvent],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// The names of the columns of `table`; none when it does not exist.
    /// It cannot fail because the table is missing, so it may run inside
    /// the caller's transaction (on PostgreSQL a failed statement would
    /// abort it).
    #[doc(hidden)]
    fn table_columns<'c>(
        conn: &'c mut Conn<Self>,
        table: &'c TableDef,
    ) -> impl Future<Output = Result<Vec<String>, sqlx::Error>> + Send + 'c;

    /// Runs one statement that returns no rows (DDL, savepoints).
    #[doc(hidden)]
    fn execute<'c>(
        conn: &'c mut Conn<Self>,
        sql: &'c str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// The log rows a read statement ([`Select::sql`]) returns.
    #[doc(hidden)]
    fn select<'c>(
        conn: &'c mut Conn<Self>,
        sql: &'c str,
        params: &'c [Param],
    ) -> impl Future<Output = Result<Vec<LogRecord>, sqlx::Error>> + Send + 'c;

    /// Runs one statement of a retention run: the number a count
    /// ([`Sweep::count`]) returns, or the rows a batch ([`Sweep::delete`])
    /// deleted, as a transaction of its own. On MySQL a batch reads
    /// committed rows, so that it locks only the rows it deletes, never the
    /// gaps writers insert into.
    #[doc(hidden)]
    fn sweep<'c>(
        conn: &'c mut Conn<Self>,
        step: SweepStep,
        sql: &'c str,
        params: &'c [Param],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// The oldest `limit` rows of an outbox of `shape`, locked for this
    /// transaction where the database can lock rows so that workers share
    /// the work.
    #[doc(hidden)]
    fn fetch_outbox<'c>(
        conn: &'c mut Conn<Self>,
        outbox: &'c OutboxSql,
        shape: TableShape,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, sqlx::Error>> + Send + 'c;

    /// Deletes the outbox rows `ids`.
    #[doc(hidden)]
    fn delete_outbox<'c>(
        conn: &'c mut Conn<Self>,
        outbox: &'c OutboxSql,
        ids: &'c [i64],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// Inserts rows into the dead-letter table, whose shape is `shape`,
    /// failed at `failed_at`.
    #[doc(hidden)]
    fn insert_dead_letters<'c>(
        conn: &'c mut Conn<Self>,
        sql: &'c DeadLetterSql,
        shape: TableShape,
        rows: &'c [DeadLetter<'c>],
        failed_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// Copies the outbox row `outbox_id` into the dead-letter table with
    /// `copy` ([`DeadLetterSql::copy_from_outbox`]).
    #[doc(hidden)]
    fn copy_to_dead_letters<'c>(
        conn: &'c mut Conn<Self>,
        copy: &'c str,
        outbox_id: i64,
        reason: &'c str,
        failed_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// The rows of a queue table per log table ([`QueueSql::counts`]).
    #[doc(hidden)]
    fn queue_counts<'c>(
        conn: &'c mut Conn<Self>,
        sql: &'c QueueSql,
    ) -> impl Future<Output = Result<Vec<QueueCount>, sqlx::Error>> + Send + 'c;

    /// Runs one statement with `params`; returns the rows it affected.
    #[doc(hidden)]
    fn execute_bound<'c>(
        conn: &'c mut Conn<Self>,
        sql: &'c str,
        params: &'c [Param],
    ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send + 'c;

    /// The rows of a page of the dead-letter table ([`QueueSql::page`]).
    #[doc(hidden)]
    fn dead_letter_rows<'c>(
        conn: &'c mut Conn<Self>,
        sql: &'c str,
        params: &'c [Param],
    ) -> impl Future<Output = Result<Vec<DeadLetterRow>, sqlx::Error>> + Send + 'c;

    /// The largest statement the server takes, if it has such a limit
    /// (MySQL's `max_allowed_packet`: a larger one drops the connection).
    #[doc(hidden)]
    fn max_statement_bytes<'c>(
        conn: &'c mut Conn<Self>,
    ) -> impl Future<Output = Result<Option<u64>, sqlx::Error>> + Send + 'c;
}

/// Work to run on a pool with its backend: the one way the layers above
/// reach a driver (see [`Pool::run`]).
pub(crate) trait PoolTask {
    /// What the work returns.
    type Output;

    /// Runs the work on `pool`, whose backend is `D`.
    fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>)
    -> impl Future<Output = Self::Output> + Send;
}

impl Pool {
    /// Runs `task` with this pool's backend: the one dispatch from a pool to
    /// its driver.
    pub(crate) async fn run<T: PoolTask>(&self, task: T) -> T::Output {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => task.run::<sqlite::SqliteDriver>(pool).await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => task.run::<postgres::PostgresDriver>(pool).await,
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => task.run::<mysql::MySqlDriver>(pool).await,
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            Pool::None(never) => match *never {},
        }
    }

    /// The dialect of this pool's database.
    pub(crate) fn dialect(&self) -> Dialect {
        match *self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Pool::MySql(_) => Dialect::MySql,
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            Pool::None(never) => match never {},
        }
    }

    /// Rows per multi-row INSERT when BULK_CHUNK_SIZE is not set: what the
    /// backend's bind-parameter limit allows, at most 500 (the original's).
    pub(crate) fn default_chunk_size(&self) -> usize {
        crate::config::max_chunk_size(self.dialect()).min(500)
    }
}

/// Implements [`Backend`] for one database: the statements that are the
/// same SQL for every backend, over the module's `insert`, `bind_time`,
/// `table_columns`, `max_statement_bytes` and `SWEEP_ISOLATION`; and the
/// row reader over the module's `read_json` and `read_timestamp`.
macro_rules! impl_backend {
    ($db:ty, $driver:ident, $variant:ident, $dialect:expr, $row:ty) => {
        /// The write path's functions for one database.
        #[derive(Debug)]
        pub struct $driver;

        /// `sql` with `params` bound in order.
        fn bound<'q>(
            sql: &str,
            params: &[$crate::backend::Param],
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
            for param in params {
                query = match param {
                    $crate::backend::Param::Text(text) => query.bind(text.as_str()),
                    $crate::backend::Param::Int(int) => query.bind(*int),
                    $crate::backend::Param::Time(at) => query.bind(bind_time(*at)),
                };
            }
            query
        }

        impl $crate::backend::AuditDatabase for $db {
            type Driver = $driver;
        }

        impl $crate::backend::decode::ReadColumns for $row {
            fn text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }

            fn big_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }

            fn json(&self, column: &str) -> Result<Option<serde_json::Value>, sqlx::Error> {
                read_json(self, column)
            }

            fn timestamp(
                &self,
                column: &str,
            ) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
                read_timestamp(self, column)
            }
        }

        impl $crate::backend::Backend for $driver {
            type Db = $db;
            const DIALECT: $crate::Dialect = $dialect;

            fn pool_of(pool: &$crate::backend::Pool) -> Option<&sqlx::Pool<Self::Db>> {
                #[allow(unreachable_patterns)]
                match pool {
                    $crate::backend::Pool::$variant(pool) => Some(pool),
                    _ => None,
                }
            }

            fn insert<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                table: &'c $crate::backend::TableSql,
                shape: $crate::backend::TableShape,
                rows: &'c [$crate::event::LogEvent],
            ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                insert(conn, table, shape, rows)
            }

            fn table_columns<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                table: &'c $crate::backend::TableDef,
            ) -> impl std::future::Future<Output = Result<Vec<String>, sqlx::Error>> + Send + 'c
            {
                table_columns(conn, table)
            }

            fn execute<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                sql: &'c str,
            ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                async move {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                        .execute(conn)
                        .await
                        .map(drop)
                }
            }

            fn select<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                sql: &'c str,
                params: &'c [$crate::backend::Param],
            ) -> impl std::future::Future<Output = Result<Vec<$crate::LogRecord>, sqlx::Error>>
            + Send
            + 'c {
                async move {
                    let rows = bound(sql, params).fetch_all(conn).await?;
                    rows.iter()
                        .map(|row: &$row| $crate::backend::decode::record(row))
                        .collect()
                }
            }

            fn sweep<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                step: $crate::backend::SweepStep,
                sql: &'c str,
                params: &'c [$crate::backend::Param],
            ) -> impl std::future::Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
                async move {
                    let query = bound(sql, params);
                    match (step, SWEEP_ISOLATION) {
                        ($crate::backend::SweepStep::Count, _) => {
                            let row: $row = query.fetch_one(conn).await?;
                            let count: i64 = sqlx::Row::try_get(&row, 0)?;
                            Ok(u64::try_from(count).unwrap_or(0))
                        }
                        ($crate::backend::SweepStep::Delete, None) => {
                            Ok(query.execute(conn).await?.rows_affected())
                        }
                        ($crate::backend::SweepStep::Delete, Some(isolation)) => {
                            // Sets the next transaction's isolation level.
                            sqlx::raw_sql(isolation).execute(&mut *conn).await?;
                            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                            let deleted = query.execute(&mut *tx).await?.rows_affected();
                            tx.commit().await?;
                            Ok(deleted)
                        }
                    }
                }
            }

            fn fetch_outbox<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                outbox: &'c $crate::backend::OutboxSql,
                shape: $crate::backend::TableShape,
                limit: i64,
            ) -> impl std::future::Future<
                Output = Result<Vec<$crate::backend::OutboxRow>, sqlx::Error>,
            > + Send
            + 'c {
                async move {
                    let select = outbox.select(shape).to_owned();
                    let rows = sqlx::query(sqlx::AssertSqlSafe(select))
                        .bind(limit)
                        .fetch_all(conn)
                        .await?;
                    rows.iter()
                        .map(|row: &$row| $crate::backend::decode::outbox_row(row))
                        .collect()
                }
            }

            fn delete_outbox<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                outbox: &'c $crate::backend::OutboxSql,
                ids: &'c [i64],
            ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                async move {
                    let mut query = sqlx::QueryBuilder::<$db>::new(&outbox.delete);
                    query.push("(");
                    let mut list = query.separated(", ");
                    for id in ids {
                        list.push_bind(*id);
                    }
                    query.push(")");
                    query.build().execute(conn).await.map(drop)
                }
            }

            fn insert_dead_letters<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                sql: &'c $crate::backend::DeadLetterSql,
                shape: $crate::backend::TableShape,
                rows: &'c [$crate::backend::DeadLetter<'c>],
                failed_at: chrono::DateTime<chrono::Utc>,
            ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                async move {
                    let mut query = $crate::backend::dead_letter::insert::<$db, _>(
                        $dialect, sql, shape, rows, failed_at, bind_time,
                    );
                    query.build().execute(conn).await.map(drop)
                }
            }

            fn copy_to_dead_letters<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                copy: &'c str,
                outbox_id: i64,
                reason: &'c str,
                failed_at: chrono::DateTime<chrono::Utc>,
            ) -> impl std::future::Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                async move {
                    sqlx::query(sqlx::AssertSqlSafe(copy.to_owned()))
                        .bind(reason)
                        .bind(bind_time(failed_at))
                        .bind(outbox_id)
                        .execute(conn)
                        .await
                        .map(drop)
                }
            }

            fn queue_counts<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                sql: &'c $crate::backend::QueueSql,
            ) -> impl std::future::Future<
                Output = Result<Vec<$crate::backend::QueueCount>, sqlx::Error>,
            > + Send
            + 'c {
                async move {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.counts.clone()))
                        .fetch_all(conn)
                        .await?;
                    rows.iter()
                        .map(|row: &$row| $crate::backend::queue::count(row))
                        .collect()
                }
            }

            fn execute_bound<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                sql: &'c str,
                params: &'c [$crate::backend::Param],
            ) -> impl std::future::Future<Output = Result<u64, sqlx::Error>> + Send + 'c {
                async move { Ok(bound(sql, params).execute(conn).await?.rows_affected()) }
            }

            fn dead_letter_rows<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
                sql: &'c str,
                params: &'c [$crate::backend::Param],
            ) -> impl std::future::Future<
                Output = Result<Vec<$crate::backend::DeadLetterRow>, sqlx::Error>,
            > + Send
            + 'c {
                async move {
                    let rows = bound(sql, params).fetch_all(conn).await?;
                    rows.iter()
                        .map(|row: &$row| $crate::backend::queue::dead_letter_row(row))
                        .collect()
                }
            }

            fn max_statement_bytes<'c>(
                conn: &'c mut $crate::backend::Conn<Self>,
            ) -> impl std::future::Future<Output = Result<Option<u64>, sqlx::Error>> + Send + 'c
            {
                max_statement_bytes(conn)
            }
        }
    };
}
pub(crate) use impl_backend;
