//! One code path per database kind behind a small interface: insert log
//! rows, run DDL, read a history. `sqlx::Any` cannot carry JSON or chrono
//! values, so each backend binds its own types.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::event::LogEvent;
use crate::{Dialect, LogRecord};

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

/// A connection pool of one of the supported databases.
#[derive(Debug, Clone)]
pub enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlPool),
    /// No backend feature is enabled, so no pool can exist.
    #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
    None(std::convert::Infallible),
}

/// The SQL of one log table on one database, built once.
#[derive(Debug)]
pub struct TableSql {
    /// Quoted, schema-qualified table name.
    pub qualified: String,
    /// `CREATE SCHEMA IF NOT EXISTS`, on PostgreSQL with PG_SCHEMA.
    pub create_schema: Option<String>,
    /// `CREATE TABLE IF NOT EXISTS`.
    pub create_table: String,
    /// `INSERT INTO t (columns) ` (the VALUES follow).
    pub insert_prefix: String,
    /// The same with the `event_id` column, for delivered events.
    pub insert_prefix_with_event_id: String,
    /// What makes an insert of delivered events skip the ones already there.
    pub on_duplicate_event: &'static str,
    /// `SELECT columns FROM t WHERE object_pk = ? ORDER BY created_at, id`.
    pub select_history: String,
    /// For the outbox: the log table its rows are meant for (its last column).
    pub outbox_for: Option<String>,
    /// For the outbox: `SELECT ... ORDER BY id LIMIT ?` (with row locking
    /// that lets workers share the work where the database has it).
    pub select_outbox: String,
    /// For the outbox: `DELETE FROM outbox WHERE id IN ` (the list follows).
    pub delete_outbox: String,
    /// Whether a committed insert proved the table exists.
    known: AtomicBool,
}

impl TableSql {
    pub(crate) fn new(dialect: Dialect, schema: Option<&str>, log_table: &str) -> Self {
        use awesome_audit_log_codegen::ddl::{
            COLUMNS, ORIGINAL_COLUMNS, create_table, insert_columns, insert_columns_with_event_id,
        };
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let qualified = dialect.qualified(schema, log_table);
        let quote_all = |columns: &[awesome_audit_log_codegen::ddl::Column]| {
            columns
                .iter()
                .map(|c| dialect.quote(c.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let placeholder = match dialect {
            Dialect::Postgres => "$1",
            Dialect::MySql | Dialect::Sqlite => "?",
        };
        Self {
            create_schema: schema
                .map(|schema| format!("CREATE SCHEMA IF NOT EXISTS {}", dialect.quote(schema))),
            create_table: create_table(dialect, schema, log_table),
            insert_prefix: format!("INSERT INTO {qualified} ({}) ", quote_all(insert_columns())),
            insert_prefix_with_event_id: format!(
                "INSERT INTO {qualified} ({}) ",
                quote_all(insert_columns_with_event_id())
            ),
            on_duplicate_event: match dialect {
                Dialect::Postgres | Dialect::Sqlite => " ON CONFLICT (\"event_id\") DO NOTHING",
                Dialect::MySql => " ON DUPLICATE KEY UPDATE `event_id` = `event_id`",
            },
            select_history: format!(
                "SELECT {} FROM {qualified} WHERE {} = {placeholder} ORDER BY {}, {}",
                quote_all(&COLUMNS[..ORIGINAL_COLUMNS]),
                dialect.quote("object_pk"),
                dialect.quote("created_at"),
                dialect.quote("id"),
            ),
            qualified,
            outbox_for: None,
            select_outbox: String::new(),
            delete_outbox: String::new(),
            known: AtomicBool::new(false),
        }
    }

    /// The outbox table, holding rows meant for `log_table`.
    pub(crate) fn outbox(dialect: Dialect, schema: Option<&str>, log_table: &str) -> Self {
        use awesome_audit_log_codegen::ddl::{COLUMNS, OUTBOX_TABLE, create_outbox_table};
        let mut table = Self::new(dialect, schema, OUTBOX_TABLE);
        let quoted = |names: &mut dyn Iterator<Item = &str>| {
            names
                .map(|n| dialect.quote(n))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let insert = quoted(&mut COLUMNS[1..].iter().map(|c| c.name).chain(["log_table"]));
        let select = quoted(&mut COLUMNS.iter().map(|c| c.name).chain(["log_table"]));
        let placeholder = match dialect {
            Dialect::Postgres => "$1",
            Dialect::MySql | Dialect::Sqlite => "?",
        };
        let lock = match dialect {
            Dialect::Postgres | Dialect::MySql => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        table.create_table =
            create_outbox_table(dialect, schema.filter(|_| dialect == Dialect::Postgres));
        table.insert_prefix_with_event_id = format!("INSERT INTO {} ({insert}) ", table.qualified);
        table.on_duplicate_event = "";
        table.select_outbox = format!(
            "SELECT {select} FROM {} ORDER BY {} LIMIT {placeholder}{lock}",
            table.qualified,
            dialect.quote("id")
        );
        table.delete_outbox = format!(
            "DELETE FROM {} WHERE {} IN ",
            table.qualified,
            dialect.quote("id")
        );
        table.outbox_for = Some(log_table.to_owned());
        table
    }

    /// Whether the table is known to exist (no first-use handling needed).
    pub(crate) fn is_known(&self) -> bool {
        self.known.load(Ordering::Relaxed)
    }

    /// Remembers that the table exists.
    pub(crate) fn mark_known(&self) {
        self.known.store(true, Ordering::Relaxed);
    }
}

/// What the write path needs of one kind of database, for pools and for
/// the caller's open transactions alike. Implemented by one driver type
/// per enabled database, named by [`AuditDatabase::Driver`], so that none of
/// these functions is in scope on the sqlx database types themselves.
///
/// [`AuditDatabase::Driver`]: crate::AuditDatabase::Driver
pub trait Backend {
    /// The sqlx database.
    type Db: sqlx::Database;

    /// The dialect of this database.
    const DIALECT: Dialect;

    /// The pool, if `pool` is of this kind.
    fn pool_of(pool: &Pool) -> Option<&sqlx::Pool<Self::Db>>;

    /// Inserts `rows` with one multi-row INSERT on `conn`.
    fn insert<'c>(
        conn: &'c mut <Self::Db as sqlx::Database>::Connection,
        table: &'c TableSql,
        rows: &'c [LogEvent],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// Runs one statement on `conn`.
    fn execute<'c>(
        conn: &'c mut <Self::Db as sqlx::Database>::Connection,
        sql: &'c str,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;

    /// The oldest `limit` outbox rows, locked for this transaction.
    fn fetch_outbox<'c>(
        conn: &'c mut <Self::Db as sqlx::Database>::Connection,
        outbox: &'c TableSql,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, sqlx::Error>> + Send + 'c;

    /// Deletes the outbox rows `ids`.
    fn delete_outbox<'c>(
        conn: &'c mut <Self::Db as sqlx::Database>::Connection,
        outbox: &'c TableSql,
        ids: &'c [i64],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c;
}

/// Implements [`Backend`] for one database over its module's functions.
macro_rules! impl_backend {
    ($db:ty, $driver:ident, $variant:ident, $dialect:expr, $module:ident) => {
        /// The write path's functions for one database.
        #[derive(Debug)]
        pub struct $driver;

        impl crate::transaction::AuditDatabase for $db {
            type Driver = $driver;
        }

        impl Backend for $driver {
            type Db = $db;
            const DIALECT: Dialect = $dialect;

            fn pool_of(pool: &Pool) -> Option<&sqlx::Pool<Self::Db>> {
                #[allow(unreachable_patterns)]
                match pool {
                    Pool::$variant(pool) => Some(pool),
                    _ => None,
                }
            }

            fn insert<'c>(
                conn: &'c mut <Self::Db as sqlx::Database>::Connection,
                table: &'c TableSql,
                rows: &'c [LogEvent],
            ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                $module::insert(conn, table, rows)
            }

            fn execute<'c>(
                conn: &'c mut <Self::Db as sqlx::Database>::Connection,
                sql: &'c str,
            ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                async move {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                        .execute(conn)
                        .await
                        .map(drop)
                }
            }

            fn fetch_outbox<'c>(
                conn: &'c mut <Self::Db as sqlx::Database>::Connection,
                outbox: &'c TableSql,
                limit: i64,
            ) -> impl Future<Output = Result<Vec<OutboxRow>, sqlx::Error>> + Send + 'c {
                async move {
                    let rows = sqlx::query(sqlx::AssertSqlSafe(outbox.select_outbox.clone()))
                        .bind(limit)
                        .fetch_all(&mut *conn)
                        .await?;
                    rows.iter()
                        .map(|row| {
                            use sqlx::Row as _;
                            let event_id: String = row.try_get("event_id")?;
                            Ok(OutboxRow {
                                log_table: row.try_get("log_table")?,
                                event: $module::decode(row)?.into_event(event_id)?,
                                id: row.try_get("id")?,
                            })
                        })
                        .collect()
                }
            }

            fn delete_outbox<'c>(
                conn: &'c mut <Self::Db as sqlx::Database>::Connection,
                outbox: &'c TableSql,
                ids: &'c [i64],
            ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'c {
                async move {
                    let mut query = sqlx::QueryBuilder::<$db>::new(&outbox.delete_outbox);
                    query.push("(");
                    let mut list = query.separated(", ");
                    for id in ids {
                        list.push_bind(*id);
                    }
                    query.push(")");
                    query.build().execute(conn).await.map(drop)
                }
            }
        }
    };
}

#[cfg(feature = "sqlite")]
impl_backend!(sqlx::Sqlite, SqliteDriver, Sqlite, Dialect::Sqlite, sqlite);
#[cfg(feature = "postgres")]
impl_backend!(
    sqlx::Postgres,
    PostgresDriver,
    Postgres,
    Dialect::Postgres,
    postgres
);
#[cfg(feature = "mysql")]
impl_backend!(sqlx::MySql, MySqlDriver, MySql, Dialect::MySql, mysql);

impl Pool {
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
        let max_binds: usize = match self.dialect() {
            Dialect::Postgres | Dialect::MySql => 65_535,
            Dialect::Sqlite => 32_766,
        };
        (max_binds / awesome_audit_log_codegen::ddl::insert_columns().len()).min(500)
    }

    /// Inserts `rows` with one multi-row INSERT.
    pub(crate) async fn insert(
        &self,
        table: &TableSql,
        rows: &[LogEvent],
    ) -> Result<(), sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => sqlite::insert(pool, table, rows).await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => postgres::insert(pool, table, rows).await,
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => mysql::insert(pool, table, rows).await,
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            Pool::None(never) => match *never {},
        }
    }

    /// Runs one DDL statement.
    pub(crate) async fn execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        use sqlx::AssertSqlSafe;
        let sql = AssertSqlSafe(sql.to_owned());
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => sqlx::raw_sql(sql).execute(pool).await.map(drop),
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            Pool::None(never) => match *never {},
        }
    }

    /// The rows of one object, oldest first.
    pub(crate) async fn history(
        &self,
        table: &TableSql,
        object_pk: &str,
    ) -> Result<Vec<RawRecord>, sqlx::Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => sqlite::history(pool, table, object_pk).await,
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => postgres::history(pool, table, object_pk).await,
            #[cfg(feature = "mysql")]
            Pool::MySql(pool) => mysql::history(pool, table, object_pk).await,
            #[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
            Pool::None(never) => match *never {},
        }
    }
}

/// A log row as the database returned it, before JSON and action are checked.
pub(crate) struct RawRecord {
    pub id: i64,
    pub action: String,
    pub object_pk: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub changes: Option<Value>,
    pub entry_point: Option<String>,
    pub route: Option<String>,
    pub path: Option<String>,
    pub method: Option<String>,
    pub ip: Option<String>,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A row of the outbox: the event and the log table it is meant for.
pub struct OutboxRow {
    /// The outbox row's id.
    pub id: i64,
    /// The log table the event belongs in.
    pub log_table: String,
    /// The event, with its event id.
    pub event: LogEvent,
}

impl RawRecord {
    /// The event a stored row describes (outbox rows carry whole events).
    pub(crate) fn into_event(self, event_id: String) -> Result<LogEvent, sqlx::Error> {
        let action = self.action.parse().map_err(|e| sqlx::Error::ColumnDecode {
            index: "action".to_owned(),
            source: Box::new(e),
        })?;
        let context = self
            .entry_point
            .map(|entry_point| {
                crate::context::StoredContext {
                    entry_point,
                    route: self.route,
                    path: self.path,
                    method: self.method,
                    ip: self.ip,
                    user_id: self.user_id,
                    user_name: self.user_name,
                    user_agent: self.user_agent,
                }
                .into_context()
            })
            .transpose()
            .map_err(|message| sqlx::Error::ColumnDecode {
                index: "entry_point".to_owned(),
                source: message.into(),
            })?;
        Ok(LogEvent {
            action,
            object_pk: self.object_pk,
            before: self.before.map(|v| v.to_string()),
            after: self.after.map(|v| v.to_string()),
            changes: self.changes.map(|v| v.to_string()),
            context,
            created_at: self.created_at,
            event_id: Some(event_id),
        })
    }

    pub(crate) fn into_record(self) -> Result<LogRecord, String> {
        Ok(LogRecord {
            id: self.id,
            action: self
                .action
                .parse()
                .map_err(|e| format!("{e} (row id {})", self.id))?,
            object_pk: self.object_pk,
            before: self.before,
            after: self.after,
            changes: self.changes,
            entry_point: self.entry_point,
            route: self.route,
            path: self.path,
            method: self.method,
            ip: self.ip,
            user_id: self.user_id,
            user_name: self.user_name,
            user_agent: self.user_agent,
            created_at: self.created_at,
        })
    }
}

/// Binds the columns of one log row, in [`insert_columns`] order, to a
/// `push_values` tuple. `$json` is appended after each JSON placeholder (a
/// cast where the database needs one); `$created_at` is the bound timestamp.
///
/// [`insert_columns`]: awesome_audit_log_codegen::ddl::insert_columns
macro_rules! push_log_row {
    ($tuple:expr, $row:expr, $table:expr, json_suffix = $json:expr, created_at = $created_at:expr) => {{
        let mut tuple = $tuple;
        let table: &$crate::backend::TableSql = $table;
        let row: &$crate::event::LogEvent = $row;
        let ctx = row.context.as_deref();
        tuple.push_bind(row.action.as_str());
        tuple.push_bind(row.object_pk.as_str());
        for json in [&row.before, &row.after, &row.changes] {
            tuple.push_bind(json.as_deref());
            tuple.push_unseparated($json);
        }
        tuple.push_bind(ctx.map(|c| c.entry_point.as_str()));
        tuple.push_bind(ctx.and_then(|c| c.route.as_deref()));
        tuple.push_bind(ctx.and_then(|c| c.path.as_deref()));
        tuple.push_bind(ctx.and_then(|c| c.method.as_deref()));
        tuple.push_bind(ctx.and_then(|c| c.ip.as_deref()));
        tuple.push_bind(ctx.and_then(|c| c.user_id));
        tuple.push_bind(ctx.and_then(|c| c.user_name.as_deref()));
        tuple.push_bind(ctx.and_then(|c| c.user_agent.as_deref()));
        tuple.push_bind($created_at(row.created_at));
        if let Some(event_id) = &row.event_id {
            tuple.push_bind(event_id.as_str());
        }
        if let Some(log_table) = &table.outbox_for {
            tuple.push_bind(log_table.as_str());
        }
    }};
}

/// Starts the INSERT of `rows`: with the `event_id` column when the rows
/// carry event ids (delivered events; all rows of one insert do or none).
pub(crate) fn insert_builder<DB: sqlx::Database>(
    table: &TableSql,
    rows: &[LogEvent],
) -> sqlx::QueryBuilder<DB> {
    if rows.first().is_some_and(|row| row.event_id.is_some()) {
        sqlx::QueryBuilder::new(&table.insert_prefix_with_event_id)
    } else {
        sqlx::QueryBuilder::new(&table.insert_prefix)
    }
}

/// Ends the INSERT of `rows`: delivered events already in the table are skipped.
pub(crate) fn finish_insert<DB: sqlx::Database>(
    query: &mut sqlx::QueryBuilder<DB>,
    table: &TableSql,
    rows: &[LogEvent],
) {
    if rows.first().is_some_and(|row| row.event_id.is_some()) {
        query.push(table.on_duplicate_event);
    }
}
pub(crate) use push_log_row;

/// Whether the database said the table does not exist (PostgreSQL SQLSTATE
/// 42P01, MySQL 1146 / SQLSTATE 42S02, SQLite "no such table").
pub(crate) fn is_undefined_table(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    matches!(db.code().as_deref(), Some("42P01" | "42S02"))
        || db.message().starts_with("no such table")
}

/// Whether a `CREATE ... IF NOT EXISTS` failed only because a concurrent
/// transaction created the same object first: PostgreSQL can report that as
/// a unique violation on its catalog (23505), as duplicate table / schema
/// (42P07 / 42P06), or as a duplicate row type (42710: `type "t" already
/// exists`) despite `IF NOT EXISTS`.
pub(crate) fn is_lost_create_race(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    matches!(
        db.code().as_deref(),
        Some("23505" | "42P07" | "42P06" | "42710")
    )
}

/// Whether the error means the database could not be reached at all, as
/// opposed to a statement it rejected.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLITE_CANTOPEN: the database file cannot be opened.
        sqlx::Error::Database(db) => db.code().as_deref() == Some("14"),
        _ => false,
    }
}
