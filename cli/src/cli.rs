//! The command line: global options, the command tree, each command's own
//! options (clap's derive types).

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::prune::args::{DedupeArgs, PruneArgs};
use crate::queues::{BrokerArgs, OutboxCommand};

/// The standalone tool: the [global options](GlobalArgs), then a
/// [command](Command).
///
/// An application that embeds the tool nests this (or just [`Command`])
/// in its own command line; see the [crate documentation](crate).
#[derive(Debug, Clone, Parser)]
#[command(
    name = "awesome-audit-log",
    version,
    about = "Checks, repairs and prunes the audit log tables of awesome-audit-log (and of the Django original), reads its queues and manages its database triggers",
    long_about = None,
    after_help = "Exit status: 0 all is well, 1 a check found drift or a command failed (or its question was answered no), 2 bad usage."
)]
pub struct Cli {
    /// The options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The options every command takes: which database, which PostgreSQL
/// schema, which tables besides the managed ones, and how to print.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// The database: `postgres://…`, `mysql://…` / `mariadb://…` or
    /// `sqlite://…` [default: the URL of the alias --database names, else
    /// of `default`: the DATABASE_URL variable]
    #[arg(long, value_name = "URL", global = true)]
    pub database_url: Option<String>,

    /// The database by its alias instead of a URL. Standalone, the alias
    /// `default` is the DATABASE_URL variable and any other alias X the
    /// variable DATABASE_URL_X (upper-cased); embedded, the aliases are the
    /// application's
    #[arg(
        long,
        value_name = "ALIAS",
        conflicts_with = "database_url",
        global = true
    )]
    pub database: Option<String>,

    /// The PostgreSQL schema of the log tables (ignored on other
    /// databases) [default: AWESOME_AUDIT_LOG_PG_SCHEMA if set, else the
    /// connection's current schema]
    #[arg(
        long,
        value_name = "NAME",
        env = "AWESOME_AUDIT_LOG_PG_SCHEMA",
        global = true
    )]
    pub schema: Option<String>,

    /// A log table to take besides the managed ones (repeatable); `schema
    /// apply` adopts it (registers it as managed) once repaired
    #[arg(long = "table", value_name = "NAME", global = true)]
    pub tables: Vec<String>,

    /// Machine-readable output (JSON) on stdout
    #[arg(long, global = true)]
    pub json: bool,
}

/// The commands.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// The log tables' structure: check it against this version's, repair it.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Lists the log tables: whether each exists, and about how many rows it has.
    Tables,
    /// Deletes old log rows in batches: by --older-than, --before and
    /// --keep-last, or else by each model's retention(...) policy; asks
    /// first.
    Prune(PruneArgs),
    /// Deletes the update rows that record no change (empty `changes`, as
    /// the Django original writes for every save) in batches; asks first.
    Dedupe(DedupeArgs),
    /// The outbox of the database (ASYNC_TRANSPORT = "outbox").
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// The Redis stream of the broker transport (ASYNC_TRANSPORT = "redis").
    Broker(BrokerArgs),
    /// Partitions of log tables partitioned by `created_at` (PostgreSQL).
    #[command(subcommand)]
    Partition(crate::partition::PartitionCommand),
    /// The database triggers of models declared `#[audited(triggers)]`:
    /// which are installed, install them (embedded), remove them.
    #[command(subcommand)]
    Triggers(crate::triggers::TriggersCommand),
}

/// `schema …`: the log tables' columns, indexes and registration.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum SchemaCommand {
    /// Compares each log table with what this version creates: OK,
    /// missing, or drift (with the list); exit 1 on drift.
    Check,
    /// Repairs the drift `schema check` finds: prints the statements,
    /// asks, then runs them, each table in its own transaction where the
    /// database allows it.
    Apply(ApplyArgs),
}

/// The options of `schema apply`.
#[derive(Debug, Clone, Args)]
pub struct ApplyArgs {
    /// Print the statements and stop; nothing is changed.
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask: required when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// How long a statement waits for a lock on a table before it gives
    /// up (PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout` in whole
    /// seconds, SQLite's busy timeout): `5s`, `500ms`, `1m`.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub lock_timeout: Duration,
}

impl Default for ApplyArgs {
    fn default() -> Self {
        Self {
            dry_run: false,
            yes: false,
            lock_timeout: Duration::from_secs(5),
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("a lock timeout of zero would mean none at all; give a duration".to_owned());
    }
    if duration > Duration::from_secs(24 * 60 * 60) {
        return Err("at most one day".to_owned());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::try_parse_from([
            "awesome-audit-log",
            "schema",
            "apply",
            "--dry-run",
            "--table",
            "a_log",
            "--json",
            "--table",
            "b_log",
            "--database-url",
            "sqlite://x.db",
            "--lock-timeout",
            "250ms",
        ])
        .unwrap();
        assert_eq!(cli.global.tables, ["a_log", "b_log"]);
        assert!(cli.global.json);
        let Command::Schema(SchemaCommand::Apply(apply)) = cli.command else {
            panic!("{:?}", cli.command);
        };
        assert!(apply.dry_run && !apply.yes);
        assert_eq!(apply.lock_timeout, Duration::from_millis(250));
    }

    #[test]
    fn a_url_and_an_alias_conflict() {
        let both = Cli::try_parse_from([
            "awesome-audit-log",
            "--database-url",
            "sqlite://x.db",
            "--database",
            "reports",
            "tables",
        ]);
        assert_eq!(
            both.unwrap_err().kind(),
            clap::error::ErrorKind::ArgumentConflict
        );
        let alias = Cli::try_parse_from(["awesome-audit-log", "tables", "--database", "reports"]);
        assert_eq!(alias.unwrap().global.database.as_deref(), Some("reports"));
    }

    #[test]
    fn lock_timeouts_are_bounded() {
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("2days").is_err());
        assert!(parse_duration("soon").is_err());
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
    }
}
