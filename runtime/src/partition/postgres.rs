//! A maintenance on PostgreSQL: the table is checked, its partitions
//! read, the plan made, then each step run as a short transaction of its
//! own.

use std::time::{Duration, Instant};

use super::Maintain;
use super::plan::{Existing, infer_interval, plan};
use super::report::{Expiry, MaintainReport, PartitionChange};
use crate::Error;
use crate::backend::partitions::{self as catalog, Interval, Relation, literal};
use crate::error::classify::is_lock_timeout;

/// How many times a step that timed out waiting for its locks is tried.
const ATTEMPTS: u32 = 3;

pub(super) async fn run(
    maintain: &Maintain<'_>,
    alias: &str,
    pg: &sqlx::PgPool,
    schema: Option<&str>,
    not_partitioned: impl Fn(&str) -> Error,
) -> Result<MaintainReport, Error> {
    let began = Instant::now();
    let table = maintain.log_table.as_str();
    let sql_error = |e| Error::from_sqlx(alias, Some(table), e);
    match catalog::relation(pg, schema, table)
        .await
        .map_err(sql_error)?
    {
        Relation::Partitioned => {}
        Relation::Missing => return Err(not_partitioned("there is no such table")),
        Relation::Table => {
            return Err(not_partitioned(
                "it is not partitioned (`partition convert` converts it)",
            ));
        }
        Relation::Other => {
            return Err(not_partitioned(
                "it is not a table partitioned by range of `created_at`",
            ));
        }
    }
    let existing: Vec<Existing> = catalog::partitions(pg, schema, table)
        .await
        .map_err(sql_error)?
        .into_iter()
        .map(|found| Existing {
            name: found.name,
            default: found.default,
            from: found.from,
            to: found.to,
        })
        .collect();
    let Some(by) = maintain.by.or_else(|| infer_interval(&existing)) else {
        return Err(not_partitioned(
            "its interval is not known: give it (day, week or month)",
        ));
    };
    let now = chrono::Utc::now();
    let planned = plan(
        table,
        by,
        &existing,
        now,
        maintain.ahead,
        maintain.cutoff(now),
    );
    let d = crate::Dialect::Postgres;
    let qualified = |name: &str| d.qualified(schema, name);
    let parent = qualified(table);
    let default = existing
        .iter()
        .find(|found| found.default)
        .map(|found| qualified(&found.name));
    let timeout_ms = u64::try_from(maintain.lock_timeout.as_millis()).unwrap_or(u64::MAX);
    let mut report = MaintainReport {
        table: table.to_owned(),
        dry_run: maintain.dry_run,
        by: by.name(),
        created: Vec::new(),
        expired: Vec::new(),
        expiry: if maintain.archive.is_some() {
            Expiry::Archived
        } else {
            Expiry::Dropped
        },
        archive: maintain.archive.clone(),
        longest_step: Duration::ZERO,
        elapsed: Duration::ZERO,
    };
    // Runs one step's statements as a transaction, again when it timed
    // out waiting for its locks.
    let step = async |statements: Vec<String>, longest: &mut Duration| {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let started = Instant::now();
            match catalog::transaction(pg, timeout_ms, &statements).await {
                Ok(()) => {
                    *longest = (*longest).max(started.elapsed());
                    return Ok(());
                }
                Err(e) if is_lock_timeout(&e) && attempt < ATTEMPTS => {
                    tracing::warn!(
                        table,
                        attempt,
                        "partition maintenance waited too long for a lock; trying again"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(Error::from_sqlx(alias, Some(table), e)),
            }
        }
    };
    for interval in &planned.create {
        let in_default = match &default {
            Some(default) => catalog::rows_between(pg, default, interval.from, interval.to)
                .await
                .map_err(sql_error)?,
            None => 0,
        };
        report.created.push(PartitionChange {
            name: interval.name.clone(),
            from: Some(interval.from),
            to: Some(interval.to),
            rows: u64::try_from(in_default).unwrap_or(0),
        });
        if maintain.dry_run {
            continue;
        }
        let create = interval.create(schema, table);
        let statements = match (&default, in_default) {
            (Some(default), 1..) => move_out_of_default(&parent, default, &create, interval),
            _ => vec![create],
        };
        step(statements, &mut report.longest_step).await?;
    }
    if let Some(archive) = &maintain.archive
        && !maintain.dry_run
        && !planned.expire.is_empty()
    {
        let create = format!("CREATE SCHEMA IF NOT EXISTS {}", d.quote(archive));
        step(vec![create], &mut report.longest_step).await?;
    }
    for expired in &planned.expire {
        let partition = qualified(&expired.name);
        let rows = catalog::rows(pg, &partition).await.map_err(sql_error)?;
        report.expired.push(PartitionChange {
            name: expired.name.clone(),
            from: expired.from,
            to: expired.to,
            rows: u64::try_from(rows).unwrap_or(0),
        });
        if maintain.dry_run {
            continue;
        }
        let detach = format!("ALTER TABLE {parent} DETACH PARTITION {partition}");
        let then = match &maintain.archive {
            Some(archive) => format!("ALTER TABLE {partition} SET SCHEMA {}", d.quote(archive)),
            None => format!("DROP TABLE {partition}"),
        };
        step(vec![detach, then], &mut report.longest_step).await?;
    }
    report.elapsed = began.elapsed();
    tracing::info!(
        table,
        by = by.name(),
        created = report.created.len(),
        expired = report.expired.len(),
        dry_run = report.dry_run,
        longest_step_ms = report.longest_step.as_millis(),
        "audit log partitions maintained"
    );
    Ok(report)
}

/// The statements that create the partition of `interval` when the
/// DEFAULT partition holds rows of it (which would make the plain
/// `CREATE` fail): those rows are moved to a temporary table, the
/// partition is created, and they are inserted back through the parent,
/// ids and all, in one transaction.
fn move_out_of_default(
    parent: &str,
    default: &str,
    create: &str,
    interval: &Interval,
) -> Vec<String> {
    let range = format!(
        "\"created_at\" >= '{}' AND \"created_at\" < '{}'",
        literal(interval.from),
        literal(interval.to)
    );
    vec![
        format!("LOCK TABLE {parent} IN SHARE ROW EXCLUSIVE MODE"),
        format!("CREATE TEMPORARY TABLE awesome_audit_log_moving (LIKE {parent}) ON COMMIT DROP"),
        format!(
            "WITH moved AS (DELETE FROM {default} WHERE {range} RETURNING *) \
             INSERT INTO awesome_audit_log_moving SELECT * FROM moved"
        ),
        create.to_owned(),
        format!("INSERT INTO {parent} SELECT * FROM awesome_audit_log_moving"),
    ]
}
