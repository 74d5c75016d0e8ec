//! What auditing costs, side by side with writing alone.
//!
//! ```text
//! cargo run --release -p awesome-audit-log-bench -- --backend sqlite
//! cargo run --release -p awesome-audit-log-bench -- --backend postgres --url postgres://postgres@127.0.0.1:5432/postgres
//! cargo run --release -p awesome-audit-log-bench -- --backend mysql --url mysql://root@127.0.0.1:3306 --json mysql.json
//! ```
//!
//! For each mode the program creates a fresh `widget` table and a fresh
//! `widget_log`, then runs N inserts, N updates of one field and N deletes,
//! each its own autocommitted statement (as one web request would), with
//! the modes interleaved across repetitions. It reports per phase the median
//! ops/s, the median ratio of elapsed time to the baseline mode of the same
//! repetition, and the CPU time of this process per operation. After each
//! mode it counts the log rows and exits non-zero on a mismatch.
//!
//! On PostgreSQL and MySQL/MariaDB `--url` names the server: the program
//! creates its own database there (`--database`, default `aal_bench`) and
//! drops it at the end. On SQLite `--url` names the database file (default:
//! a fresh temporary file); `widget` and `widget_log` in it are dropped and
//! recreated. Every `AWESOME_AUDIT_LOG_*` variable is honoured (ASYNC is
//! set per mode), so other settings can be measured too. See BENCHMARKS.md
//! for what the modes and figures mean.
//!
//! `bench history` measures reading the log back instead: one object's
//! history, `as_of` and `as_of_all` on a `widget_log` grown through
//! `--sizes` (default 10,000 / 100,000 / 1,000,000 rows), with the plan of
//! each single-object read checked for the object index:
//!
//! ```text
//! cargo run --release -p awesome-audit-log-bench -- history --backend postgres --url postgres://postgres@127.0.0.1:5432/postgres
//! ```
//!
//! `bench prune` measures pruning: 1,000,000 old rows deleted in batches
//! through the library's `Prune` while a writer keeps logging, with the
//! rows per second and the writer's longest wait against its waits alone:
//!
//! ```text
//! cargo run --release -p awesome-audit-log-bench -- prune --backend mysql --url mysql://root@127.0.0.1:3306
//! ```
//!
//! `bench bulk` times one `UPDATE widget SET qty = qty + 1` over 100,000
//! rows without triggers, under the hand-written reference trigger and
//! under the generated triggers, and checks that every row was logged:
//!
//! ```text
//! cargo run --release -p awesome-audit-log-bench -- bulk --backend postgres
//! ```

mod app_db;
mod bulk;
mod cli;
mod model;
mod modes;
mod prune;
mod reads;
mod report;
mod runner;
mod setup;
mod sql;
mod timing;

use std::error::Error as StdError;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;

use crate::cli::{Cli, Command};
use crate::reads::ReadMismatch;
use crate::report::print_table;
use crate::runner::RowMismatch;

type BoxError = Box<dyn StdError + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let target = match &cli.command {
        Some(Command::History(args)) => &args.target,
        Some(Command::Prune(args)) => &args.target,
        Some(Command::Bulk(args)) => &args.target,
        None => &cli.write.target,
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = target.worker_threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let done = match &cli.command {
        None => runtime.block_on(setup::run(&cli.write)).map(|rows| {
            println!();
            print_table(&rows);
            write_json(target.json.as_deref(), &rows).map(|()| Vec::new())
        }),
        Some(Command::History(args)) => runtime.block_on(reads::run(args)).map(|report| {
            report.print();
            write_json(target.json.as_deref(), &report.rows)
                .map(|()| report.failures(args.max_ratio))
        }),
        Some(Command::Prune(args)) => runtime.block_on(prune::run(args)).map(|row| {
            row.print();
            write_json(target.json.as_deref(), &[&row]).map(|()| row.failures(args.max_wait_ratio))
        }),
        Some(Command::Bulk(args)) => runtime.block_on(bulk::run(args)).map(|rows| {
            bulk::print(&rows);
            write_json(target.json.as_deref(), &rows).map(|()| Vec::new())
        }),
    };
    match done {
        Ok(Ok(failures)) => {
            for (_, failure) in &failures {
                eprintln!("bench FAILED: {failure}");
            }
            failures
                .iter()
                .map(|(code, _)| *code)
                .min()
                .map_or(ExitCode::SUCCESS, ExitCode::from)
        }
        Ok(Err(e)) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("\nbench FAILED: {e}");
            if e.is::<RowMismatch>() || e.is::<ReadMismatch>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Writes `rows` as a JSON array to `path`, if one is given.
fn write_json(path: Option<&Path>, rows: &impl Serialize) -> Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    let json = serde_json::to_string_pretty(rows)?;
    std::fs::write(path, json + "\n")
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!("\nresults written to {}", path.display());
    Ok(())
}
