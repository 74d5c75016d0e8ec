//! What a queue table holds, counted per log table: the outbox's rows not
//! yet moved, the dead-letter table's rows set aside. One `GROUP BY` read,
//! the same SQL on every database.

use chrono::{DateTime, Utc};

use super::decode::ReadColumns;
use super::table::TableDef;
use crate::Dialect;

/// The rows of one log table in a queue table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCount {
    /// The log table the rows are meant for, as the queue table holds it.
    pub log_table: String,
    /// How many rows.
    pub rows: u64,
    /// The oldest row's time (the change's `created_at` in the outbox,
    /// `failed_at` in the dead-letter table).
    pub oldest: DateTime<Utc>,
}

/// A queue table (`def`) and its statement counting rows per log table,
/// the oldest by `time_column`.
#[derive(Debug)]
pub struct QueueSql {
    /// The table (looked up, never created, by a count).
    pub def: TableDef,
    /// `SELECT log_table, COUNT(*), MIN(time) ... GROUP BY log_table`.
    pub counts: String,
}

impl QueueSql {
    /// The counts of `table` in `schema` (PostgreSQL only), by `time_column`.
    pub(crate) fn new(
        dialect: Dialect,
        schema: Option<&str>,
        table: &str,
        time_column: &str,
    ) -> Self {
        let schema = schema.filter(|_| dialect == Dialect::Postgres);
        let def = TableDef::new(dialect, schema, table, Vec::new());
        let log_table = dialect.quote("log_table");
        let counts = format!(
            "SELECT {log_table} AS log_table, COUNT(*) AS queued, MIN({}) AS oldest \
             FROM {} GROUP BY {log_table} ORDER BY {log_table}",
            dialect.quote(time_column),
            def.qualified,
        );
        Self { def, counts }
    }
}

/// One row of [`QueueSql::counts`]. The values come from the database: a
/// `NULL` table name is read as empty, a negative count as zero.
pub(crate) fn count(row: &impl ReadColumns) -> Result<QueueCount, sqlx::Error> {
    Ok(QueueCount {
        log_table: row.text("log_table")?.unwrap_or_default(),
        rows: row
            .big_int("queued")?
            .map_or(0, |n| u64::try_from(n).unwrap_or(0)),
        oldest: row.timestamp("oldest")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_by_log_table_in_the_schema() {
        let sql = QueueSql::new(
            Dialect::Postgres,
            Some("audit"),
            "awesome_audit_log_outbox",
            "created_at",
        );
        assert_eq!(
            sql.counts,
            "SELECT \"log_table\" AS log_table, COUNT(*) AS queued, MIN(\"created_at\") AS oldest \
             FROM \"audit\".\"awesome_audit_log_outbox\" GROUP BY \"log_table\" ORDER BY \"log_table\""
        );
        let mysql = QueueSql::new(Dialect::MySql, Some("audit"), "t", "failed_at");
        assert!(
            mysql
                .counts
                .contains("MIN(`failed_at`) AS oldest FROM `t` GROUP BY")
        );
    }
}
