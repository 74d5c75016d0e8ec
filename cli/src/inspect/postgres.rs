//! PostgreSQL's catalog: `pg_class`, `pg_attribute`, `pg_attrdef`,
//! `pg_index`, in one schema.

use sqlx::{AssertSqlSafe, PgPool};

use super::{ColumnInfo, Found, TableInfo, group_indexes};
use crate::error::Error;

/// `schema`, or the connection's current schema.
pub(super) async fn schema(pool: &PgPool, schema: Option<&str>) -> Result<String, Error> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT COALESCE($1::text, current_schema()::text)")
            .bind(schema)
            .fetch_one(pool)
            .await
            .map_err(Error::database("reading the current schema"))?;
    current.ok_or_else(|| {
        Error::Schema(
            "the connection has no current schema (an empty search_path); name one with --schema"
                .to_owned(),
        )
    })
}

pub(super) async fn table(pool: &PgPool, schema: &str, table: &str) -> Result<Found, sqlx::Error> {
    let kind = relation(pool, schema, table).await?.map(|(kind, _)| kind);
    match kind.as_deref() {
        None => return Ok(Found::Missing),
        Some("r" | "p") => {}
        Some(other) => return Ok(Found::Other(relkind_name(other).to_owned())),
    }
    let columns: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                pg_get_expr(d.adbin, d.adrelid) \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(pool)
    .await?;
    // One row per index column; an expression (attnum 0) reads as one.
    let indexes: Vec<(String, bool, bool, String)> = sqlx::query_as(
        "SELECT i.relname::text, x.indisunique, x.indpred IS NOT NULL, \
                COALESCE(a.attname::text, '(expression)') \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, position) \
         LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum \
         WHERE n.nspname = $1 AND t.relname = $2 \
         ORDER BY i.relname, k.position",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(pool)
    .await?;
    let names_in_use: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1",
    )
    .bind(schema)
    .fetch_all(pool)
    .await?;
    Ok(Found::Table(TableInfo {
        columns: columns
            .into_iter()
            .map(|(name, sql_type, not_null, default)| ColumnInfo {
                name,
                sql_type,
                not_null,
                default,
                on_update: None,
            })
            .collect(),
        indexes: group_indexes(indexes),
        names_in_use,
        dependents: Vec::new(),
    }))
}

fn relkind_name(kind: &str) -> &'static str {
    match kind {
        "v" => "view",
        "m" => "materialized view",
        "S" => "sequence",
        "f" => "foreign table",
        "i" | "I" => "index",
        "c" => "composite type",
        _ => "relation that is not a table",
    }
}

pub(super) async fn registered(pool: &PgPool, qualified: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT log_table::text FROM {qualified} ORDER BY 1"
    )))
    .fetch_all(pool)
    .await
}

pub(super) async fn row_estimate(
    pool: &PgPool,
    schema: &str,
    table: &str,
) -> Result<Option<u64>, sqlx::Error> {
    // -1 (PostgreSQL 14 and later) until the table was first vacuumed or
    // analysed.
    let tuples = relation(pool, schema, table)
        .await?
        .map(|(_, tuples)| tuples);
    Ok(tuples.filter(|n| *n >= 0.0).map(|n| n.round() as u64))
}

/// The kind (`relkind`) and the planner's row estimate (`reltuples`) of
/// the relation `schema.name`, if there is one.
async fn relation(
    pool: &PgPool,
    schema: &str,
    name: &str,
) -> Result<Option<(String, f64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.relkind::text, c.reltuples::float8 \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname = $2",
    )
    .bind(schema)
    .bind(name)
    .fetch_optional(pool)
    .await
}
