//! SQLite's catalog: `sqlite_master` and the table-valued pragmas.

use sqlx::{AssertSqlSafe, SqlitePool};

use super::{ColumnInfo, Found, TableInfo, group_indexes};

pub(super) async fn table(pool: &SqlitePool, table: &str) -> Result<Found, sqlx::Error> {
    let kind: Option<String> = sqlx::query_scalar(
        "SELECT type FROM sqlite_master WHERE name = ?1 AND type IN ('table', 'view')",
    )
    .bind(table)
    .fetch_optional(pool)
    .await?;
    match kind.as_deref() {
        None => return Ok(Found::Missing),
        Some("table") => {}
        Some(other) => return Ok(Found::Other(other.to_owned())),
    }
    let columns: Vec<(String, String, bool, Option<String>, i64)> = sqlx::query_as(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let indexes: Vec<(String, bool, bool, Option<String>)> = sqlx::query_as(
        "SELECT l.name, l.\"unique\", l.partial, i.name \
         FROM pragma_index_list(?1) AS l, pragma_index_info(l.name) AS i \
         ORDER BY l.name, i.seqno",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let dependents: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master \
         WHERE tbl_name = ?1 AND type IN ('index', 'trigger') AND sql IS NOT NULL \
         ORDER BY type = 'trigger', name",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let names_in_use: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master")
        .fetch_all(pool)
        .await?;
    Ok(Found::Table(TableInfo {
        columns: columns
            .into_iter()
            .map(|(name, sql_type, not_null, default, pk)| ColumnInfo {
                name,
                sql_type,
                // The rowid alias `INTEGER PRIMARY KEY` is never NULL.
                not_null: not_null || pk > 0,
                default,
                on_update: None,
            })
            .collect(),
        indexes: group_indexes(indexes.into_iter().map(|(name, unique, partial, column)| {
            (
                name,
                unique,
                partial,
                column.unwrap_or_else(|| "(expression)".to_owned()),
            )
        })),
        names_in_use,
        dependents,
    }))
}

pub(super) async fn registered(
    pool: &SqlitePool,
    qualified: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT CAST(log_table AS TEXT) FROM {qualified} ORDER BY 1"
    )))
    .fetch_all(pool)
    .await
}

/// The span of rowids: as many rows as that when none was deleted, found
/// at both ends of the table's b-tree without reading it (one `MIN` or
/// `MAX` per query, which SQLite answers from the b-tree's ends).
pub(super) async fn row_estimate(
    pool: &SqlitePool,
    qualified: &str,
) -> Result<Option<u64>, sqlx::Error> {
    let span: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT COALESCE((SELECT MAX(rowid) FROM {qualified}) - (SELECT MIN(rowid) FROM {qualified}) + 1, 0)"
    )))
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(span).ok())
}
