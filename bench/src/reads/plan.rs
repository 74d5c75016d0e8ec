//! The plans of the single-object reads: the statement the library runs,
//! EXPLAINed with its bind values, and the check that the database reads
//! it through the object index `(object_pk, created_at, id)`.

use std::collections::HashMap;

use awesome_audit_log::Dialect;
use awesome_audit_log::chrono::{DateTime, Utc};
use awesome_audit_log::history::Param;
use sqlx::{Column, Row};

use crate::Result;

/// The object index of the log table `table`: `<table>_object_idx`, as
/// the library names the indexes of a new log table (short names).
pub(crate) fn object_index(table: &str) -> String {
    format!("{table}_object_idx")
}

/// Binds `params` to `query`, times as `$time` makes them (as the
/// library binds `created_at` on that backend).
macro_rules! bind_all {
    ($query:expr, $params:expr, $time:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Text(text) => query.bind(text.as_str()),
                Param::Int(int) => query.bind(*int),
                Param::Time(at) => query.bind($time(*at)),
            };
        }
        query
    }};
}

/// PostgreSQL's `EXPLAIN`: one line of text per plan row.
pub(crate) async fn explain_postgres(
    pool: &sqlx::PgPool,
    sql: &str,
    params: &[Param],
) -> Result<Vec<String>> {
    let query = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
    let rows = bind_all!(query, params, |at: DateTime<Utc>| at)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?)
}

/// MySQL's `EXPLAIN`: one line `column=value ...` per table read.
pub(crate) async fn explain_mysql(
    pool: &sqlx::MySqlPool,
    sql: &str,
    params: &[Param],
) -> Result<Vec<String>> {
    let query = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}")));
    let rows = bind_all!(query, params, |at: DateTime<Utc>| at.naive_utc())
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            row.columns()
                .iter()
                .map(|column| {
                    let i = column.ordinal();
                    let value = row
                        .try_get::<Option<String>, _>(i)
                        .or_else(|_| {
                            row.try_get::<Option<i64>, _>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .or_else(|_| {
                            row.try_get::<Option<u64>, _>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .or_else(|_| {
                            row.try_get::<Option<f64>, _>(i)
                                .map(|v| v.map(|v| v.to_string()))
                        })
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| "NULL".to_owned());
                    format!("{}={value}", column.name())
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect())
}

/// SQLite's `EXPLAIN QUERY PLAN`: the detail of each step, indented
/// under its parent.
pub(crate) async fn explain_sqlite(
    pool: &sqlx::SqlitePool,
    sql: &str,
    params: &[Param],
) -> Result<Vec<String>> {
    let query = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
    // As the library binds `created_at` on SQLite: its text form.
    let text = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string();
    let rows = bind_all!(query, params, text).fetch_all(pool).await?;
    let mut depth: HashMap<i64, usize> = HashMap::new();
    let mut lines = Vec::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let parent: i64 = row.try_get("parent")?;
        let detail: String = row.try_get("detail")?;
        let level = depth.get(&parent).map_or(0, |d| d + 1);
        depth.insert(id, level);
        lines.push(format!("{}{detail}", "  ".repeat(level)));
    }
    Ok(lines)
}

/// Whether `plan` (as the functions above print it) reads `table` through
/// its object index, and never by scanning the whole table.
pub(crate) fn uses_object_index(dialect: Dialect, table: &str, plan: &[String]) -> bool {
    let index = object_index(table);
    match dialect {
        Dialect::Postgres => {
            let through_index = plan.iter().any(|line| {
                [
                    format!("Index Scan using {index} on {table}"),
                    format!("Index Scan Backward using {index} on {table}"),
                    format!("Index Only Scan using {index} on {table}"),
                    format!("Index Only Scan Backward using {index} on {table}"),
                    format!("Bitmap Index Scan on {index}"),
                ]
                .iter()
                .any(|access| line.contains(access.as_str()))
            });
            let scan = ["Seq", "Scan", "on", table];
            through_index
                && !plan.iter().any(|line| {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    words.windows(4).any(|w| w == scan)
                })
        }
        Dialect::MySql => plan.iter().any(|line| {
            let field = |name: &str| {
                line.split(' ')
                    .find_map(|token| token.strip_prefix(name)?.strip_prefix('='))
            };
            field("table") == Some(table)
                && matches!(field("type"), Some("ref" | "range"))
                && field("key") == Some(index.as_str())
        }),
        Dialect::Sqlite => {
            let search = [
                format!("SEARCH {table} USING INDEX {index} "),
                format!("SEARCH {table} USING COVERING INDEX {index} "),
            ];
            let scan = format!("SCAN {table}");
            let lines = || plan.iter().map(|line| line.trim_start());
            lines().any(|line| search.iter().any(|s| line.starts_with(s.as_str())))
                && !lines().any(|line| line == scan || line.starts_with(&format!("{scan} ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn postgres_plans() {
        let index = lines(
            "Limit  (cost=0.42..8.45 rows=1 width=500)\n  ->  Index Scan Backward using widget_log_object_idx on widget_log  (cost=0.42..8.45 rows=1 width=500)\n        Index Cond: (object_pk = '7'::text)",
        );
        assert!(uses_object_index(Dialect::Postgres, "widget_log", &index));
        let bitmap = lines(
            "Sort\n  ->  Bitmap Heap Scan on widget_log\n        ->  Bitmap Index Scan on widget_log_object_idx",
        );
        assert!(uses_object_index(Dialect::Postgres, "widget_log", &bitmap));
        let scan =
            lines("Sort\n  ->  Seq Scan on widget_log\n        Filter: (object_pk = '7'::text)");
        assert!(!uses_object_index(Dialect::Postgres, "widget_log", &scan));
        let other = lines("Index Scan using widget_log_created_idx on widget_log");
        assert!(!uses_object_index(Dialect::Postgres, "widget_log", &other));
    }

    #[test]
    fn mysql_plans() {
        let index = lines(
            "id=1 select_type=SIMPLE table=widget_log type=ref possible_keys=widget_log_object_idx key=widget_log_object_idx key_len=766 ref=const rows=100 Extra=Using where; Using filesort",
        );
        assert!(uses_object_index(Dialect::MySql, "widget_log", &index));
        let scan = lines(
            "id=1 select_type=SIMPLE table=widget_log type=ALL possible_keys=widget_log_object_idx key=NULL key_len=NULL ref=NULL rows=1000 Extra=Using where",
        );
        assert!(!uses_object_index(Dialect::MySql, "widget_log", &scan));
        let other = lines(
            "id=1 select_type=SIMPLE table=widget_log type=range possible_keys=widget_log_object_idx,widget_log_created_idx key=widget_log_created_idx rows=10 Extra=Using where",
        );
        assert!(!uses_object_index(Dialect::MySql, "widget_log", &other));
    }

    #[test]
    fn sqlite_plans() {
        let index = lines("SEARCH widget_log USING INDEX widget_log_object_idx (object_pk=?)");
        assert!(uses_object_index(Dialect::Sqlite, "widget_log", &index));
        let scan = lines("SCAN widget_log\nUSE TEMP B-TREE FOR ORDER BY");
        assert!(!uses_object_index(Dialect::Sqlite, "widget_log", &scan));
        let other = lines("SEARCH widget_log USING INDEX widget_log_created_idx (created_at<?)");
        assert!(!uses_object_index(Dialect::Sqlite, "widget_log", &other));
    }
}
