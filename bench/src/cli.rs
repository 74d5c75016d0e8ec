//! The command line: what to run, where, and how often.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::modes::Mode;

/// Measures the cost of audit logging against the same writes without it.
#[derive(Parser, Debug)]
#[command(name = "bench", version)]
pub(crate) struct Args {
    /// The database kind.
    #[arg(long, value_enum, default_value_t = BackendKind::Sqlite)]
    pub(crate) backend: BackendKind,
    /// SQLite: the database URL (default: a fresh temporary file), opened
    /// in WAL mode.
    /// PostgreSQL / MySQL: the server URL; the bench creates `--database`
    /// there and drops it afterwards (default: the server on 127.0.0.1).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// Changes per phase.
    #[arg(long, default_value_t = 3000)]
    pub(crate) n: usize,
    /// Repetitions; each runs every mode once, in a rotating order.
    #[arg(long, default_value_t = 3)]
    pub(crate) reps: usize,
    /// Writes the results as a JSON array, one object per (backend, mode, phase).
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
    /// PostgreSQL / MySQL: the scratch database the bench creates and drops.
    #[arg(long, default_value = "aal_bench")]
    pub(crate) database: String,
    /// Rows per multi-row statement in the batch modes.
    #[arg(long, default_value_t = 500)]
    pub(crate) chunk: usize,
    /// Modes to run, comma-separated (default: every mode the backend has).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub(crate) modes: Vec<Mode>,
    /// Changes per phase of the untimed warm-up pass of every mode (0: none).
    #[arg(long, default_value_t = 200)]
    pub(crate) warmup: usize,
    /// Worker threads of the tokio runtime (default: one per core).
    #[arg(long)]
    pub(crate) worker_threads: Option<usize>,
    /// sqlx's `test_before_acquire` of the pool, shared by the application
    /// and the auditor: `true` (sqlx's default) pings each connection taken
    /// from the pool, one more round trip per autocommitted statement.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) test_before_acquire: bool,
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
