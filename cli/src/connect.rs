//! The database the tool works on: a small sqlx pool of the backend the
//! URL's scheme names, read by the runtime's `Database::dialect_of` (the
//! one scheme rule, which `Database::connect` follows too).

use std::str::FromStr;
use std::time::Duration;

use awesome_audit_log::config::RedactedUrl;
use awesome_audit_log::{Database, Dialect};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{MySqlPool, PgPool, SqlitePool};

use crate::error::Error;

/// A pool on the database the tool works on.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL / MariaDB.
    MySql(MySqlPool),
    /// SQLite.
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$pool` bound to the pool of `$db`, whatever its
/// backend; `$body` is compiled once per backend.
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::connect::Db::Postgres($pool) => $body,
            $crate::connect::Db::MySql($pool) => $body,
            $crate::connect::Db::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// How long to wait for a connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Opens a pool for `url`. Unlike the runtime, an SQLite file that does
    /// not exist is an error rather than created: checking a mistyped path
    /// should not leave an empty database behind.
    pub(crate) async fn connect(url: &str) -> Result<Db, Error> {
        let failed = |source| Error::Connect {
            url: RedactedUrl(url).to_string(),
            source,
        };
        // One connection does the work; a second lets a catalog read go
        // on beside it.
        let db = match Database::dialect_of(url)? {
            Dialect::Postgres => {
                let options = PgConnectOptions::from_str(url).map_err(failed)?;
                Db::Postgres(
                    PgPoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(options)
                        .await
                        .map_err(failed)?,
                )
            }
            Dialect::MySql => {
                let options = MySqlConnectOptions::from_str(url).map_err(failed)?;
                Db::MySql(
                    MySqlPoolOptions::new()
                        .max_connections(2)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(options)
                        .await
                        .map_err(failed)?,
                )
            }
            Dialect::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(failed)?
                    .create_if_missing(false);
                Db::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(1)
                        .acquire_timeout(ACQUIRE_TIMEOUT)
                        .connect_with(options)
                        .await
                        .map_err(failed)?,
                )
            }
        };
        Ok(db)
    }

    /// The SQL dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Db::Postgres(_) => Dialect::Postgres,
            Db::MySql(_) => Dialect::MySql,
            Db::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Closes the pool, waiting for its connections to end.
    pub(crate) async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
    }
}
