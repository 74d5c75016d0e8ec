//! The application's side of each backend: its pool and its statements on
//! the `widget` table, written with the backend's own sqlx types.

use awesome_audit_log::history::Param;
use awesome_audit_log::{AuditDatabase, Database, Dialect};
use sqlx::{MySql, Postgres, Sqlite};

use crate::Result;
use crate::model::Widget;
use crate::reads::plan;
use crate::sql::Sql;

/// Where an application statement runs: autocommitted on the pool, or on
/// the connection of an open transaction.
pub(crate) enum On<'a, DB: sqlx::Database> {
    Pool(&'a sqlx::Pool<DB>),
    Conn(&'a mut DB::Connection),
}

/// The application's side of one backend: its pool type and the widget
/// statements, written with the backend's own types as an application would.
pub(crate) trait AppDb: AuditDatabase {
    const DIALECT: Dialect;

    fn database(pool: &sqlx::Pool<Self>) -> Database;

    /// Runs `sql` (one or more statements, no bind values).
    async fn execute(pool: &sqlx::Pool<Self>, sql: &str) -> Result<()>;

    /// The plan of the read `sql` with `params`, as the database shows it
    /// (PostgreSQL `EXPLAIN`, MySQL `EXPLAIN`, SQLite `EXPLAIN QUERY PLAN`),
    /// one line per plan row.
    async fn explain(pool: &sqlx::Pool<Self>, sql: &str, params: &[Param]) -> Result<Vec<String>>;

    /// Runs `statements` in order on one connection, as one script: a
    /// SQLite connection keeps the schema it last read until a statement
    /// makes it check, so DDL that follows DDL run on another connection
    /// may see tables and triggers that are gone.
    async fn execute_all(pool: &sqlx::Pool<Self>, statements: &[&str]) -> Result<()> {
        Self::execute(pool, &statements.join(";\n")).await
    }

    /// Drops the benchmark's tables and trigger functions: it leaves
    /// nothing behind in a database it was given.
    async fn clean_up(pool: &sqlx::Pool<Self>) -> Result<()> {
        // SQLite's triggers made the context table: it goes too.
        for sql in [
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "DROP TABLE IF EXISTS awesome_audit_log_context",
        ] {
            Self::execute(pool, sql).await?;
        }
        if Self::DIALECT == Dialect::Postgres {
            // The hand-written reference's function, and the generated one.
            let generated = awesome_audit_log::triggers::function_name("widget");
            for function in ["widget_audit", generated.as_str()] {
                Self::execute(pool, &format!("DROP FUNCTION IF EXISTS {function}()")).await?;
            }
        }
        Ok(())
    }

    async fn count_log_rows(pool: &sqlx::Pool<Self>) -> Result<i64> {
        Self::scalar(pool, "SELECT COUNT(*) FROM widget_log").await
    }

    /// The integer `sql` selects.
    async fn scalar(pool: &sqlx::Pool<Self>, sql: &str) -> Result<i64>;

    async fn server_version(pool: &sqlx::Pool<Self>) -> Result<String>;

    async fn insert(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()>;

    async fn update(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()>;

    async fn delete(on: On<'_, Self>, sql: &Sql, id: i64) -> Result<()>;

    /// `INSERT ... VALUES (...), (...), ...` of `rows`.
    async fn insert_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()>;

    /// `UPDATE widget SET qty = qty + 1 WHERE id IN (...)` of `rows`.
    async fn increment_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()>;

    /// `DELETE FROM widget WHERE id IN (...)` of `rows`.
    async fn delete_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()>;
}

macro_rules! run_on {
    ($on:expr, $query:expr) => {
        match $on {
            On::Pool(pool) => $query.execute(pool).await.map(drop)?,
            On::Conn(conn) => $query.execute(conn).await.map(drop)?,
        }
    };
}

macro_rules! app_db {
    ($db:ty, $dialect:expr, $version:literal, $explain:path) => {
        impl AppDb for $db {
            const DIALECT: Dialect = $dialect;

            fn database(pool: &sqlx::Pool<Self>) -> Database {
                pool.clone().into()
            }

            async fn execute(pool: &sqlx::Pool<Self>, sql: &str) -> Result<()> {
                // The benchmark's own statements: no outside input in them.
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(pool)
                    .await?;
                Ok(())
            }

            async fn explain(
                pool: &sqlx::Pool<Self>,
                sql: &str,
                params: &[Param],
            ) -> Result<Vec<String>> {
                $explain(pool, sql, params).await
            }

            async fn scalar(pool: &sqlx::Pool<Self>, sql: &str) -> Result<i64> {
                Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .fetch_one(pool)
                    .await?)
            }

            async fn server_version(pool: &sqlx::Pool<Self>) -> Result<String> {
                Ok(sqlx::query_scalar($version).fetch_one(pool).await?)
            }

            async fn insert(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()> {
                let query = sqlx::query(sql.insert)
                    .bind(w.id)
                    .bind(w.name.as_str())
                    .bind(w.qty)
                    .bind(w.price)
                    .bind(w.active)
                    .bind(w.updated_at);
                run_on!(on, query);
                Ok(())
            }

            async fn update(on: On<'_, Self>, sql: &Sql, w: &Widget) -> Result<()> {
                let query = sqlx::query(sql.update).bind(w.qty).bind(w.id);
                run_on!(on, query);
                Ok(())
            }

            async fn delete(on: On<'_, Self>, sql: &Sql, id: i64) -> Result<()> {
                let query = sqlx::query(sql.delete).bind(id);
                run_on!(on, query);
                Ok(())
            }

            async fn insert_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()> {
                let mut query = sqlx::QueryBuilder::<Self>::new(
                    "INSERT INTO widget (id, name, qty, price, active, updated_at) ",
                );
                query.push_values(rows, |mut tuple, w| {
                    tuple
                        .push_bind(w.id)
                        .push_bind(w.name.as_str())
                        .push_bind(w.qty)
                        .push_bind(w.price)
                        .push_bind(w.active)
                        .push_bind(w.updated_at);
                });
                query.build().execute(pool).await?;
                Ok(())
            }

            async fn increment_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()> {
                let mut query = sqlx::QueryBuilder::<Self>::new(
                    "UPDATE widget SET qty = qty + 1 WHERE id IN (",
                );
                let mut ids = query.separated(", ");
                for w in rows {
                    ids.push_bind(w.id);
                }
                query.push(")");
                query.build().execute(pool).await?;
                Ok(())
            }

            async fn delete_many(pool: &sqlx::Pool<Self>, rows: &[Widget]) -> Result<()> {
                let mut query = sqlx::QueryBuilder::<Self>::new("DELETE FROM widget WHERE id IN (");
                let mut ids = query.separated(", ");
                for w in rows {
                    ids.push_bind(w.id);
                }
                query.push(")");
                query.build().execute(pool).await?;
                Ok(())
            }
        }
    };
}

app_db!(
    Sqlite,
    Dialect::Sqlite,
    "SELECT 'SQLite ' || sqlite_version()",
    plan::explain_sqlite
);
app_db!(
    Postgres,
    Dialect::Postgres,
    "SELECT version()",
    plan::explain_postgres
);
app_db!(
    MySql,
    Dialect::MySql,
    // The buffer pool as well: reads of a table larger than it go to disk.
    "SELECT CONCAT(version(), ', InnoDB buffer pool ', @@innodb_buffer_pool_size DIV 1048576, ' MB')",
    plan::explain_mysql
);
