//! Log tables partitioned by `created_at` on PostgreSQL: the interval of
//! the partitions, the table's statements and the names of its partitions.
//!
//! A partitioned log table has the columns of every log table
//! ([`COLUMNS`]), but PostgreSQL requires each unique key of a partitioned
//! table to contain the partitioning column: its primary key is
//! `(id, created_at)` and `event_id` is unique together with `created_at`.
//! A row is written once all the same: a redelivered event carries the
//! event time it was first written with, so it meets its first copy on
//! `(event_id, created_at)`.
//!
//! Every partitioned log table has a DEFAULT partition, so that no row is
//! ever refused for lack of a partition; partition maintenance keeps it
//! empty by creating the partitions of the coming intervals ahead of time.
//!
//! ```
//! use awesome_audit_log_codegen::partition::{PartitionBy, create_partitioned_table_statements};
//!
//! assert_eq!(PartitionBy::parse("month"), Some(PartitionBy::Month));
//! let sql = create_partitioned_table_statements(Some("audit"), "widget_log");
//! assert!(sql[0].ends_with(") PARTITION BY RANGE (\"created_at\")"));
//! assert!(sql.iter().any(|s| s.contains("PARTITION OF \"audit\".\"widget_log\" DEFAULT")));
//! ```

use crate::ddl::{
    COLUMNS, Column, Dialect, EVENT_ID, INDEXES, SqlType, bounded_name, create_index,
    create_managed_tables, create_table_statements, create_table_with, register_table,
};

/// The interval each partition of a partitioned log table covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartitionBy {
    /// One partition per day (UTC).
    Day,
    /// One partition per ISO week, Monday to Monday (UTC).
    Week,
    /// One partition per calendar month (UTC).
    Month,
}

impl PartitionBy {
    /// Every interval, shortest first.
    pub const ALL: [PartitionBy; 3] = [PartitionBy::Day, PartitionBy::Week, PartitionBy::Month];

    /// The interval's name as written in `partition(by = "...")`.
    ///
    /// ```
    /// use awesome_audit_log_codegen::partition::PartitionBy;
    ///
    /// assert_eq!(PartitionBy::Week.name(), "week");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            PartitionBy::Day => "day",
            PartitionBy::Week => "week",
            PartitionBy::Month => "month",
        }
    }

    /// The interval named `text` (`day`, `week` or `month`).
    ///
    /// ```
    /// use awesome_audit_log_codegen::partition::PartitionBy;
    ///
    /// assert_eq!(PartitionBy::parse("day"), Some(PartitionBy::Day));
    /// assert_eq!(PartitionBy::parse("Day"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|by| by.name() == text)
    }
}

/// The names `partition(by = "...")` takes, for messages.
pub const PARTITION_BY_LIST: &str = "\"day\", \"week\" or \"month\"";

/// The name of the DEFAULT partition of `log_table`: `<log_table>_default`
/// (cut and hashed like an index name when too long).
///
/// ```
/// use awesome_audit_log_codegen::partition::default_partition_name;
///
/// assert_eq!(default_partition_name("widget_log"), "widget_log_default");
/// ```
pub fn default_partition_name(log_table: &str) -> String {
    bounded_name(log_table, "default")
}

/// The name of the partition of `log_table` whose interval starts on the
/// day `yyyymmdd` (eight digits): `<log_table>_p<yyyymmdd>` (cut and
/// hashed like an index name when too long).
///
/// ```
/// use awesome_audit_log_codegen::partition::partition_name;
///
/// assert_eq!(partition_name("widget_log", "20261101"), "widget_log_p20261101");
/// ```
pub fn partition_name(log_table: &str, yyyymmdd: &str) -> String {
    bounded_name(log_table, &format!("p{yyyymmdd}"))
}

/// The columns of a partitioned log table: [`COLUMNS`] without the
/// single-column keys, which a partitioned table cannot have (its keys are
/// table constraints that include `created_at`).
pub fn partitioned_columns() -> Vec<Column> {
    COLUMNS
        .iter()
        .map(|column| match column.name {
            "id" => Column {
                postgres: SqlType::new("BIGSERIAL"),
                ..*column
            },
            EVENT_ID => Column {
                postgres: SqlType::chars("VARCHAR(36)", 36),
                ..*column
            },
            _ => *column,
        })
        .collect()
}

/// The unique keys of a partitioned log table, each with `created_at`:
/// the primary key, then the event id's.
pub const PARTITIONED_KEYS: [(&str, [&str; 2]); 2] = [
    ("PRIMARY KEY", ["id", "created_at"]),
    ("UNIQUE", [EVENT_ID, "created_at"]),
];

/// `CREATE TABLE IF NOT EXISTS` of the partitioned parent `log_table`
/// (PostgreSQL), without indexes or partitions.
///
/// ```
/// use awesome_audit_log_codegen::partition::create_partitioned_table;
///
/// let sql = create_partitioned_table(None, "widget_log");
/// assert!(sql.contains("\"id\" BIGSERIAL,\n"));
/// assert!(sql.contains("PRIMARY KEY (\"id\", \"created_at\"),\n    UNIQUE (\"event_id\", \"created_at\")\n)"));
/// ```
pub fn create_partitioned_table(schema: Option<&str>, log_table: &str) -> String {
    let dialect = Dialect::Postgres;
    let table = create_table_with(dialect, schema, log_table, &partitioned_columns(), &[]);
    let body = table.strip_suffix("\n)").unwrap_or(&table);
    let keys: Vec<String> = PARTITIONED_KEYS
        .iter()
        .map(|(kind, columns)| {
            let columns: Vec<String> = columns.iter().map(|c| dialect.quote(c)).collect();
            format!("    {kind} ({})", columns.join(", "))
        })
        .collect();
    format!(
        "{body},\n{}\n) PARTITION BY RANGE ({})",
        keys.join(",\n"),
        dialect.quote("created_at")
    )
}

/// `CREATE TABLE IF NOT EXISTS` of the partition `name` of `log_table`
/// for the rows from `from` (included) to `to` (excluded), both timestamp
/// literals such as `2026-11-01 00:00:00+00` that the caller formats.
///
/// ```
/// use awesome_audit_log_codegen::partition::create_partition;
///
/// assert_eq!(
///     create_partition(None, "widget_log", "widget_log_p20261101", "2026-11-01 00:00:00+00", "2026-12-01 00:00:00+00"),
///     "CREATE TABLE IF NOT EXISTS \"widget_log_p20261101\" PARTITION OF \"widget_log\" \
///      FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00')"
/// );
/// ```
pub fn create_partition(
    schema: Option<&str>,
    log_table: &str,
    name: &str,
    from: &str,
    to: &str,
) -> String {
    let dialect = Dialect::Postgres;
    format!(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ('{}') TO ('{}')",
        dialect.qualified(schema, name),
        dialect.qualified(schema, log_table),
        from.replace('\'', "''"),
        to.replace('\'', "''"),
    )
}

/// `CREATE TABLE IF NOT EXISTS` of the DEFAULT partition of `log_table`.
pub fn create_default_partition(schema: Option<&str>, log_table: &str) -> String {
    let dialect = Dialect::Postgres;
    format!(
        "CREATE TABLE IF NOT EXISTS {} PARTITION OF {} DEFAULT",
        dialect.qualified(schema, &default_partition_name(log_table)),
        dialect.qualified(schema, log_table),
    )
}

/// The statements that create the partitioned log table `log_table` on
/// PostgreSQL, in order: the parent, its indexes (each one index per
/// partition, created with it), the DEFAULT partition, then the table of
/// managed tables and the registration, as
/// [`create_table_statements`] does
/// for an unpartitioned table. The partitions of the current and the
/// coming intervals are created by the runtime, which knows the date.
///
/// ```
/// use awesome_audit_log_codegen::partition::create_partitioned_table_statements;
///
/// let sql = create_partitioned_table_statements(None, "widget_log");
/// assert_eq!(sql.len(), 8);
/// assert_eq!(sql[5], "CREATE TABLE IF NOT EXISTS \"widget_log_default\" PARTITION OF \"widget_log\" DEFAULT");
/// ```
pub fn create_partitioned_table_statements(schema: Option<&str>, log_table: &str) -> Vec<String> {
    create_partitioned_table_statements_with(schema, log_table, Vec::new())
}

/// [`create_partitioned_table_statements`] with the statements that create
/// the first partitions ([`create_partition`]) before the DEFAULT
/// partition: once the DEFAULT partition exists, a writer's row could
/// land in it and keep the partition of its interval from being created.
pub fn create_partitioned_table_statements_with(
    schema: Option<&str>,
    log_table: &str,
    first_partitions: Vec<String>,
) -> Vec<String> {
    let dialect = Dialect::Postgres;
    std::iter::once(create_partitioned_table(schema, log_table))
        .chain(
            INDEXES
                .iter()
                .map(|index| create_index(dialect, schema, log_table, index)),
        )
        .chain(first_partitions)
        .chain([
            create_default_partition(schema, log_table),
            create_managed_tables(dialect, schema),
            register_table(dialect, schema, log_table),
        ])
        .collect()
}

/// The statements that create the log table `log_table` in `dialect`:
/// partitioned by `partition` on PostgreSQL
/// ([`create_partitioned_table_statements`]), else as
/// [`create_table_statements`] makes it (MySQL/MariaDB and SQLite ignore
/// the partitioning; see the guide's operations chapter).
///
/// ```
/// use awesome_audit_log_codegen::ddl::{Dialect, create_table_statements};
/// use awesome_audit_log_codegen::partition::{PartitionBy, log_table_statements};
///
/// let month = Some(PartitionBy::Month);
/// assert!(log_table_statements(Dialect::Postgres, None, "w_log", month)[0].contains("PARTITION BY"));
/// assert_eq!(log_table_statements(Dialect::MySql, None, "w_log", month), create_table_statements(Dialect::MySql, None, "w_log"));
/// ```
pub fn log_table_statements(
    dialect: Dialect,
    schema: Option<&str>,
    log_table: &str,
    partition: Option<PartitionBy>,
) -> Vec<String> {
    match (dialect, partition) {
        (Dialect::Postgres, Some(_)) => create_partitioned_table_statements(schema, log_table),
        _ => create_table_statements(dialect, schema, log_table),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_keys_differ_from_an_unpartitioned_table() {
        let columns = partitioned_columns();
        assert_eq!(columns.len(), COLUMNS.len());
        for (ours, plain) in columns.iter().zip(COLUMNS.iter()) {
            assert_eq!(ours.name, plain.name);
            assert_eq!(ours.mysql, plain.mysql);
            assert_eq!(ours.sqlite, plain.sqlite);
            let sql = ours.postgres.sql;
            assert!(
                !sql.contains("PRIMARY KEY") && !sql.contains("UNIQUE"),
                "{sql}"
            );
            assert_eq!(
                sql,
                plain
                    .postgres
                    .sql
                    .replace(" PRIMARY KEY", "")
                    .replace(" UNIQUE", "")
            );
        }
        for (_, key) in PARTITIONED_KEYS {
            assert!(key.contains(&"created_at"));
        }
    }

    #[test]
    fn names_are_cut_like_index_names() {
        let long = format!("{}_log", "x".repeat(59));
        let name = partition_name(&long, "20260101");
        assert!(name.len() <= 63 && name.ends_with("_p20260101"), "{name}");
        assert_ne!(
            name,
            partition_name(&format!("{}_log", "x".repeat(58)), "20260101")
        );
        assert!(default_partition_name(&long).ends_with("_default"));
    }

    #[test]
    fn literals_are_quoted() {
        let sql = create_partition(Some("a"), "w_log", "w_log_p1", "x'y", "z");
        assert!(sql.contains("FROM ('x''y') TO ('z')"), "{sql}");
        assert!(sql.starts_with(
            "CREATE TABLE IF NOT EXISTS \"a\".\"w_log_p1\" PARTITION OF \"a\".\"w_log\""
        ));
    }

    #[test]
    fn every_interval_parses_back() {
        for by in PartitionBy::ALL {
            assert_eq!(PartitionBy::parse(by.name()), Some(by));
        }
        assert_eq!(PartitionBy::parse("year"), None);
    }
}
