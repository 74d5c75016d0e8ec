//! The command line: what to run, where, and how often.
//!
//! Without a subcommand the program measures writes (the flat options
//! below); `bench history ...` measures reading the log back, `bench prune
//! ...` deleting old rows from it.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use crate::modes::Mode;

/// Measures the cost of audit logging against the same writes without it
/// (no subcommand), or how reading the log back scales with its size
/// (`history`).
#[derive(Parser, Debug)]
#[command(name = "bench", version, args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) write: Args,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Reads of the log back (one object's history, `as_of`, `as_of_all`)
    /// on a log table grown through `--sizes`, with the plans of the
    /// single-object reads checked for the object index.
    History(HistoryArgs),
    /// Pruning a large log table in batches while a writer keeps logging:
    /// rows per second, and the longest wait the writer saw against its
    /// waits without the prune.
    Prune(PruneArgs),
    /// One bulk `UPDATE widget SET qty = qty + 1` over every row of a
    /// large table, without triggers, with the hand-written reference
    /// trigger and with the generated triggers; every row logged.
    Bulk(BulkArgs),
}

/// Where the benchmark runs, and what it writes its results to.
#[derive(clap::Args, Debug)]
pub(crate) struct Target {
    /// The database kind.
    #[arg(long, value_enum, default_value_t = BackendKind::Sqlite)]
    pub(crate) backend: BackendKind,
    /// SQLite: the database URL (default: a fresh temporary file), opened
    /// in WAL mode.
    /// PostgreSQL / MySQL: the server URL; the bench creates `--database`
    /// there and drops it afterwards (default: the server on 127.0.0.1).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// PostgreSQL / MySQL: the scratch database the bench creates and drops.
    #[arg(long, default_value = "aal_bench")]
    pub(crate) database: String,
    /// Writes the results as a JSON array (BENCHMARKS.md lists the fields).
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// Worker threads of the tokio runtime (default: one per core).
    #[arg(long)]
    pub(crate) worker_threads: Option<usize>,
    /// sqlx's `test_before_acquire` of the pool, shared by the application
    /// and the auditor: `true` (sqlx's default) pings each connection taken
    /// from the pool, one more round trip per autocommitted statement.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) test_before_acquire: bool,
}

/// The write benchmark: N inserts, updates and deletes per mode.
#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Changes per phase.
    #[arg(long, default_value_t = 3000)]
    pub(crate) n: usize,
    /// Repetitions; each runs every mode once, in a rotating order.
    #[arg(long, default_value_t = 3)]
    pub(crate) reps: usize,
    /// Writes per transaction in the grouped modes (`none_tx`,
    /// `trigger_tx`, `trigger_tx_context`, `trigger_capture`): the context
    /// is handed to the database once per transaction.
    #[arg(long, default_value_t = 1)]
    pub(crate) per_tx: usize,
    /// Rows per multi-row statement in the batch modes.
    #[arg(long, default_value_t = 500)]
    pub(crate) chunk: usize,
    /// Modes to run, comma-separated (default: every mode the backend has).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) modes: Vec<Mode>,
    /// Changes per phase of the untimed warm-up pass of every mode (0: none).
    #[arg(long, default_value_t = 200)]
    pub(crate) warmup: usize,
}

/// The read benchmark: the log table grown through the sizes, the reads
/// timed at each.
#[derive(clap::Args, Debug)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Rows of `widget_log` to measure at, comma-separated, increasing;
    /// each a multiple of `--rows-per-object`. The table grows from one
    /// size to the next; ratios are to the first size.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub(crate) sizes: Vec<u64>,
    /// Log rows of every object, at every size: one object's history has
    /// the same rows however large the table is.
    #[arg(long, default_value_t = 100)]
    pub(crate) rows_per_object: u64,
    /// Timed reads of each single-object kind per size, each of another
    /// object.
    #[arg(long, default_value_t = 300)]
    pub(crate) iterations: usize,
    /// Timed `as_of_all` reads per size (it reads the whole table).
    #[arg(long, default_value_t = 5)]
    pub(crate) all_iterations: usize,
    /// Untimed reads of each kind per size before the timed ones.
    #[arg(long, default_value_t = 30)]
    pub(crate) warmup: usize,
    /// Rows of the history page read newest first.
    #[arg(long, default_value_t = 20)]
    pub(crate) page: u64,
    /// Exit non-zero (4) when a single-object read's median at any size
    /// reaches this multiple of its median at the first size.
    #[arg(long)]
    pub(crate) max_ratio: Option<f64>,
}

/// The prune benchmark: a log table of `--rows` old rows pruned in
/// batches, with a writer logging new rows all along.
#[derive(clap::Args, Debug)]
pub(crate) struct PruneArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Old rows to fill `widget_log` with, all of them to be pruned; a
    /// multiple of `--rows-per-object`.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) rows: u64,
    /// Log rows of every object in the fill.
    #[arg(long, default_value_t = 100)]
    pub(crate) rows_per_object: u64,
    /// Rows per `DELETE` (the library's default: 1,000).
    #[arg(long, default_value_t = 1000)]
    pub(crate) batch_size: u64,
    /// The pause between batches (the library's default: 100 ms).
    #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
    pub(crate) pause: Duration,
    /// Also keep the newest N rows of every object (the `keep_last` rule):
    /// fewer rows go, and each batch does more work.
    #[arg(long)]
    pub(crate) keep_last: Option<u64>,
    /// How long the writer logs alone before the prune starts: its waits
    /// then are the baseline of its waits during the prune.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub(crate) baseline: Duration,
    /// Exit non-zero (4) when the writer's longest wait during the prune
    /// reaches this multiple of the longest batch plus its longest wait
    /// alone (a writer must never wait for more than one batch).
    #[arg(long)]
    pub(crate) max_wait_ratio: Option<f64>,
}

/// The bulk update benchmark: one statement over `--rows` rows per mode.
#[derive(clap::Args, Debug)]
pub(crate) struct BulkArgs {
    #[command(flatten)]
    pub(crate) target: Target,
    /// Rows of `widget`, every one updated by the statement.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) rows: usize,
    /// Repetitions; each runs every mode once, in a rotating order.
    #[arg(long, default_value_t = 3)]
    pub(crate) reps: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BackendKind {
    Sqlite,
    Postgres,
    Mysql,
}

impl BackendKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::Mysql => "mysql",
        }
    }
}
