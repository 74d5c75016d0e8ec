//! Pruning the log: a `widget_log` filled with `--rows` old rows (in SQL
//! on the server, as the read benchmark fills it) is pruned through the
//! library's [`Prune`] in batches while a writer logs new changes through
//! `Widget::log_change` all along. The writer first logs alone for
//! `--baseline`; its waits then are what its waits during the prune are
//! compared with. At the end every old row that had to go is gone, every
//! one that had to stay is there, and every change the writer logged is in
//! the table exactly once.

mod report;
mod writer;

use std::time::{Duration, Instant};

use awesome_audit_log::retention::{Prune, PruneReport};
use awesome_audit_log::{AuditConfig, Audited, Auditor};

use crate::Result;
use crate::app_db::AppDb;
use crate::cli::PruneArgs;
use crate::model::Widget;
use crate::reads::fill::{after_fill, fill_statements};
use crate::reads::layout::{Stage, created_at};
use crate::reads::{Logged, ReadMismatch};
use crate::setup::{Job, on_backend};

pub(crate) use self::report::PruneRow;
use self::writer::Writer;

/// The prune benchmark on the backend `args` names.
pub(crate) async fn run(args: &PruneArgs) -> Result<PruneRow> {
    if args.rows_per_object < 2 || args.rows == 0 || !args.rows.is_multiple_of(args.rows_per_object)
    {
        return Err("--rows must be a positive multiple of --rows-per-object (at least 2)".into());
    }
    if args.batch_size == 0 {
        return Err("--batch-size must be at least 1".into());
    }
    on_backend(&args.target, Pruning { args }).await
}

/// The prune benchmark on the pool of one backend.
struct Pruning<'a> {
    args: &'a PruneArgs,
}

impl Job for Pruning<'_> {
    type Output = PruneRow;

    async fn run<DB: AppDb>(self, pool: sqlx::Pool<DB>) -> Result<PruneRow> {
        let args = self.args;
        let version = DB::server_version(&pool).await?;
        println!(
            "backend {} ({version}): prune {} old rows of widget_log ({} per object{}) \
             in batches of {} with {:?} pauses, a writer logging all along",
            args.target.backend.name(),
            args.rows,
            args.rows_per_object,
            args.keep_last.map_or(String::new(), |n| format!(
                ", keeping the newest {n} of each"
            )),
            args.batch_size,
            args.pause,
        );
        let auditor = Auditor::builder(AuditConfig::from_env()?)
            .database("default", DB::database(&pool))
            .build()?;
        let table = Widget::MODEL.log_table();
        let result = measure::<DB>(&pool, &auditor, args).await;
        auditor.shutdown().await;
        DB::execute(&pool, &format!("DROP TABLE IF EXISTS {table}")).await?;
        pool.close().await;
        let (report, writer) = result?;
        Ok(PruneRow::new(args, &version, &report, &writer))
    }
}

/// Fills the table, runs the writer alone, then beside the prune; checks
/// what is left.
async fn measure<DB: AppDb>(
    pool: &sqlx::Pool<DB>,
    auditor: &Auditor,
    args: &PruneArgs,
) -> Result<(PruneReport, writer::Waits)> {
    let table = Widget::MODEL.log_table();
    DB::execute(pool, &format!("DROP TABLE IF EXISTS {table}")).await?;
    DB::execute(pool, Widget::ddl(DB::DIALECT)).await?;
    let stage = Stage {
        from: 0,
        to: args.rows as i64,
        rows_per_object: args.rows_per_object as i64,
    };
    let started = Instant::now();
    for sql in fill_statements(DB::DIALECT, table, &stage) {
        DB::execute(pool, &sql).await?;
    }
    for sql in after_fill(DB::DIALECT, table) {
        DB::execute(pool, &sql).await?;
    }
    // The filled rows' ids: auto-increment may leave gaps between the
    // fill's statements (InnoDB hands out ids to `INSERT ... SELECT` in
    // growing blocks), so the last one is asked for.
    let last_old = DB::scalar(pool, &format!("SELECT MAX(id) FROM {table}")).await?;
    eprintln!(
        "  {table}: {} rows filled in {:.1} s",
        args.rows,
        started.elapsed().as_secs_f64()
    );
    // Every filled row is older than this; the writer's rows are logged now.
    let cutoff = created_at(stage.to) + Duration::from_secs(1);
    if awesome_audit_log::chrono::Utc::now() <= cutoff {
        return Err(format!(
            "the clock says it is before {cutoff}: the writer's rows would be pruned"
        )
        .into());
    }

    let writer = Writer::start(auditor.clone(), stage.objects() + 1);
    tokio::time::sleep(args.baseline).await;
    let prune_started = Instant::now();
    let mut prune = Prune::table(auditor, table)
        .before(cutoff)
        .batch_size(args.batch_size)
        .pause(args.pause);
    if let Some(keep) = args.keep_last {
        prune = prune.keep_last(keep);
    }
    let mut shown = 0;
    let report = prune
        .run(|progress| {
            // A line every tenth of the way.
            let total = progress.total.unwrap_or(args.rows).max(1);
            let tenth = progress.deleted * 10 / total;
            if tenth > shown {
                shown = tenth;
                eprintln!(
                    "  {} of {total} rows deleted, {} batches, {:.1} s",
                    progress.deleted,
                    progress.batches,
                    prune_started.elapsed().as_secs_f64()
                );
            }
        })
        .await;
    let prune_ended = Instant::now();
    // The writer goes on alone for a moment, so that a wait that began
    // during the last batch ends within the run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let waits = writer.stop(prune_started, prune_ended).await?;
    let report = report?;

    check::<DB>(pool, args, last_old, &report, &waits).await?;
    Ok((report, waits))
}

/// Every old row that had to go is gone, the rest of them are there, and
/// each change the writer logged is there once (each logs another object).
async fn check<DB: AppDb>(
    pool: &sqlx::Pool<DB>,
    args: &PruneArgs,
    last_old: i64,
    report: &PruneReport,
    waits: &writer::Waits,
) -> Result<()> {
    let objects = args.rows / args.rows_per_object;
    let kept = objects * args.keep_last.unwrap_or(0).min(args.rows_per_object);
    let old_left = DB::scalar(
        pool,
        &format!("SELECT COUNT(*) FROM widget_log WHERE id <= {last_old}"),
    )
    .await?;
    let written = DB::scalar(
        pool,
        &format!("SELECT COUNT(DISTINCT object_pk) FROM widget_log WHERE id > {last_old}"),
    )
    .await?;
    let new_rows = DB::scalar(
        pool,
        &format!("SELECT COUNT(*) FROM widget_log WHERE id > {last_old}"),
    )
    .await?;
    let mismatch = |what: String| -> Result<()> { Err(Box::new(ReadMismatch(what))) };
    if old_left as u64 != kept || report.rows != args.rows - kept {
        return mismatch(format!(
            "the prune deleted {} rows and left {old_left} old ones; expected {} deleted, {kept} left",
            report.rows,
            args.rows - kept
        ));
    }
    if new_rows as u64 != waits.logged() || written != new_rows {
        return mismatch(format!(
            "the writer logged {} changes; the table holds {new_rows} new rows ({written} distinct objects)",
            waits.logged()
        ));
    }
    Ok(())
}
