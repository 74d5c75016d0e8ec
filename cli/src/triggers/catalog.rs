//! Which of our objects a table has, read from the catalog with what it
//! keeps of their definitions ([`Installed`]). Every name is bound as a
//! value; the table's name goes into `to_regclass` quoted, as a value too.

use awesome_audit_log::Dialect;
use sqlx::{MySqlPool, PgPool, SqlitePool};

use super::expected::{Expected, Installed, ObjectKind, qualified_function};
use crate::connect::Db;
use crate::error::Error;
use crate::inspect::Place;

/// The objects of `expected` that `table` has, with their definitions.
pub(crate) async fn installed(
    db: &Db,
    place: &Place,
    table: &str,
    expected: &[Expected],
) -> Result<Vec<Installed>, Error> {
    let mut found = Vec::new();
    for object in expected {
        let name = object.name.as_str();
        let definition = match (db, object.kind) {
            (Db::Postgres(pool), ObjectKind::Trigger) => postgres_trigger(pool, table, name).await,
            (Db::Postgres(pool), ObjectKind::Function) => match &place.catalog_schema {
                Some(schema) => postgres_function(pool, schema, name).await,
                None => Ok(None),
            },
            (Db::MySql(pool), _) => mysql_trigger(pool, table, name).await,
            (Db::Sqlite(pool), _) => sqlite_trigger(pool, table, name).await,
        }
        .map_err(Error::database(format!(
            "reading the triggers of `{table}`"
        )))?;
        if let Some(definition) = definition {
            found.push(Installed {
                name: name.to_owned(),
                definition,
            });
        }
    }
    Ok(found)
}

/// The function the trigger `name` on `table` executes, as
/// `schema.function`. The table is found by the search path, as the
/// triggers' statements name it.
async fn postgres_trigger(
    pool: &PgPool,
    table: &str,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    let calls: Option<(String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, p.proname::text FROM pg_trigger t \
         JOIN pg_proc p ON p.oid = t.tgfoid \
         JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE t.tgrelid = to_regclass($1::text) AND t.tgname = $2 AND NOT t.tgisinternal",
    )
    .bind(Dialect::Postgres.quote(table))
    .bind(name)
    .fetch_optional(pool)
    .await?;
    Ok(calls.map(|(schema, function)| qualified_function(&schema, &function)))
}

/// The body of the function `name()` of `schema`.
async fn postgres_function(
    pool: &PgPool,
    schema: &str,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = 0",
    )
    .bind(schema)
    .bind(name)
    .fetch_optional(pool)
    .await
}

/// The body of the trigger `name` on `table`.
async fn mysql_trigger(
    pool: &MySqlPool,
    table: &str,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(action_statement AS CHAR) FROM information_schema.triggers \
         WHERE trigger_schema = DATABASE() AND trigger_name = ? AND event_object_table = ?",
    )
    .bind(name)
    .bind(table)
    .fetch_optional(pool)
    .await
}

/// The statement that created the trigger `name` on `table`.
async fn sqlite_trigger(
    pool: &SqlitePool,
    table: &str,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1 AND tbl_name = ?2",
    )
    .bind(name)
    .bind(table)
    .fetch_optional(pool)
    .await
}
