//! Converting an unpartitioned log table (ours or the Django original's)
//! into a partitioned one on PostgreSQL, without losing a row and with
//! short locks: the old table becomes the partition of every row before a
//! boundary.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{DEFAULT_AHEAD, DEFAULT_LOCK_TIMEOUT, PartitionBy};
use crate::{Auditor, Error};

/// A conversion of one log table (see the guide's operations chapter):
/// built with [`Convert::table`], started with [`Convert::run`].
///
/// ```no_run
/// use awesome_audit_log::partition::{Convert, PartitionBy};
/// # async fn demo(auditor: &awesome_audit_log::Auditor) -> Result<(), awesome_audit_log::Error> {
/// let report = Convert::table(auditor, "widget_log", PartitionBy::Month).run().await?;
/// println!("rows before {} are in {}", report.boundary, report.old_rows_partition);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a conversion does nothing until `run` is awaited"]
pub struct Convert<'a> {
    pub(super) auditor: &'a Auditor,
    pub(super) log_table: String,
    pub(super) by: PartitionBy,
    pub(super) ahead: u32,
    pub(super) lock_timeout: Duration,
    pub(super) dry_run: bool,
}

/// What a conversion did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ConvertReport {
    /// The log table, now partitioned.
    pub table: String,
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// The partition the old table became: every row before the boundary.
    pub old_rows_partition: String,
    /// Where the old table's rows end and the partitions begin.
    pub boundary: DateTime<Utc>,
    /// The partitions created after the boundary.
    pub created: Vec<String>,
    /// The statements run, in order.
    pub statements: Vec<String>,
}

impl<'a> Convert<'a> {
    /// The log table `log_table`, to be partitioned by `by`.
    pub fn table(auditor: &'a Auditor, log_table: impl Into<String>, by: PartitionBy) -> Self {
        Self {
            auditor,
            log_table: log_table.into(),
            by,
            ahead: DEFAULT_AHEAD,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            dry_run: false,
        }
    }

    /// How many intervals after the boundary's get their partition.
    pub fn ahead(mut self, intervals: u32) -> Self {
        self.ahead = intervals;
        self
    }

    /// How long each statement waits for its locks (default 5 s).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// With `true`, reports the statements and changes nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Converts the table in the audit database.
    /// [`Error::PartitionsUnsupported`] on MySQL/MariaDB and SQLite,
    /// [`Error::NotPartitioned`] when the table is not an unpartitioned
    /// log table.
    pub async fn run(self) -> Result<ConvertReport, Error> {
        super::run::convert(self).await
    }
}

/// The boundary of a conversion at `now`: the start of the next interval,
/// or of the one after when the next starts within the hour, so that no
/// writer's row can reach the old table past the boundary before the
/// switch.
pub(super) fn boundary(by: PartitionBy, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use crate::backend::partitions::{interval_start, next_start};
    let next = next_start(by, interval_start(by, now))?;
    if next - now < chrono::Duration::hours(1) {
        next_start(by, next)
    } else {
        Some(next)
    }
}

#[cfg(feature = "postgres")]
pub(super) mod postgres {
    use std::time::Instant;

    use awesome_audit_log_codegen::ddl::{
        COLUMNS, EVENT_ID, INDEXES, ORIGINAL_COLUMNS, create_managed_tables, index_name,
        register_table,
    };
    use awesome_audit_log_codegen::partition::{create_default_partition, partition_name};

    use super::{Convert, ConvertReport, boundary};
    use crate::backend::partitions::{self as catalog, Relation, intervals, literal};
    use crate::{Dialect, Error};

    pub(in super::super) async fn run(
        convert: &Convert<'_>,
        alias: &str,
        pg: &sqlx::PgPool,
        schema: Option<&str>,
    ) -> Result<ConvertReport, Error> {
        let table = convert.log_table.as_str();
        let refuse = |reason: &str| Error::NotPartitioned {
            table: table.to_owned(),
            reason: reason.to_owned(),
        };
        let sql_error = |e| Error::from_sqlx(alias, Some(table), e);
        match catalog::relation(pg, schema, table)
            .await
            .map_err(sql_error)?
        {
            Relation::Table => {}
            Relation::Missing => return Err(refuse("there is no such table")),
            Relation::Partitioned | Relation::Other => {
                return Err(refuse("it is partitioned already, or not a table"));
            }
        }
        let columns = catalog::columns(pg, schema, table)
            .await
            .map_err(sql_error)?;
        let has = |name: &str| columns.iter().any(|c| c == name);
        if let Some(missing) = COLUMNS[..ORIGINAL_COLUMNS].iter().find(|c| !has(c.name)) {
            return Err(refuse(&format!(
                "it is not a log table: it has no column `{}`",
                missing.name
            )));
        }
        let d = Dialect::Postgres;
        let q = |name: &str| d.quote(name);
        let qualified = |name: &str| d.qualified(schema, name);
        let old = qualified(table);
        let sequence = catalog::id_sequence(pg, &old)
            .await
            .map_err(sql_error)?
            .ok_or_else(|| refuse("its `id` takes no values from a sequence"))?;
        let now = chrono::Utc::now();
        let by = convert.by;
        let boundary = boundary(by, now).ok_or_else(|| refuse("no boundary fits the calendar"))?;
        let old_name = partition_name(table, "00000000");
        let check = index_name(table, "before_boundary");
        let key = |columns: &[&str]| columns.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ");
        let mut keys: Vec<(String, &[&str])> =
            vec![(index_name(table, "id_created_key"), &["id", "created_at"])];
        if has(EVENT_ID) {
            keys.push((
                index_name(table, "event_id_created_key"),
                &[EVENT_ID, "created_at"],
            ));
        }
        let indexes: Vec<_> = INDEXES
            .iter()
            .filter(|index| index.columns.iter().all(|c| has(c)))
            .collect();

        // 1. Outside a transaction, without blocking writers: the unique
        // keys and the indexes the partitioned table will have, then the
        // check that spares ATTACH its scan.
        let mut slow = Vec::new();
        for (name, columns) in &keys {
            slow.push(format!(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {old} ({})",
                q(name),
                key(columns)
            ));
        }
        for index in &indexes {
            slow.push(format!(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {old} ({})",
                q(&index_name(table, index.suffix)),
                key(index.columns)
            ));
        }
        slow.push(format!(
            "ALTER TABLE {old} DROP CONSTRAINT IF EXISTS {}",
            q(&check)
        ));
        slow.push(format!(
            "ALTER TABLE {old} ADD CONSTRAINT {} CHECK ({} < '{}') NOT VALID",
            q(&check),
            q("created_at"),
            literal(boundary)
        ));
        slow.push(format!(
            "ALTER TABLE {old} VALIDATE CONSTRAINT {}",
            q(&check)
        ));

        // 2. One short transaction: the old table renamed, the parent
        // created with the same columns (and the same id sequence), the old
        // table attached for every row before the boundary, the coming
        // partitions and the DEFAULT one created, the table registered.
        let parent = old.clone();
        let renamed = qualified(&old_name);
        let mut swap = vec![format!("ALTER TABLE {old} RENAME TO {}", q(&old_name))];
        for (name, _) in &keys {
            swap.push(format!(
                "ALTER TABLE {renamed} ADD UNIQUE USING INDEX {}",
                q(name)
            ));
        }
        swap.push(format!(
            "CREATE TABLE {parent} (LIKE {renamed} INCLUDING DEFAULTS) PARTITION BY RANGE ({})",
            q("created_at")
        ));
        swap.push(format!(
            "ALTER TABLE {parent} ADD PRIMARY KEY ({})",
            key(&["id", "created_at"])
        ));
        if has(EVENT_ID) {
            swap.push(format!(
                "ALTER TABLE {parent} ADD UNIQUE ({})",
                key(&[EVENT_ID, "created_at"])
            ));
        }
        for index in &indexes {
            swap.push(format!("CREATE INDEX ON {parent} ({})", key(index.columns)));
        }
        swap.push(format!(
            "ALTER SEQUENCE {sequence} OWNED BY {parent}.{}",
            q("id")
        ));
        swap.push(format!(
            "ALTER TABLE {parent} ATTACH PARTITION {renamed} FOR VALUES FROM (MINVALUE) TO ('{}')",
            literal(boundary)
        ));
        let coming = intervals(by, table, boundary, convert.ahead.saturating_add(1));
        for interval in &coming {
            swap.push(interval.create(schema, table));
        }
        swap.push(create_default_partition(schema, table));
        swap.push(create_managed_tables(d, schema));
        swap.push(register_table(d, schema, table));

        let report = ConvertReport {
            table: table.to_owned(),
            dry_run: convert.dry_run,
            old_rows_partition: old_name,
            boundary,
            created: coming.iter().map(|i| i.name.clone()).collect(),
            statements: slow.iter().chain(&swap).cloned().collect(),
        };
        if convert.dry_run {
            return Ok(report);
        }
        let timeout_ms = u64::try_from(convert.lock_timeout.as_millis()).unwrap_or(u64::MAX);
        let started = Instant::now();
        catalog::each(pg, timeout_ms, &slow)
            .await
            .map_err(sql_error)?;
        catalog::transaction(pg, timeout_ms, &swap)
            .await
            .map_err(sql_error)?;
        tracing::info!(
            table,
            boundary = %boundary,
            elapsed_ms = started.elapsed().as_millis(),
            "audit log table converted to partitions"
        );
        Ok(report)
    }
}
