//! What a queue table holds, counted per log table: the outbox's rows not
//! yet moved, the dead-letter table's rows set aside. One `GROUP BY` read,
//! the same SQL on every database.

use chrono::{DateTime, Utc};

use super::decode::ReadColumns;
use super::select::Param;
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

/// One row of the dead-letter table, as listed: what identifies it, why it
/// was set aside, and the size of its JSON. Read back from the database,
/// so every text may be anything.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadLetterRow {
    /// Its id in the table.
    pub id: i64,
    /// The log table it was meant for.
    pub log_table: String,
    /// The row's action, as stored.
    pub action: Option<String>,
    /// The changed object's primary key.
    pub object_pk: Option<String>,
    /// The event id.
    pub event_id: Option<String>,
    /// Why it was set aside.
    pub reason: String,
    /// When it was set aside.
    pub failed_at: DateTime<Utc>,
    /// The bytes of its `before`, `after` and `changes` text.
    pub bytes: u64,
}

impl QueueSql {
    /// A page of the table's rows by id, after `after`, at most `limit`:
    /// the statement and its parameters.
    pub(crate) fn page(&self, dialect: Dialect, after: i64, limit: i64) -> (String, Vec<Param>) {
        let q = |name| dialect.quote(name);
        let columns = [
            "id",
            "log_table",
            "action",
            "object_pk",
            "event_id",
            "reason",
            "failed_at",
            "before",
            "after",
            "changes",
        ]
        .map(q)
        .join(", ");
        let (first, second) = match dialect {
            Dialect::Postgres => ("$1", "$2"),
            Dialect::MySql | Dialect::Sqlite => ("?", "?"),
        };
        let sql = format!(
            "SELECT {columns} FROM {} WHERE {} > {first} ORDER BY {} LIMIT {second}",
            self.def.qualified,
            q("id"),
            q("id"),
        );
        (sql, vec![Param::Int(after), Param::Int(limit)])
    }

    /// Deletes the row of one id, or (`up_to`) every row up to an id.
    pub(crate) fn delete(&self, dialect: Dialect, up_to: bool) -> String {
        let placeholder = match dialect {
            Dialect::Postgres => "$1",
            Dialect::MySql | Dialect::Sqlite => "?",
        };
        format!(
            "DELETE FROM {} WHERE {} {} {placeholder}",
            self.def.qualified,
            dialect.quote("id"),
            if up_to { "<=" } else { "=" },
        )
    }

    /// The largest id (0 in an empty table).
    pub(crate) fn last_id(&self, dialect: Dialect) -> String {
        format!(
            "SELECT COALESCE(MAX({}), 0) FROM {}",
            dialect.quote("id"),
            self.def.qualified
        )
    }
}

/// One row of [`QueueSql::page`].
pub(crate) fn dead_letter_row(row: &impl ReadColumns) -> Result<DeadLetterRow, sqlx::Error> {
    let mut bytes = 0;
    for column in ["before", "after", "changes"] {
        bytes += row.text(column)?.map_or(0, |text| text.len() as u64);
    }
    Ok(DeadLetterRow {
        id: row.big_int("id")?.unwrap_or_default(),
        log_table: row.text("log_table")?.unwrap_or_default(),
        action: row.text("action")?,
        object_pk: row.text("object_pk")?,
        event_id: row.text("event_id")?,
        reason: row.text("reason")?.unwrap_or_default(),
        failed_at: row.timestamp("failed_at")?,
        bytes,
    })
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
        let (page, params) = sql.page(Dialect::Postgres, 7, 20);
        assert!(
            page.ends_with("WHERE \"id\" > $1 ORDER BY \"id\" LIMIT $2"),
            "{page}"
        );
        assert_eq!(params, [Param::Int(7), Param::Int(20)]);
        assert!(
            sql.delete(Dialect::Postgres, true)
                .ends_with("WHERE \"id\" <= $1")
        );
        let mysql = QueueSql::new(Dialect::MySql, Some("audit"), "t", "failed_at");
        assert_eq!(
            mysql.delete(Dialect::MySql, false),
            "DELETE FROM `t` WHERE `id` = ?"
        );
        assert!(
            mysql
                .counts
                .contains("MIN(`failed_at`) AS oldest FROM `t` GROUP BY")
        );
    }
}
