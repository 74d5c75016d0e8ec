//! The partitions of a log table partitioned by `created_at` on PostgreSQL:
//! the calendar of their intervals (UTC), the statements that create the
//! first ones with the table, and (feature `postgres`) what the catalog
//! says of a table's partitions and the statements maintenance runs.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};

use awesome_audit_log_codegen::partition::{PartitionBy, create_partition, partition_name};

/// The start of the interval of `by` that holds `at`: midnight UTC of its
/// day, of the Monday of its ISO week, or of the first of its month.
pub(crate) fn interval_start(by: PartitionBy, at: DateTime<Utc>) -> DateTime<Utc> {
    let day = at.date_naive();
    let start = match by {
        PartitionBy::Day => day,
        PartitionBy::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
        PartitionBy::Month => NaiveDate::from_ymd_opt(day.year(), day.month(), 1).unwrap_or(day),
    };
    Utc.from_utc_datetime(&start.and_time(chrono::NaiveTime::MIN))
}

/// The start of the interval after the one starting at `start`; `None`
/// past the end of chrono's calendar.
pub(crate) fn next_start(by: PartitionBy, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match by {
        PartitionBy::Day => start.checked_add_days(Days::new(1)),
        PartitionBy::Week => start.checked_add_days(Days::new(7)),
        PartitionBy::Month => start.checked_add_months(Months::new(1)),
    }
}

/// A timestamp as a PostgreSQL `TIMESTAMPTZ` literal, in UTC.
pub(crate) fn literal(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

/// The name of the partition of `log_table` for the interval starting at
/// `start`.
pub(crate) fn name_for(log_table: &str, start: DateTime<Utc>) -> String {
    partition_name(log_table, &start.format("%Y%m%d").to_string())
}

/// One interval of a partitioned log table: its partition's name and the
/// rows it holds, from `from` (included) to `to` (excluded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interval {
    pub(crate) name: String,
    pub(crate) from: DateTime<Utc>,
    pub(crate) to: DateTime<Utc>,
}

impl Interval {
    /// The statement that creates its partition (if it is missing).
    pub(crate) fn create(&self, schema: Option<&str>, log_table: &str) -> String {
        create_partition(
            schema,
            log_table,
            &self.name,
            &literal(self.from),
            &literal(self.to),
        )
    }
}

/// The `count` intervals of `by` from the one that holds `at` on.
pub(crate) fn intervals(
    by: PartitionBy,
    log_table: &str,
    at: DateTime<Utc>,
    count: u32,
) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut from = interval_start(by, at);
    for _ in 0..count {
        let Some(to) = next_start(by, from) else {
            break;
        };
        out.push(Interval {
            name: name_for(log_table, from),
            from,
            to,
        });
        from = to;
    }
    out
}

/// How many intervals a new partitioned table gets besides its DEFAULT
/// partition: the current one and the next, so that rows logged until the
/// first maintenance land in partitions of their own.
pub(crate) const CREATED_WITH_TABLE: u32 = 2;

/// The statements that create the partitions of the current and the next
/// interval of a new partitioned table, at `now`.
pub(crate) fn first_partitions(
    schema: Option<&str>,
    log_table: &str,
    by: PartitionBy,
    now: DateTime<Utc>,
) -> Vec<String> {
    intervals(by, log_table, now, CREATED_WITH_TABLE)
        .iter()
        .map(|interval| interval.create(schema, log_table))
        .collect()
}

#[cfg(feature = "postgres")]
pub(crate) use self::catalog::*;

#[cfg(feature = "postgres")]
mod catalog {
    use chrono::{DateTime, Utc};
    use sqlx::{AssertSqlSafe, PgPool, Row};

    /// What kind of relation a table name is on PostgreSQL.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Relation {
        /// There is none of that name.
        Missing,
        /// An ordinary table.
        Table,
        /// A table partitioned by range of `created_at`.
        Partitioned,
        /// A table partitioned otherwise, or another kind of relation.
        Other,
    }

    /// One partition of a partitioned table, as the catalog has it. Bounds
    /// that are not plain timestamps (`MINVALUE`, `MAXVALUE`) are `None`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct Attached {
        pub(crate) name: String,
        pub(crate) default: bool,
        pub(crate) from: Option<DateTime<Utc>>,
        pub(crate) to: Option<DateTime<Utc>>,
    }

    /// The schema a statement names: `schema`, else the connection's
    /// current one.
    const SCHEMA: &str = "COALESCE($2::text, current_schema())";

    /// What `table` is in `schema` (else the current schema).
    pub(crate) async fn relation(
        pool: &PgPool,
        schema: Option<&str>,
        table: &str,
    ) -> Result<Relation, sqlx::Error> {
        let sql = format!(
            "SELECT c.relkind::text, \
                    (SELECT count(*) FROM pg_catalog.pg_partitioned_table t \
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = t.partrelid \
                       AND a.attnum = t.partattrs[0] \
                     WHERE t.partrelid = c.oid AND t.partstrat = 'r' AND t.partnatts = 1 \
                       AND a.attname = 'created_at') \
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $1 AND n.nspname = {SCHEMA}"
        );
        let row: Option<(String, i64)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(table)
            .bind(schema)
            .fetch_optional(pool)
            .await?;
        Ok(match row {
            None => Relation::Missing,
            Some((kind, _)) if kind == "r" => Relation::Table,
            Some((kind, by_created_at)) if kind == "p" && by_created_at == 1 => {
                Relation::Partitioned
            }
            Some(_) => Relation::Other,
        })
    }

    /// The partitions of `table`, oldest first (the DEFAULT partition
    /// last). The bounds are read by PostgreSQL itself from the text it
    /// printed them as, in the same session, so that its time zone cannot
    /// shift them.
    pub(crate) async fn partitions(
        pool: &PgPool,
        schema: Option<&str>,
        table: &str,
    ) -> Result<Vec<Attached>, sqlx::Error> {
        let sql = format!(
            "WITH b AS ( \
               SELECT c.relname::text AS name, pg_get_expr(c.relpartbound, c.oid) AS bound \
               FROM pg_catalog.pg_inherits i \
               JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid \
               JOIN pg_catalog.pg_class p ON p.oid = i.inhparent \
               JOIN pg_catalog.pg_namespace n ON n.oid = p.relnamespace \
               WHERE p.relname = $1 AND n.nspname = {SCHEMA}) \
             SELECT name, bound = 'DEFAULT', \
                    (regexp_match(bound, 'FROM \\(''([^'']*)''\\)'))[1]::timestamptz, \
                    (regexp_match(bound, 'TO \\(''([^'']*)''\\)'))[1]::timestamptz \
             FROM b"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(table)
            .bind(schema)
            .fetch_all(pool)
            .await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            found.push(Attached {
                name: row.try_get(0)?,
                default: row.try_get::<Option<bool>, _>(1)?.unwrap_or(false),
                from: row.try_get(2)?,
                to: row.try_get(3)?,
            });
        }
        found.sort_by(|a, b| {
            (a.default, a.from, a.to, &a.name).cmp(&(b.default, b.from, b.to, &b.name))
        });
        Ok(found)
    }

    /// The number of rows of `table` with `created_at` in `[from, to)`.
    pub(crate) async fn rows_between(
        pool: &PgPool,
        qualified: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<i64, sqlx::Error> {
        let sql = format!(
            "SELECT count(*) FROM {qualified} WHERE \"created_at\" >= $1 AND \"created_at\" < $2"
        );
        sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await
    }

    /// The number of rows of `qualified`.
    pub(crate) async fn rows(pool: &PgPool, qualified: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM {qualified}")))
            .fetch_one(pool)
            .await
    }

    /// The columns of `table` in `schema` (else the current schema).
    pub(crate) async fn columns(
        pool: &PgPool,
        schema: Option<&str>,
        table: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        let sql = format!(
            "SELECT a.attname::text FROM pg_catalog.pg_attribute a \
             JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = $1 AND n.nspname = {SCHEMA} AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum"
        );
        sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(table)
            .bind(schema)
            .fetch_all(pool)
            .await
    }

    /// The sequence `id` of the table `qualified` takes its values from,
    /// schema-qualified and quoted as PostgreSQL prints it, if any.
    pub(crate) async fn id_sequence(
        pool: &PgPool,
        qualified: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT pg_get_serial_sequence($1, 'id')")
            .bind(qualified)
            .fetch_one(pool)
            .await
    }

    /// Runs each of `statements` on its own, outside a transaction (as
    /// `CREATE INDEX CONCURRENTLY` must run), with `lock_timeout` of
    /// `lock_timeout_ms` for the session.
    pub(crate) async fn each(
        pool: &PgPool,
        lock_timeout_ms: u64,
        statements: &[String],
    ) -> Result<(), sqlx::Error> {
        let mut conn = pool.acquire().await?;
        sqlx::query(AssertSqlSafe(format!(
            "SET lock_timeout = {lock_timeout_ms}"
        )))
        .execute(&mut *conn)
        .await?;
        let mut result = Ok(());
        for statement in statements {
            result = sqlx::query(AssertSqlSafe(statement.as_str()))
                .execute(&mut *conn)
                .await
                .map(|_| ());
            if result.is_err() {
                break;
            }
        }
        // The connection goes back to the pool: leave no setting behind.
        sqlx::query("RESET lock_timeout")
            .execute(&mut *conn)
            .await?;
        result
    }

    /// Runs `statements` as one transaction, after `SET LOCAL lock_timeout`
    /// of `lock_timeout_ms`.
    pub(crate) async fn transaction(
        pool: &PgPool,
        lock_timeout_ms: u64,
        statements: &[String],
    ) -> Result<(), sqlx::Error> {
        let mut tx = pool.begin().await?;
        sqlx::query(AssertSqlSafe(format!(
            "SET LOCAL lock_timeout = {lock_timeout_ms}"
        )))
        .execute(&mut *tx)
        .await?;
        for statement in statements {
            sqlx::query(AssertSqlSafe(statement.as_str()))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn intervals_start_at_midnight_utc() {
        let t = at("2026-11-26T23:59:59.999999Z");
        assert_eq!(
            interval_start(PartitionBy::Day, t),
            at("2026-11-26T00:00:00Z")
        );
        // 2026-11-26 is a Thursday: its ISO week began on Monday the 23rd.
        assert_eq!(
            interval_start(PartitionBy::Week, t),
            at("2026-11-23T00:00:00Z")
        );
        assert_eq!(
            interval_start(PartitionBy::Month, t),
            at("2026-11-01T00:00:00Z")
        );
        let monday = at("2026-11-23T00:00:00Z");
        assert_eq!(interval_start(PartitionBy::Week, monday), monday);
    }

    #[test]
    fn intervals_follow_each_other_without_gaps() {
        for by in PartitionBy::ALL {
            let list = intervals(by, "w_log", at("2024-01-31T12:00:00Z"), 14);
            assert_eq!(list.len(), 14);
            for pair in list.windows(2) {
                assert_eq!(pair[0].to, pair[1].from, "{by:?}");
                assert!(pair[0].from < pair[0].to);
            }
            assert!(list[0].from <= at("2024-01-31T12:00:00Z"));
        }
        let months = intervals(PartitionBy::Month, "w_log", at("2024-01-31T12:00:00Z"), 3);
        assert_eq!(months[1].from, at("2024-02-01T00:00:00Z"));
        assert_eq!(months[1].to, at("2024-03-01T00:00:00Z"));
        assert_eq!(months[1].name, "w_log_p20240201");
    }

    #[test]
    fn new_tables_get_the_current_and_the_next_partition() {
        let sql = first_partitions(
            Some("audit"),
            "w_log",
            PartitionBy::Month,
            at("2026-12-15T08:00:00Z"),
        );
        assert_eq!(
            sql,
            [
                "CREATE TABLE IF NOT EXISTS \"audit\".\"w_log_p20261201\" PARTITION OF \"audit\".\"w_log\" \
                 FOR VALUES FROM ('2026-12-01 00:00:00.000000+00') TO ('2027-01-01 00:00:00.000000+00')",
                "CREATE TABLE IF NOT EXISTS \"audit\".\"w_log_p20270101\" PARTITION OF \"audit\".\"w_log\" \
                 FOR VALUES FROM ('2027-01-01 00:00:00.000000+00') TO ('2027-02-01 00:00:00.000000+00')",
            ]
        );
    }

    #[test]
    fn the_end_of_the_calendar_ends_the_list() {
        assert!(intervals(PartitionBy::Month, "w_log", DateTime::<Utc>::MAX_UTC, 3).len() < 3);
    }
}
