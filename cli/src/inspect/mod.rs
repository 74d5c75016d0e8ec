//! What the database's catalog says about a table: its columns with their
//! types, nullability and defaults, its indexes by columns, and what the
//! tool needs beside (the managed tables, a row estimate, NULL counts).
//! One module per dialect reads its own catalog; every name read here is
//! bound as a value, and a table's name is only spliced into SQL (quoted)
//! after it was checked to be a log table's name.

mod mysql;
mod postgres;
mod sqlite;

use awesome_audit_log_codegen::ddl::MANAGED_TABLES;

use crate::connect::Db;
use crate::error::Error;

/// Where the log tables live: the dialect's namespace for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    /// The schema named with `--schema` (PostgreSQL only): the statements
    /// name it; without one they name tables unqualified, as the runtime does.
    pub schema: Option<String>,
    /// The schema the catalog is read in (PostgreSQL: `--schema`, else
    /// the connection's current schema); `None` elsewhere.
    pub catalog_schema: Option<String>,
}

/// One column as the catalog has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnInfo {
    /// Its name.
    pub name: String,
    /// Its type as the catalog spells it (PostgreSQL's `format_type`,
    /// MySQL's `COLUMN_TYPE`, SQLite's declared type).
    pub sql_type: String,
    /// Whether it is NOT NULL (a primary key's column counts as such).
    pub not_null: bool,
    /// Its default, `None` for none (MariaDB's `NULL` included).
    pub default: Option<String>,
    /// MySQL's `ON UPDATE …` clause of a timestamp column.
    pub on_update: Option<String>,
}

/// One index as the catalog has it (a unique or primary key constraint's
/// index included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexInfo {
    /// Its name.
    pub name: String,
    /// Its columns in order; an expression stands as `(expression)`.
    pub columns: Vec<String>,
    /// Whether it is unique.
    pub unique: bool,
    /// Whether it covers only some rows (`WHERE …`).
    pub partial: bool,
}

/// A table that exists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TableInfo {
    /// Its columns, in table order.
    pub columns: Vec<ColumnInfo>,
    /// Its indexes.
    pub indexes: Vec<IndexInfo>,
    /// The names an index created beside it must not take: on PostgreSQL
    /// every relation of its schema, on SQLite every object of the
    /// database, on MySQL the table's own indexes.
    pub names_in_use: Vec<String>,
    /// SQLite: the statements that create its indexes and triggers, for a
    /// rebuild to create them again.
    pub dependents: Vec<String>,
}

impl TableInfo {
    /// The column `name`, if the table has it.
    pub(crate) fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|column| column.name == name)
    }
}

/// What a name stands for in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing.
    Missing,
    /// A table.
    Table(TableInfo),
    /// Something else: a view, a sequence… (what the catalog calls it).
    Other(String),
}

/// The place of the log tables: on PostgreSQL `schema`, or the current
/// schema when none is given.
pub(crate) async fn place(db: &Db, schema: Option<&str>) -> Result<Place, Error> {
    match db {
        Db::Postgres(pool) => Ok(Place {
            schema: schema.map(str::to_owned),
            catalog_schema: Some(postgres::schema(pool, schema).await?),
        }),
        Db::MySql(_) | Db::Sqlite(_) => Ok(Place {
            schema: None,
            catalog_schema: None,
        }),
    }
}

/// What `table` is in `place`.
pub(crate) async fn table(db: &Db, place: &Place, table: &str) -> Result<Found, Error> {
    let found = match db {
        Db::Postgres(pool) => postgres::table(pool, schema(place), table).await,
        Db::MySql(pool) => mysql::table(pool, table).await,
        Db::Sqlite(pool) => sqlite::table(pool, table).await,
    };
    found.map_err(Error::database(format!("reading the catalog of `{table}`")))
}

/// The names registered in the table of managed log tables, as stored
/// (untrusted: check each before use); `None` when that table does not
/// exist.
pub(crate) async fn managed_tables(db: &Db, place: &Place) -> Result<Option<Vec<String>>, Error> {
    if !matches!(table(db, place, MANAGED_TABLES).await?, Found::Table(_)) {
        return Ok(None);
    }
    let qualified = db
        .dialect()
        .qualified(place.schema.as_deref(), MANAGED_TABLES);
    let names = match db {
        Db::Postgres(pool) => postgres::registered(pool, &qualified).await,
        Db::MySql(pool) => mysql::registered(pool, &qualified).await,
        Db::Sqlite(pool) => sqlite::registered(pool, &qualified).await,
    };
    names
        .map(Some)
        .map_err(Error::database(format!("reading {MANAGED_TABLES}")))
}

/// About how many rows `table` (which exists, a checked name) has, from
/// the catalog's statistics where there are some; `None` when the
/// database has no estimate yet.
pub(crate) async fn row_estimate(
    db: &Db,
    place: &Place,
    table: &str,
) -> Result<Option<u64>, Error> {
    let estimate = match db {
        Db::Postgres(pool) => postgres::row_estimate(pool, schema(place), table).await,
        Db::MySql(pool) => mysql::row_estimate(pool, table).await,
        Db::Sqlite(pool) => sqlite::row_estimate(pool, &db.dialect().qualified(None, table)).await,
    };
    estimate.map_err(Error::database(format!("estimating the rows of `{table}`")))
}

/// How many rows of `table` (a checked name) have `column` NULL.
pub(crate) async fn count_nulls(
    db: &Db,
    place: &Place,
    table: &str,
    column: &str,
) -> Result<u64, Error> {
    let dialect = db.dialect();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM {} WHERE {} IS NULL",
        dialect.qualified(place.schema.as_deref(), table),
        dialect.quote(column)
    ));
    let count: Result<i64, sqlx::Error> =
        crate::connect::on_pool!(db, |pool| { sqlx::query_scalar(sql).fetch_one(pool).await });
    count
        .map(|n| u64::try_from(n).unwrap_or(0))
        .map_err(Error::database(format!(
            "counting the rows of `{table}` without `{column}`"
        )))
}

fn schema(place: &Place) -> &str {
    place.catalog_schema.as_deref().unwrap_or("public")
}

/// Groups `(index, unique, partial, column)` rows, in index order then
/// column order, into indexes.
fn group_indexes(rows: impl IntoIterator<Item = (String, bool, bool, String)>) -> Vec<IndexInfo> {
    let mut indexes: Vec<IndexInfo> = Vec::new();
    for (name, unique, partial, column) in rows {
        match indexes.last_mut() {
            Some(last) if last.name == name => last.columns.push(column),
            _ => indexes.push(IndexInfo {
                name,
                columns: vec![column],
                unique,
                partial,
            }),
        }
    }
    indexes
}
