//! One bulk statement under the triggers: `UPDATE widget SET qty = qty + 1`
//! over every row of a `widget` table of `--rows` rows, as a data fix in a
//! SQL shell would run it (autocommitted, no audit scope), timed without
//! triggers (`none`), with the hand-written reference trigger (`trigger`)
//! and with the generated triggers (`trigger_capture_autocommit`). The
//! modes take turns over the repetitions; each starts from a fresh table
//! filled before its triggers are installed, so only the update is timed,
//! and after each the log must hold exactly one update row per row.

use std::time::{Duration, Instant};

use awesome_audit_log::chrono::{SubsecRound, Utc};
use awesome_audit_log::triggers::TriggerOutcome;
use awesome_audit_log::{AuditConfig, Auditor, Dialect};
use serde::Serialize;

use crate::Result;
use crate::app_db::AppDb;
use crate::cli::BulkArgs;
use crate::model::{Widget, widget};
use crate::report::median;
use crate::runner::RowMismatch;
use crate::setup::{Job, on_backend};
use crate::sql::{reference_trigger, reset_sql};

/// Rows per `INSERT` of the fill.
const FILL_CHUNK: usize = 1000;

/// The statement timed.
const BULK_UPDATE: &str = "UPDATE widget SET qty = qty + 1";

/// Who logs the bulk update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logger {
    /// Nobody: the statement alone, the baseline.
    None,
    /// The hand-written reference trigger.
    Reference,
    /// The generated triggers.
    Generated,
}

impl Logger {
    const ALL: [Logger; 3] = [Logger::None, Logger::Reference, Logger::Generated];

    fn name(self) -> &'static str {
        match self {
            Logger::None => "none",
            Logger::Reference => "trigger",
            Logger::Generated => "trigger_capture_autocommit",
        }
    }
}

/// One line of the results: a mode over the repetitions.
#[derive(Debug, Serialize)]
pub(crate) struct BulkRow {
    backend: &'static str,
    mode: &'static str,
    rows: usize,
    reps: usize,
    /// Median over the repetitions of the update's wall time.
    seconds: f64,
    /// Median over the repetitions of its time / the time of `none` in
    /// the same repetition.
    ratio_vs_none: Option<f64>,
    /// Median over the repetitions of its time / the time of `trigger` in
    /// the same repetition (the generated triggers only).
    ratio_vs_reference: Option<f64>,
    /// Update rows the log held after each repetition.
    log_rows: usize,
    server_version: String,
    crate_version: &'static str,
    date: String,
}

/// The bulk update benchmark on the backend `args` names.
pub(crate) async fn run(args: &BulkArgs) -> Result<Vec<BulkRow>> {
    if args.rows == 0 || args.reps == 0 {
        return Err("--rows and --reps must be at least 1".into());
    }
    on_backend(&args.target, Bulk { args }).await
}

/// The bulk update benchmark on the pool of one backend.
struct Bulk<'a> {
    args: &'a BulkArgs,
}

impl Job for Bulk<'_> {
    type Output = Vec<BulkRow>;

    async fn run<DB: AppDb>(self, pool: sqlx::Pool<DB>) -> Result<Vec<BulkRow>> {
        let args = self.args;
        let version = DB::server_version(&pool).await?;
        println!(
            "backend {} ({version}): `{BULK_UPDATE}` over {} rows, {} repetitions",
            args.target.backend.name(),
            args.rows,
            args.reps
        );
        let at = Utc::now().trunc_subsecs(6);
        let widgets: Vec<Widget> = (1..=args.rows).map(|i| widget(i, at)).collect();
        // times[logger][rep]
        let mut times = [Vec::new(), Vec::new(), Vec::new()];
        for rep in 0..args.reps {
            let mut order = Logger::ALL;
            order.rotate_left(rep % Logger::ALL.len());
            for logger in order {
                let elapsed = one_run(&pool, &widgets, logger).await?;
                eprintln!(
                    "  rep {} {:<27} {:>8.3} s",
                    rep + 1,
                    logger.name(),
                    elapsed.as_secs_f64()
                );
                times[logger as usize].push(elapsed.as_secs_f64());
            }
        }
        DB::clean_up(&pool).await?;
        pool.close().await;
        let date = Utc::now().format("%Y-%m-%d").to_string();
        let ratio = |mine: &[f64], other: &[f64]| {
            median(mine.iter().zip(other).map(|(m, o)| m / o).collect())
        };
        Ok(Logger::ALL
            .into_iter()
            .map(|logger| {
                let mine = &times[logger as usize];
                BulkRow {
                    backend: args.target.backend.name(),
                    mode: logger.name(),
                    rows: args.rows,
                    reps: args.reps,
                    seconds: median(mine.clone()),
                    ratio_vs_none: (logger != Logger::None)
                        .then(|| ratio(mine, &times[Logger::None as usize])),
                    ratio_vs_reference: (logger == Logger::Generated)
                        .then(|| ratio(mine, &times[Logger::Reference as usize])),
                    log_rows: if logger == Logger::None { 0 } else { args.rows },
                    server_version: version.clone(),
                    crate_version: env!("CARGO_PKG_VERSION"),
                    date: date.clone(),
                }
            })
            .collect())
    }
}

/// Fresh tables filled with `widgets`, `logger`'s triggers, then the timed
/// update; checks that the log holds one update row per row (none without
/// triggers).
async fn one_run<DB: AppDb>(
    pool: &sqlx::Pool<DB>,
    widgets: &[Widget],
    logger: Logger,
) -> Result<Duration> {
    DB::execute_all(pool, &reset_sql(DB::DIALECT)).await?;
    for chunk in widgets.chunks(FILL_CHUNK) {
        DB::insert_many(pool, chunk).await?;
    }
    match logger {
        Logger::None => {}
        Logger::Reference => {
            DB::execute_all(pool, reference_trigger(DB::DIALECT)).await?;
        }
        Logger::Generated => {
            let auditor = Auditor::builder(AuditConfig::from_env()?)
                .database("default", DB::database(pool))
                .build()?;
            let outcome = Widget::install_triggers(&auditor).await?;
            if outcome != TriggerOutcome::Installed {
                return Err(format!("install_triggers returned {outcome:?}").into());
            }
        }
    }
    if DB::DIALECT == Dialect::Postgres {
        // Fresh statistics for the planner, as an application's table has.
        DB::execute(pool, "ANALYZE widget").await?;
    }
    let started = Instant::now();
    DB::execute(pool, BULK_UPDATE).await?;
    let elapsed = started.elapsed();
    let expected = if logger == Logger::None {
        0
    } else {
        widgets.len()
    };
    let found = DB::scalar(
        pool,
        "SELECT COUNT(*) FROM widget_log WHERE action = 'update'",
    )
    .await?;
    if usize::try_from(found).ok() != Some(expected) {
        return Err(Box::new(RowMismatch::new(logger.name(), expected, found)));
    }
    Ok(elapsed)
}

/// Prints the results as a table.
pub(crate) fn print(rows: &[BulkRow]) {
    println!(
        "\n{:<27} {:>9} {:>10} {:>8} {:>8} {:>9}",
        "mode", "rows", "seconds", "ratio", "vs ref", "log rows"
    );
    let opt = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
    for row in rows {
        println!(
            "{:<27} {:>9} {:>10.3} {:>8} {:>8} {:>9}",
            row.mode,
            row.rows,
            row.seconds,
            opt(row.ratio_vs_none),
            opt(row.ratio_vs_reference),
            row.log_rows
        );
    }
}
