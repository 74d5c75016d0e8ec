//! The databases an [`Auditor`](crate::Auditor) writes to: the application's
//! own sqlx pools, each under an alias.

use crate::Dialect;
use crate::backend::Pool;

/// A database the auditor can write log tables to: a sqlx pool of
/// PostgreSQL, MySQL/MariaDB or SQLite (each behind its cargo feature).
/// Convert the pool the application already has with `Database::from(pool)`
/// or `pool.into()`, or open one with [`Database::connect`].
#[derive(Debug, Clone)]
pub struct Database(pub(crate) Pool);

impl Database {
    /// The dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.0.dialect()
    }

    /// Opens a pool for `url`, choosing the backend by its scheme:
    /// `sqlite:`, `postgres:` / `postgresql:`, `mysql:` / `mariadb:`.
    /// SQLite files are created when missing.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let db = awesome_audit_log::Database::connect("sqlite::memory:").await.unwrap();
    /// assert_eq!(db.dialect(), awesome_audit_log::Dialect::Sqlite);
    /// # });
    /// ```
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme {
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                use std::str::FromStr;
                let options =
                    sqlx::sqlite::SqliteConnectOptions::from_str(url)?.create_if_missing(true);
                Ok(sqlx::SqlitePool::connect_with(options).await?.into())
            }
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Ok(sqlx::PgPool::connect(url).await?.into()),
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => Ok(sqlx::MySqlPool::connect(url).await?.into()),
            other => Err(sqlx::Error::Configuration(
                format!(
                    "unsupported database URL scheme `{other}:` (enabled backends: {})",
                    enabled_backends()
                )
                .into(),
            )),
        }
    }
}

fn enabled_backends() -> String {
    let names: Vec<&str> = [
        ("sqlite", cfg!(feature = "sqlite")),
        ("postgres", cfg!(feature = "postgres")),
        ("mysql", cfg!(feature = "mysql")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    if names.is_empty() {
        "none; enable the `sqlite`, `postgres` or `mysql` feature".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
impl From<sqlx::SqlitePool> for Database {
    fn from(pool: sqlx::SqlitePool) -> Self {
        Database(Pool::Sqlite(pool))
    }
}

#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
impl From<sqlx::PgPool> for Database {
    fn from(pool: sqlx::PgPool) -> Self {
        Database(Pool::Postgres(pool))
    }
}

#[cfg(feature = "mysql")]
#[cfg_attr(docsrs, doc(cfg(feature = "mysql")))]
impl From<sqlx::MySqlPool> for Database {
    fn from(pool: sqlx::MySqlPool) -> Self {
        Database(Pool::MySql(pool))
    }
}
