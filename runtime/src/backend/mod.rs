//! One code path per database kind behind a small interface: insert log
//! rows, run DDL, read a history. `sqlx::Any` cannot carry JSON or chrono
//! values, so each backend binds its own types.

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
pub(crate) enum Pool {
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
pub(crate) struct TableSql {
    /// Quoted, schema-qualified table name.
    pub qualified: String,
    /// `CREATE SCHEMA IF NOT EXISTS`, on PostgreSQL with PG_SCHEMA.
    pub create_schema: Option<String>,
    /// `CREATE TABLE IF NOT EXISTS`.
    pub create_table: String,
    /// `INSERT INTO t (columns) ` (the VALUES follow).
    pub insert_prefix: String,
    /// `SELECT columns FROM t WHERE object_pk = ? ORDER BY created_at, id`.
    pub select_history: String,
}

impl TableSql {
    pub(crate) fn new(dialect: Dialect, schema: Option<&str>, log_table: &str) -> Self {
        use awesome_audit_log_codegen::ddl::{COLUMNS, create_table, insert_columns};
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
            select_history: format!(
                "SELECT {} FROM {qualified} WHERE {} = {placeholder} ORDER BY {}, {}",
                quote_all(&COLUMNS),
                dialect.quote("object_pk"),
                dialect.quote("created_at"),
                dialect.quote("id"),
            ),
            qualified,
        }
    }
}

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

impl RawRecord {
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
    ($tuple:expr, $row:expr, json_suffix = $json:expr, created_at = $created_at:expr) => {{
        let mut tuple = $tuple;
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
    }};
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
/// a unique violation on its catalog (23505) or as duplicate table / schema
/// (42P07 / 42P06) despite `IF NOT EXISTS`.
pub(crate) fn is_lost_create_race(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    matches!(db.code().as_deref(), Some("23505" | "42P07" | "42P06"))
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
