//! MySQL's and MariaDB's catalog: `information_schema` of the connection's
//! database. Text columns are cast to `CHAR`, whose type every server
//! reports alike.

use sqlx::{AssertSqlSafe, MySqlPool};

use super::{ColumnInfo, Found, TableInfo, group_indexes};

pub(super) async fn table(pool: &MySqlPool, table: &str) -> Result<Found, sqlx::Error> {
    let kind: Option<String> = sqlx::query_scalar(
        "SELECT CAST(table_type AS CHAR) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = ?",
    )
    .bind(table)
    .fetch_optional(pool)
    .await?;
    match kind.as_deref() {
        None => return Ok(Found::Missing),
        Some("BASE TABLE") => {}
        Some(other) => return Ok(Found::Other(other.to_lowercase())),
    }
    let columns: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), CAST(is_nullable AS CHAR), \
                CAST(column_default AS CHAR), CAST(extra AS CHAR) \
         FROM information_schema.columns \
         WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let indexes: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT CAST(index_name AS CHAR), CAST(non_unique AS SIGNED), \
                CAST(COALESCE(column_name, '(expression)') AS CHAR) \
         FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? \
         ORDER BY index_name, seq_in_index",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let indexes = group_indexes(
        indexes
            .into_iter()
            .map(|(name, non_unique, column)| (name, non_unique == 0, false, column)),
    );
    Ok(Found::Table(TableInfo {
        columns: columns
            .into_iter()
            .map(|(name, sql_type, nullable, default, extra)| ColumnInfo {
                name,
                sql_type: sql_type.to_lowercase(),
                not_null: nullable == "NO",
                default: default.filter(|d| !d.eq_ignore_ascii_case("NULL")),
                on_update: on_update(&extra),
            })
            .collect(),
        names_in_use: indexes.iter().map(|index| index.name.clone()).collect(),
        indexes,
        dependents: Vec::new(),
    }))
}

/// The `on update …` part of a column's `EXTRA`.
fn on_update(extra: &str) -> Option<String> {
    let lower = extra.to_lowercase();
    let at = lower.find("on update ")?;
    Some(extra[at..].trim().to_owned())
}

pub(super) async fn registered(
    pool: &MySqlPool,
    qualified: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT CAST(log_table AS CHAR) FROM {qualified} ORDER BY 1"
    )))
    .fetch_all(pool)
    .await
}

pub(super) async fn row_estimate(
    pool: &MySqlPool,
    table: &str,
) -> Result<Option<u64>, sqlx::Error> {
    let rows: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT CAST(table_rows AS SIGNED) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = ?",
    )
    .bind(table)
    .fetch_optional(pool)
    .await?;
    Ok(rows.flatten().and_then(|n| u64::try_from(n).ok()))
}

#[cfg(test)]
mod tests {
    use super::on_update;

    #[test]
    fn on_update_clauses_are_found_in_either_spelling() {
        assert_eq!(
            on_update("on update current_timestamp()").as_deref(),
            Some("on update current_timestamp()")
        );
        assert_eq!(
            on_update("DEFAULT_GENERATED on update CURRENT_TIMESTAMP").as_deref(),
            Some("on update CURRENT_TIMESTAMP")
        );
        assert_eq!(on_update("auto_increment"), None);
    }
}
