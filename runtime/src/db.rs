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

    /// The dialect a database URL's scheme names: `sqlite:`, `postgres:`
    /// / `postgresql:`, `mysql:` / `mariadb:`. The one reading of a URL's
    /// scheme: [`Database::connect`] uses it, and so do tools that open
    /// their own pools. It says nothing of which backends this build has.
    ///
    /// ```
    /// use awesome_audit_log::{Database, Dialect};
    ///
    /// assert_eq!(Database::dialect_of("postgresql://db.internal/app"), Ok(Dialect::Postgres));
    /// assert_eq!(Database::dialect_of("mariadb://db.internal/app"), Ok(Dialect::MySql));
    /// assert_eq!(Database::dialect_of("sqlite::memory:"), Ok(Dialect::Sqlite));
    /// let error = Database::dialect_of("oracle://db.internal/app").unwrap_err();
    /// assert_eq!(error.scheme(), "oracle");
    /// assert!(error.to_string().starts_with("unsupported database URL scheme `oracle:`"));
    /// ```
    pub fn dialect_of(url: &str) -> Result<Dialect, UnsupportedScheme> {
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme);
        match scheme {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::MySql),
            other => Err(UnsupportedScheme {
                scheme: other.chars().take(64).collect(),
            }),
        }
    }

    /// Opens a pool for `url`, choosing the backend by its scheme
    /// ([`Database::dialect_of`]). SQLite files are created when missing.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let db = awesome_audit_log::Database::connect("sqlite::memory:").await.unwrap();
    /// assert_eq!(db.dialect(), awesome_audit_log::Dialect::Sqlite);
    /// # });
    /// ```
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        let dialect = Self::dialect_of(url).map_err(|error| {
            configuration(format!(
                "{error} (enabled backends: {})",
                enabled_backends()
            ))
        })?;
        match dialect {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                use std::str::FromStr;
                let options =
                    sqlx::sqlite::SqliteConnectOptions::from_str(url)?.create_if_missing(true);
                Ok(sqlx::SqlitePool::connect_with(options).await?.into())
            }
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Ok(sqlx::PgPool::connect(url).await?.into()),
            #[cfg(feature = "mysql")]
            Dialect::MySql => Ok(sqlx::MySqlPool::connect(url).await?.into()),
            #[allow(unreachable_patterns)]
            other => Err(configuration(format!(
                "{other:?} URLs need this crate's `{}` feature (enabled backends: {})",
                feature_of(other),
                enabled_backends()
            ))),
        }
    }
}

/// A database URL whose scheme names no database this crate speaks
/// ([`Database::dialect_of`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported database URL scheme `{scheme}:`; use postgres:// (or postgresql://), mysql:// (or mariadb://) or sqlite://"
)]
pub struct UnsupportedScheme {
    scheme: String,
}

impl UnsupportedScheme {
    /// The scheme, without its colon (its first 64 characters).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }
}

fn configuration(message: String) -> sqlx::Error {
    sqlx::Error::Configuration(message.into())
}

/// The cargo feature of `dialect`'s backend.
fn feature_of(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
        Dialect::MySql => "mysql",
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
