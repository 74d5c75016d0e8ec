//! The application side the examples share: the audited `Widget` model and
//! its `widget` table on whichever database `DATABASE_URL` names. Each
//! example uses part of it.
#![allow(dead_code)]

use awesome_audit_log::{Database, audited};
use sqlx::{MySqlPool, PgPool, SqlitePool};

/// The audited model: a row of the application's `widget` table.
#[audited(table = "widget", label = "examples.widget")]
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Quantity in stock.
    pub qty: i32,
}

/// The application's own pool, whichever database `DATABASE_URL` names.
#[derive(Clone)]
pub enum AppDb {
    /// SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL / MariaDB.
    MySql(MySqlPool),
}

/// Runs `$body` with `$pool` bound to the pool `$db` holds, whatever its kind.
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            AppDb::Sqlite($pool) => $body,
            AppDb::Postgres($pool) => $body,
            AppDb::MySql($pool) => $body,
        }
    };
}

const CREATE_WIDGET: &str = "CREATE TABLE IF NOT EXISTS widget (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL)";

impl AppDb {
    /// Opens the pool `url` names (an SQLite file is created when missing).
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        Ok(if url.starts_with("postgres") {
            AppDb::Postgres(PgPool::connect(url).await?)
        } else if url.starts_with("mysql") || url.starts_with("mariadb") {
            AppDb::MySql(MySqlPool::connect(url).await?)
        } else {
            let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
            AppDb::Sqlite(SqlitePool::connect_with(options.create_if_missing(true)).await?)
        })
    }

    /// The same pool, as the auditor takes it.
    pub fn audit_database(&self) -> Database {
        with_pool!(self, |pool| pool.clone().into())
    }

    /// `pg` on PostgreSQL (`$1` placeholders), `other` elsewhere (`?`).
    pub fn sql(&self, pg: &'static str, other: &'static str) -> &'static str {
        match self {
            AppDb::Postgres(_) => pg,
            _ => other,
        }
    }

    /// Creates the `widget` table if it does not exist.
    pub async fn create_table(&self) -> Result<(), sqlx::Error> {
        with_pool!(self, |pool| sqlx::query(CREATE_WIDGET)
            .execute(pool)
            .await
            .map(drop))
    }

    /// The largest id in use, so ids keep growing across restarts.
    pub async fn max_id(&self) -> Result<i64, sqlx::Error> {
        let sql = match self {
            AppDb::MySql(_) => "SELECT CAST(COALESCE(MAX(id), 0) AS SIGNED) FROM widget",
            _ => "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM widget",
        };
        with_pool!(self, |pool| sqlx::query_scalar(sql).fetch_one(pool).await)
    }

    /// The widget `id`, if it exists.
    pub async fn get(&self, id: i64) -> Result<Option<Widget>, sqlx::Error> {
        let sql = self.sql(
            "SELECT id, name, qty FROM widget WHERE id = $1",
            "SELECT id, name, qty FROM widget WHERE id = ?",
        );
        let row: Option<(i64, String, i32)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(id, name, qty)| Widget { id, name, qty }))
    }

    /// Inserts `w`.
    pub async fn insert(&self, w: &Widget) -> Result<(), sqlx::Error> {
        let sql = self.sql(
            "INSERT INTO widget (id, name, qty) VALUES ($1, $2, $3)",
            "INSERT INTO widget (id, name, qty) VALUES (?, ?, ?)",
        );
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(w.id)
            .bind(&w.name)
            .bind(w.qty)
            .execute(pool)
            .await
            .map(drop))
    }

    /// Sets the quantity of `w.id` to `w.qty`.
    pub async fn update_qty(&self, w: &Widget) -> Result<(), sqlx::Error> {
        let sql = self.sql(
            "UPDATE widget SET qty = $1 WHERE id = $2",
            "UPDATE widget SET qty = ? WHERE id = ?",
        );
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(w.qty)
            .bind(w.id)
            .execute(pool)
            .await
            .map(drop))
    }

    /// Deletes widget `id`.
    pub async fn delete(&self, id: i64) -> Result<(), sqlx::Error> {
        let sql = self.sql(
            "DELETE FROM widget WHERE id = $1",
            "DELETE FROM widget WHERE id = ?",
        );
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(drop))
    }
}
