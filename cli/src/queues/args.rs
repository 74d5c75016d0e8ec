//! The command line of the queue commands: `outbox …` and `broker …`.

use awesome_audit_log::broker::EntryId;
use clap::{Args, Subcommand};

/// `outbox …`: the outbox table of the database (`--database-url`) and its
/// dead-letter table.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum OutboxCommand {
    /// The rows waiting in the outbox (in total and per log table, with
    /// the oldest's age) and in the dead-letter table.
    Status,
    /// The dead-letter table (`awesome_audit_log_dead_letter`, which the
    /// outbox workers and the in-process writer fill): list, retry, drop.
    #[command(subcommand)]
    DeadLetters(TableDeadLettersCommand),
}

/// `outbox dead-letters …`.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum TableDeadLettersCommand {
    /// Lists the table's rows, oldest first: id, log table, action,
    /// object, event id, why, when, the size of its JSON.
    List(TableListArgs),
    /// Moves rows back to the outbox of the same database, for the outbox
    /// workers to write, each in one transaction; rows the outbox refuses
    /// stay (exit 1).
    Retry(TableRetryArgs),
    /// Deletes rows, by id or all of them; asks first unless --yes.
    Drop(TableDropArgs),
}

/// The options of `outbox dead-letters retry`.
#[derive(Debug, Clone, Args)]
pub struct TableRetryArgs {
    /// The rows' ids, as `list` shows them.
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<i64>,
}

/// The options of `outbox dead-letters list`.
#[derive(Debug, Clone, Args)]
pub struct TableListArgs {
    /// At most this many rows.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Only rows after this id (the `next` a full page printed).
    #[arg(long, value_name = "ID")]
    pub after: Option<i64>,
}

/// The options of `outbox dead-letters drop`.
#[derive(Debug, Clone, Args)]
pub struct TableDropArgs {
    /// The rows' ids, as `list` shows them.
    #[arg(
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub ids: Vec<i64>,
    /// Every row there is now.
    #[arg(long)]
    pub all: bool,
    /// Do not ask: required when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `broker …`: the Redis stream of the broker transport, its consumer
/// group and its dead-letter stream.
#[derive(Debug, Clone, Args)]
pub struct BrokerArgs {
    /// Which Redis, stream and group.
    #[command(flatten)]
    pub redis: RedisArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: BrokerCommand,
}

/// Which Redis server, stream and consumer group: the runtime's
/// REDIS_URL, REDIS_STREAM and REDIS_GROUP.
#[derive(Debug, Clone, Default, Args)]
pub struct RedisArgs {
    /// The Redis server: `redis://…` or `rediss://…` [default: the
    /// AWESOME_AUDIT_LOG_REDIS_URL variable, as the runtime reads it]
    #[arg(
        long,
        value_name = "URL",
        env = "AWESOME_AUDIT_LOG_REDIS_URL",
        hide_env_values = true,
        global = true
    )]
    pub redis_url: Option<String>,

    /// The stream (REDIS_STREAM) [default: AWESOME_AUDIT_LOG_REDIS_STREAM
    /// if set, else awesome_audit_log]
    #[arg(
        long,
        value_name = "NAME",
        env = "AWESOME_AUDIT_LOG_REDIS_STREAM",
        global = true
    )]
    pub stream: Option<String>,

    /// The consumer group (REDIS_GROUP) [default:
    /// AWESOME_AUDIT_LOG_REDIS_GROUP if set, else awesome_audit_log_writers]
    #[arg(
        long,
        value_name = "NAME",
        env = "AWESOME_AUDIT_LOG_REDIS_GROUP",
        global = true
    )]
    pub group: Option<String>,
}

/// The `broker` commands.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum BrokerCommand {
    /// The stream's length, the group's pending entries per consumer (with
    /// idle times), its last delivered id and lag, and the dead letters.
    Status,
    /// The dead-letter stream (`<stream>:dead`): list, retry, drop.
    #[command(subcommand)]
    DeadLetters(DeadLettersCommand),
}

/// `broker dead-letters …`.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum DeadLettersCommand {
    /// Lists dead letters, oldest first: id, log table, event id, why it
    /// was set aside, when, its size; malformed ones with what is wrong.
    List(ListArgs),
    /// Moves dead letters back to the stream for a worker to write, each in
    /// one atomic step; malformed ones are left where they are (exit 1).
    Retry(RetryArgs),
    /// Deletes dead letters, by id or all of them; asks first unless --yes.
    Drop(DropArgs),
}

/// The options of `broker dead-letters list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// At most this many entries.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Only entries after this id (the `next` a full page printed).
    #[arg(long, value_name = "ID")]
    pub after: Option<EntryId>,
}

/// The options of `broker dead-letters retry`.
#[derive(Debug, Clone, Args)]
pub struct RetryArgs {
    /// The dead letters' ids, as `list` shows them.
    #[arg(value_name = "ID", required = true)]
    pub ids: Vec<EntryId>,
}

/// The options of `broker dead-letters drop`.
#[derive(Debug, Clone, Args)]
pub struct DropArgs {
    /// The dead letters' ids, as `list` shows them.
    #[arg(
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub ids: Vec<EntryId>,
    /// Every dead letter there is now.
    #[arg(long)]
    pub all: bool,
    /// Do not ask: required when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
}
