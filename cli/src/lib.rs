//! The `awesome-audit-log` command-line tool: operations on the audit log
//! tables of [`awesome-audit-log`](https://docs.rs/awesome-audit-log) (and
//! of the Django original it re-creates) on PostgreSQL, MySQL/MariaDB and
//! SQLite.
//!
//! ```text
//! awesome-audit-log [--database-url URL | --database ALIAS] [--schema NAME] [--table NAME]... [--json] <COMMAND>
//!
//!   schema check                 each log table: ok, missing, or drift (with the list); exit 1 on drift
//!   schema apply [--dry-run] [--yes] [--lock-timeout 5s]
//!                                print the statements that repair them, ask, run them
//!   tables                       the log tables, whether each exists, about how many rows
//!   prune [--older-than 90d] [--before TIME] [--keep-last N]
//!         [--batch-size N] [--pause 100ms] [--dry-run] [--yes]
//!                                delete old rows in batches (each model's policy when no rule is given)
//!   dedupe [--batch-size N] [--pause 100ms] [--dry-run] [--yes]
//!                                delete the update rows that record no change
//!   partition maintain [--ahead 3] [--older-than 90d] [--archive SCHEMA] [--by day|week|month]
//!                      [--dry-run] [--lock-timeout 5s]
//!                                PostgreSQL: create the coming partitions of the partitioned
//!                                log tables, drop (or archive) those past retention
//!   --table NAME partition convert --by day|week|month [--ahead 3] [--dry-run] [--lock-timeout 5s]
//!                                PostgreSQL: convert an unpartitioned log table without losing a row
//!   triggers status              each table's audit triggers: installed, and (embedded) this version's;
//!                                exit 1 when missing, partial, outdated or unexpected
//!   triggers install [--dry-run] [--yes]
//!                                embedded: install the models' triggers where not current, asked y/N
//!   triggers uninstall [--dry-run] [--yes]
//!                                remove them (by name when standalone), asked y/N
//!   outbox status                the outbox's rows waiting and the dead-letter table's, per log table
//!   outbox dead-letters list [--limit N] [--after ID]
//!                                the dead-letter table's rows, oldest first
//!   outbox dead-letters retry ID...
//!                                back to the outbox, each in one transaction
//!   outbox dead-letters drop (ID... | --all) [--yes]
//!                                delete them, asked y/N
//!
//! awesome-audit-log [--json] broker [--redis-url URL] [--stream NAME] [--group NAME] <COMMAND>
//!
//!   status                       the stream's length, the group's pending entries per consumer, lag, dead letters
//!   dead-letters list [--limit N] [--after ID]
//!                                the dead-letter stream, oldest first; malformed entries with the reason
//!   dead-letters retry ID...     back to the stream, each in one atomic step
//!   dead-letters drop (ID... | --all) [--yes]
//!                                delete them, asked y/N
//! ```
//!
//! Exit status: `0` all is well, `1` a check found drift or a command
//! failed (a dead letter that could not be retried or dropped, a question
//! answered no), `2` bad usage (no database or Redis URL or an unknown
//! alias, a `--table` that is not a log table, a dead letter id that is
//! not one, `prune` with no rule for any table, `schema apply`, `prune`,
//! `dedupe`, `triggers install` / `uninstall` or `dead-letters drop`
//! without `--yes` and without a terminal to ask on, a `partition` command
//! on SQLite or MySQL/MariaDB, which have no partitioned log tables,
//! `triggers install` with no model declared with triggers, as standalone).
//! The status commands exit 0 whenever they could read the queues, however
//! long: a monitor reads the numbers from `--json`.
//!
//! # Partitions
//!
//! `partition maintain` works on the log tables partitioned by range of
//! `created_at` (`#[audited(partition(by = "day"))]` on PostgreSQL): it
//! creates the partitions of the current and the next `--ahead` intervals
//! and detaches the partitions whose every row is older than
//! `--older-than` (or the model's `retention(older_than)`, when embedded),
//! then drops them, or moves them to `--archive SCHEMA`. Each partition is
//! one short transaction under `--lock-timeout`; no row is deleted one by
//! one. Managed tables that are not partitioned are skipped; one named
//! with `--table` is a failure. `--json` prints `{"dry_run": …, "tables":
//! [{"status": "maintained" | "skipped" | "failed", …}]}`.
//!
//! A partitioned table created by an exported migration file (the schema
//! export) has its DEFAULT partition only: run `partition maintain --by
//! day|week|month` right after migrating (`--by` is needed while the table
//! has no interval partition and the model is not embedded), then daily.
//! The rows logged in between are moved from the DEFAULT partition into
//! the partitions it creates.
//!
//! `partition convert --by day` converts each table named with `--table`
//! (ours or the Django original's) into a partitioned one: the unique keys
//! and indexes it needs are built concurrently, a check on `created_at`
//! before a boundary is validated without blocking writers, then one short
//! transaction renames the table, creates the partitioned parent on the
//! same id sequence and attaches the old table as the partition of every
//! row before the boundary. `--dry-run` prints the statements. See the guide's
//! operations chapter of `awesome-audit-log` for the locks of each step.
//!
//! # Triggers
//!
//! `triggers status`, `install` and `uninstall` work on the database
//! triggers of the models declared `#[audited(triggers)]`: on the table
//! `<table>` of each log table `<table>_log` the tool takes, the objects
//! named as the library names them (`<table>_audit` and the function
//! `<table>_audit_fn` on PostgreSQL, `<table>_audit_insert`, `_update`,
//! `_delete` elsewhere), nothing else.
//!
//! - `status` says which are installed. Embedded, it compares them with
//!   what this version installs for the table (the log table's columns,
//!   the schema, LOG_UNCHANGED_UPDATES of the configuration handed with
//!   [`Setup::config`]) where the database keeps the definition verbatim:
//!   PostgreSQL the function's body (`pg_proc.prosrc`) and which function
//!   the trigger executes (the trigger's own definition is kept only
//!   normalised), MySQL/MariaDB each trigger's body
//!   (`information_schema.TRIGGERS`), SQLite each `CREATE TRIGGER`
//!   statement (`sqlite_master`). A table is `current`, `installed` (not
//!   compared: standalone), `outdated`, `partial`, `missing` (declared,
//!   none installed), `unexpected` (installed on a model not declared with
//!   triggers or left unaudited) or `none`; exit 1 on `outdated`,
//!   `partial`, `missing` and `unexpected`.
//! - `install` (embedded only) installs, through the runtime's
//!   [`triggers::install`](awesome_audit_log::triggers::install), the
//!   triggers of each model declared with them that is not `current`:
//!   what `Widget::install_triggers` does, the configuration followed.
//!   Standalone, the tool knows no model and exits 2: embed it, or apply the
//!   triggers files of the schema export.
//! - `uninstall` removes them from every table that has any: through the
//!   runtime for an embedded model, by name otherwise (standalone too).
//!
//! Both print the statements and ask y/N as `schema apply` does (`--yes`
//! without a terminal, `--dry-run` to only print them), run one table at a
//! time, and read the catalog again afterwards.
//!
//! # Which tables
//!
//! The managed ones: those listed in `awesome_audit_log_tables` (in
//! `--schema` on PostgreSQL), where the runtime registers every log table it
//! creates; when embedded, also the log tables of the models the binary
//! links; and those named with `--table`, which `schema apply` registers
//! once repaired (so tables the Django original created are adopted by
//! naming them once). Never by a name pattern: the original's `LIKE
//! '%_log'` also matches `django_admin_log`, `blog` and `catalog`. A table
//! named with `--table` that is not a log table (it lacks `action`,
//! `object_pk` or `created_at`) is refused, exit 2, and left untouched.
//!
//! # Which database
//!
//! `--database-url URL`, or `--database ALIAS` (the Django original's
//! option; the two conflict). Standalone, the alias `default` (taken when
//! neither is given) is the variable `DATABASE_URL`, and any other alias
//! `X` the variable `DATABASE_URL_X`, upper-cased: `--database reports`
//! reads `DATABASE_URL_REPORTS`. An alias without a URL is bad usage (exit
//! 2), and the message lists the aliases that have one. Embedded, the
//! application hands the tool its own aliases with [`run_with`] and a
//! [`Setup`].
//! # The queues
//!
//! `outbox status` reads the outbox (`awesome_audit_log_outbox`) and the
//! dead-letter table of `--database-url`: rows in total and per log table,
//! the oldest and its age; `outbox dead-letters` lists, retries (back
//! into the outbox of the same database, for the outbox workers to write)
//! and drops the dead-letter table's rows, which the outbox workers and the
//! in-process writer set aside. `broker …` works on the broker transport's Redis
//! stream (`--redis-url`, default `AWESOME_AUDIT_LOG_REDIS_URL`, the
//! runtime's own setting; `--stream` and `--group` default to
//! `AWESOME_AUDIT_LOG_REDIS_STREAM` / `_REDIS_GROUP` or the runtime's
//! defaults), and its dead letters: listed in pages, decoded with the
//! runtime's own wire decoder (a malformed entry is listed with the reason,
//! never retried, and can be dropped), retried (moved back to the stream
//! and out of the dead-letter stream in one Lua script; the event id keeps
//! a row written after all from being written twice), dropped. Both are
//! thin over the runtime's API, which an application can call itself:
//! `awesome_audit_log::outbox::status`, `awesome_audit_log::outbox::DeadLetterTable`
//! and `awesome_audit_log::broker::BrokerQueue`.
//!
//! # Standalone
//!
//! ```text
//! cargo install awesome-audit-log-cli
//! DATABASE_URL=postgres://… awesome-audit-log schema check
//! DATABASE_URL_REPORTS=mysql://… awesome-audit-log --database reports tables
//! awesome-audit-log --table widget_log schema apply --dry-run
//! awesome-audit-log --json tables
//! awesome-audit-log outbox status
//! AWESOME_AUDIT_LOG_REDIS_URL=redis://… awesome-audit-log broker dead-letters list
//! ```
//!
//! # Embedded in your own binary
//!
//! Nest [`Command`] (or the whole [`Cli`]) in your clap command line and
//! hand [`run`] the models your binary links: their log tables are then
//! checked, repaired (and created when missing) and pruned without being
//! named. [`run_with`] takes a [`Setup`] with your database aliases too,
//! so that `myapp audit-log --database reports tables` means your
//! `reports` database.
//!
//! ```no_run
//! use awesome_audit_log::{audited, registry};
//! use awesome_audit_log_cli::{Command, Exit, GlobalArgs};
//! use clap::{Parser, Subcommand};
//!
//! #[audited(table = "widget")]
//! struct Widget { id: i64, qty: i32 }
//!
//! #[derive(Parser)]
//! struct App {
//!     /// --database-url, --schema, --table, --json
//!     #[command(flatten)]
//!     audit: GlobalArgs,
//!     #[command(subcommand)]
//!     command: AppCommand,
//! }
//!
//! #[derive(Subcommand)]
//! enum AppCommand {
//!     /// Runs the service.
//!     Serve,
//!     /// The audit log's tables: `myapp audit-log schema check`.
//!     #[command(subcommand)]
//!     AuditLog(Command),
//! }
//!
//! #[tokio::main]
//! async fn main() -> Exit {
//!     let app = App::parse();
//!     match app.command {
//!         AppCommand::Serve => Exit::Success,
//!         AppCommand::AuditLog(command) => {
//!             awesome_audit_log_cli::run(&app.audit, &command, &registry::models()).await
//!         }
//!     }
//! }
//! ```
//!
//! # `prune` and `dedupe`
//!
//! Thin over the runtime's [`Prune`](awesome_audit_log::retention::Prune)
//! and [`Dedupe`](awesome_audit_log::retention::Dedupe): each table the
//! tool takes is run one after the other, in batches of `--batch-size`
//! rows (default 1,000) `--pause` apart (default 100 ms). `prune` deletes
//! what every rule given lets go: `--older-than` (`90d`, `12h`, `2w`: the
//! grammar of `#[audited(retention(older_than = ...))]`), `--before` (RFC
//! 3339, or a date at midnight UTC), `--keep-last` (each object keeps its
//! newest N rows). Without a rule, the log table of each model handed to
//! [`run`] is pruned by that model's `retention(...)` policy; a table with
//! neither is skipped, and said so. Tables that are not log tables are
//! never touched (the runtime checks each again before reading a row).
//!
//! Unless `--dry-run` (count only) or `--yes`, each table's rows to delete
//! are counted and the tool asks y/N on the terminal. A progress bar per
//! table is drawn on stderr when stderr is a terminal; then a line per
//! table says what went. With `--json`, each table's object carries
//! `status` (`done`, `dry_run`, `skipped`, `declined`, `failed`), `rule`,
//! `reason`, `error` and `report`, the runtime's
//! [`PruneReport`](awesome_audit_log::retention::PruneReport) as serde
//! writes it.
//!
//! # What `schema check` compares
//!
//! Each table's columns, types, nullability, the `created_at` default and
//! its indexes (by their columns, not their names) with what this version
//! creates (`awesome_audit_log_codegen::ddl::COLUMNS` and `INDEXES`), and
//! whether it is registered. Extra columns are reported and kept. Which
//! other types count as compatible is said in the README's section on the
//! tool.
//!
//! # What `schema apply` does
//!
//! It adds what is missing (`event_id` with its unique index,
//! `correlation_id`, any of the original's nullable columns, the indexes,
//! the registration), drops a `created_at` default and makes the column
//! NOT NULL, widens a MySQL `TIMESTAMP` / second-precision `created_at` to
//! `DATETIME(6)` in UTC, and converts a type to ours where ours holds every
//! value; it never drops a column or a row. Each table in its own
//! transaction on PostgreSQL (with `SET LOCAL lock_timeout`) and SQLite
//! (rebuilt the documented way where ALTER cannot do it); on MySQL/MariaDB
//! one `ALTER TABLE` per table under `lock_wait_timeout`, which commits on
//! its own. A table the Django original created stays writable by it: its
//! INSERT names only its own columns.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod alias;
mod apply;
mod cli;
mod commands;
mod connect;
mod drift;
mod embed;
mod error;
mod exit;
mod inspect;
mod output;
mod partition;
mod progress;
mod prompt;
mod prune;
mod queues;
mod repair;
mod survey;
mod tables;
mod triggers;
mod types;

use std::io::Write;

use awesome_audit_log::ModelInfo;

pub use crate::cli::{ApplyArgs, Cli, Command, GlobalArgs, SchemaCommand};
pub use crate::embed::Setup;
pub use crate::exit::Exit;
pub use crate::partition::{ConvertArgs, Interval, MaintainArgs, PartitionCommand};
pub use crate::prune::args::{DedupeArgs, PruneArgs, RunArgs};
pub use crate::queues::{
    BrokerArgs, BrokerCommand, DeadLettersCommand, DropArgs, ListArgs, OutboxCommand, RedisArgs,
    RetryArgs, TableDeadLettersCommand, TableDropArgs, TableListArgs, TableRetryArgs,
};
use crate::survey::Survey;
pub use crate::triggers::{TriggerArgs, TriggersCommand};

/// Runs `command` with the `global` options on the log tables of the
/// managed tables, of `models` (pass [`awesome_audit_log::registry::models`]
/// when embedded; the standalone binary links none) and of `--table`.
/// Prints the result on stdout (JSON with `--json`) and errors on stderr,
/// and returns the exit status. The database aliases are the
/// environment's ([`run_with`] takes the application's).
pub async fn run(global: &GlobalArgs, command: &Command, models: &[&ModelInfo]) -> Exit {
    run_with(global, command, &Setup::new().models(models)).await
}

/// [`run`] with the embedding binary's models and database aliases: a
/// `--database ALIAS` names one of `setup`'s aliases (see [`Setup`]).
pub async fn run_with(global: &GlobalArgs, command: &Command, setup: &Setup<'_>) -> Exit {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = execute(global, command, setup, &mut out).await;
    let _ = out.flush();
    match result {
        Ok(exit) => exit,
        Err(error) => {
            eprintln!("awesome-audit-log: {error}");
            error.exit()
        }
    }
}

async fn execute(
    global: &GlobalArgs,
    command: &Command,
    setup: &Setup<'_>,
    out: &mut dyn Write,
) -> Result<Exit, error::Error> {
    if let Command::Broker(broker) = command {
        return queues::broker(broker, global.json, out).await;
    }
    let url = alias::resolve(
        global,
        &setup.databases,
        |var| std::env::var(var).ok(),
        std::env::vars_os().filter_map(|(var, _)| var.into_string().ok()),
    )?;
    if let Command::Outbox(outbox) = command {
        return queues::outbox(&url, global, outbox, out).await;
    }
    let models = &setup.models;
    let global = &setup.defaults(global);
    let survey = Survey::open(&url, global, models).await?;
    let result = match command {
        Command::Schema(SchemaCommand::Check) => commands::check(&survey, global.json, out),
        Command::Schema(SchemaCommand::Apply(args)) => {
            commands::apply(&survey, args, global.json, out).await
        }
        Command::Tables => commands::tables(&survey, global.json, out).await,
        Command::Prune(args) => {
            let job = prune::rules::Job::Prune(args);
            prune::run(&survey, job, &args.run, models, global.json, out).await
        }
        Command::Dedupe(args) => {
            let job = prune::rules::Job::Dedupe;
            prune::run(&survey, job, &args.run, models, global.json, out).await
        }
        // The queues' commands returned above, without a survey.
        Command::Outbox(_) | Command::Broker(_) => Ok(Exit::Success),
        Command::Partition(command) => {
            partition::run(&survey, command, models, global.json, out).await
        }
        Command::Triggers(command) => {
            let config = setup.config.clone().unwrap_or_default();
            triggers::run(&survey, command, models, &config, global.json, out).await
        }
    };
    survey.db.close().await;
    result
}
