//! `partition …`: the partitions of log tables partitioned by `created_at`
//! (PostgreSQL), kept in shape with the runtime's
//! [`Maintain`](awesome_audit_log::partition::Maintain).

use std::io::Write;
use std::time::Duration;

use awesome_audit_log::partition::{
    Convert, ConvertReport, DEFAULT_AHEAD, Expiry, Maintain, MaintainReport, PartitionBy,
    PartitionChange,
};
use awesome_audit_log::{AuditConfig, Auditor, Database, Dialect, ModelInfo};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use crate::connect::Db;
use crate::error::Error;
use crate::exit::Exit;
use crate::inspect::Found;
use crate::survey::Survey;

/// `partition …`: log tables partitioned by `created_at` (PostgreSQL).
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum PartitionCommand {
    /// Creates the partitions of the coming intervals and takes those
    /// past retention off the table whole (dropped, or moved to an
    /// archive schema): one short transaction per partition, no row
    /// deleted one by one.
    Maintain(MaintainArgs),
    /// Converts the unpartitioned log tables named with `--table` (ours or
    /// the Django original's) into tables partitioned by `created_at`,
    /// without losing a row: the old table becomes the partition of every
    /// row before a boundary.
    Convert(ConvertArgs),
}

/// The options of `partition convert`.
#[derive(Debug, Clone, Args)]
pub struct ConvertArgs {
    /// The interval of the partitions after the boundary
    #[arg(long, value_enum)]
    pub by: Interval,

    /// How many intervals after the boundary's get their partition
    #[arg(long, value_name = "N", default_value_t = DEFAULT_AHEAD)]
    pub ahead: u32,

    /// Print the statements and stop; nothing is changed
    #[arg(long)]
    pub dry_run: bool,

    /// How long each statement waits for its locks before it gives up:
    /// `5s`, `500ms`
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub lock_timeout: Duration,
}

/// The interval of a table's partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Interval {
    /// One partition per day (UTC).
    Day,
    /// One partition per ISO week, from Monday (UTC).
    Week,
    /// One partition per month (UTC).
    Month,
}

impl From<Interval> for PartitionBy {
    fn from(interval: Interval) -> Self {
        match interval {
            Interval::Day => PartitionBy::Day,
            Interval::Week => PartitionBy::Week,
            Interval::Month => PartitionBy::Month,
        }
    }
}

/// The options of `partition maintain`.
#[derive(Debug, Clone, Args)]
pub struct MaintainArgs {
    /// How many intervals after the current one get their partition now
    /// (the current one always does)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_AHEAD)]
    pub ahead: u32,

    /// Take off the partitions whose every row is older than this (`90d`,
    /// `12w`; units s, m, h, d, w) [default: the model's
    /// `retention(older_than)`, else none is taken off]
    #[arg(long, value_name = "DURATION", value_parser = parse_age)]
    pub older_than: Option<Duration>,

    /// Move the partitions past retention to this schema (created if
    /// missing) rather than drop them
    #[arg(long, value_name = "SCHEMA")]
    pub archive: Option<String>,

    /// The interval of the partitions to create [default: the model's
    /// `partition(by)`, else the one the newest partition covers]
    #[arg(long, value_enum)]
    pub by: Option<Interval>,

    /// Print what would be done and stop; nothing is changed
    #[arg(long)]
    pub dry_run: bool,

    /// How long each step waits for its locks before it gives up (it is
    /// tried three times): `5s`, `500ms`
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub lock_timeout: Duration,
}

fn parse_age(text: &str) -> Result<Duration, String> {
    awesome_audit_log::retention::parse_duration(text).map_err(|e| e.to_string())
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() || duration > Duration::from_secs(60 * 60) {
        return Err("give a lock timeout above zero and at most an hour".to_owned());
    }
    Ok(duration)
}

/// What became of one table.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum Outcome {
    /// Maintained (or, in a dry run, planned).
    Maintained(MaintainReport),
    /// Not partitioned, and not asked for by name: left alone.
    Skipped { table: String, reason: String },
    /// Converted (or, in a dry run, planned).
    Converted(ConvertReport),
    /// The run failed.
    Failed { table: String, reason: String },
}

#[derive(Serialize)]
struct JsonOut<'a> {
    dry_run: bool,
    tables: &'a [Outcome],
}

/// Runs `command` on the survey's tables; exit 1 when one failed.
pub(crate) async fn run(
    survey: &Survey,
    command: &PartitionCommand,
    models: &[&ModelInfo],
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let Db::Postgres(pool) = &survey.db else {
        return Err(Error::NoPartitioning(survey.dialect()));
    };
    let mut config = AuditConfig::default();
    config.pg_schema = survey.place.schema.clone();
    let auditor = Auditor::builder(config)
        .database("default", Database::from(pool.clone()))
        .build()
        .map_err(|e| Error::Schema(e.to_string()))?;
    let args = match command {
        PartitionCommand::Maintain(args) => args,
        PartitionCommand::Convert(args) => {
            return convert(survey, &auditor, args, json, out).await;
        }
    };
    let mut outcomes = Vec::new();
    for checked in &survey.tables {
        if !matches!(checked.found, Some(Found::Table(_))) {
            continue;
        }
        let table = checked.target.name.clone();
        let model = models.iter().find(|model| model.log_table() == table);
        // What `Maintain::for_model` takes from a model, for models that
        // are not `'static` here.
        let mut maintain = Maintain::table(&auditor, table.clone())
            .ahead(args.ahead)
            .dry_run(args.dry_run)
            .lock_timeout(args.lock_timeout);
        if let Some(by) = args
            .by
            .map(PartitionBy::from)
            .or(model.and_then(|m| m.partition()))
        {
            maintain = maintain.by(by);
        }
        let model_age = model.and_then(|m| m.retention()).and_then(|r| r.older_than);
        if let Some(age) = args.older_than.or(model_age) {
            maintain = maintain.older_than(age);
        }
        if let Some(schema) = &args.archive {
            maintain = maintain.archive(schema.clone());
        }
        let asked = checked.target.sources.named || model.is_some_and(|m| m.partition().is_some());
        outcomes.push(match maintain.run().await {
            Ok(report) => Outcome::Maintained(report),
            Err(awesome_audit_log::Error::NotPartitioned { reason, .. }) if !asked => {
                Outcome::Skipped { table, reason }
            }
            Err(error) => Outcome::Failed {
                table,
                reason: error.to_string(),
            },
        });
    }
    let failed = report(out, json, args.dry_run, &outcomes)?;
    Ok(Exit::from_ok(!failed))
}

/// `partition convert`: the tables named with `--table` only.
async fn convert(
    survey: &Survey,
    auditor: &Auditor,
    args: &ConvertArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let mut outcomes = Vec::new();
    for checked in survey.tables.iter().filter(|t| t.target.sources.named) {
        let table = checked.target.name.clone();
        let run = Convert::table(auditor, table.clone(), args.by.into())
            .ahead(args.ahead)
            .dry_run(args.dry_run)
            .lock_timeout(args.lock_timeout)
            .run()
            .await;
        outcomes.push(match run {
            Ok(report) => Outcome::Converted(report),
            Err(error) => Outcome::Failed {
                table,
                reason: error.to_string(),
            },
        });
    }
    let failed = report(out, json, args.dry_run, &outcomes)?;
    Ok(Exit::from_ok(!outcomes.is_empty() && !failed))
}

/// Prints the outcomes (as JSON with `--json`); whether a table failed.
fn report(
    out: &mut dyn Write,
    json: bool,
    dry_run: bool,
    outcomes: &[Outcome],
) -> Result<bool, Error> {
    if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &JsonOut {
                dry_run,
                tables: outcomes,
            },
        )
        .map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        print(out, outcomes, dry_run)?;
    }
    Ok(outcomes
        .iter()
        .any(|outcome| matches!(outcome, Outcome::Failed { .. })))
}

fn print(out: &mut dyn Write, outcomes: &[Outcome], dry_run: bool) -> std::io::Result<()> {
    if outcomes.is_empty() {
        writeln!(
            out,
            "no log table to work on (partition convert takes the tables named with --table)"
        )?;
    }
    let span = |change: &PartitionChange| {
        let at =
            |t: Option<awesome_audit_log::chrono::DateTime<awesome_audit_log::chrono::Utc>>,
             none: &str| {
                t.map_or_else(
                    || none.to_owned(),
                    |t| t.format("%Y-%m-%d %H:%M").to_string(),
                )
            };
        format!("[{}, {})", at(change.from, "-inf"), at(change.to, "+inf"))
    };
    let verb = |done: &'static str, planned: &'static str| if dry_run { planned } else { done };
    for outcome in outcomes {
        match outcome {
            Outcome::Maintained(report) => {
                writeln!(out, "{}: partitions by {}", report.table, report.by)?;
                for change in &report.created {
                    write!(
                        out,
                        "  {} {} {}",
                        verb("created", "would create"),
                        change.name,
                        span(change)
                    )?;
                    if change.rows > 0 {
                        write!(
                            out,
                            ", {} row(s) moved from the DEFAULT partition",
                            change.rows
                        )?;
                    }
                    writeln!(out)?;
                }
                for change in &report.expired {
                    let what = match (report.expiry, &report.archive) {
                        (Expiry::Archived, Some(schema)) => {
                            format!("{} to schema {schema}", verb("archived", "would archive"))
                        }
                        _ => verb("dropped", "would drop").to_owned(),
                    };
                    writeln!(
                        out,
                        "  {what} {} {}, {} row(s)",
                        change.name,
                        span(change),
                        change.rows
                    )?;
                }
                if report.created.is_empty() && report.expired.is_empty() {
                    writeln!(out, "  nothing to do")?;
                }
            }
            Outcome::Skipped { table, reason } => writeln!(out, "{table}: skipped, {reason}")?,
            Outcome::Converted(report) => {
                for statement in &report.statements {
                    writeln!(out, "{statement};")?;
                }
                writeln!(
                    out,
                    "{}: {} partitioned; rows before {} are in {}",
                    report.table,
                    verb("converted,", "would be converted,"),
                    report.boundary.format("%Y-%m-%d %H:%M UTC"),
                    report.old_rows_partition
                )?;
            }
            Outcome::Failed { table, reason } => writeln!(out, "{table}: FAILED, {reason}")?,
        }
    }
    if dry_run {
        writeln!(out, "-- dry run: nothing was changed")?;
    }
    Ok(())
}

/// The message for a database without partitioning.
pub(crate) fn unsupported(dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => "partition: SQLite has no table partitioning; the log tables stay single tables (prune them with retention)".to_owned(),
        Dialect::MySql => "partition: maintenance of partitioned log tables is for PostgreSQL; MySQL/MariaDB log tables are not partitioned (see the guide's operations chapter for why)".to_owned(),
        Dialect::Postgres => "partition: this database cannot be maintained".to_owned(),
    }
}
