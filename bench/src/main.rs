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

mod app_db;
mod cli;
mod model;
mod modes;
mod report;
mod runner;
mod setup;
mod sql;
mod timing;

use std::error::Error as StdError;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Args;
use crate::report::print_table;
use crate::runner::RowMismatch;
use crate::setup::run;

type BoxError = Box<dyn StdError + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let args = Args::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.worker_threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(rows) => {
            println!();
            print_table(&rows);
            if let Some(path) = &args.json {
                let written = serde_json::to_string_pretty(&rows)
                    .map_err(BoxError::from)
                    .and_then(|json| std::fs::write(path, json + "\n").map_err(BoxError::from));
                if let Err(e) = written {
                    eprintln!("bench: cannot write {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("\nresults written to {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nbench FAILED: {e}");
            if e.is::<RowMismatch>() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
