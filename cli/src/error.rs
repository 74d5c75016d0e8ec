//! What can go wrong, with the message the user sees and the exit status
//! it leads to.

use crate::exit::Exit;

/// An error that ends a command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Neither `--database-url` nor `DATABASE_URL`.
    #[error("no database URL: pass --database-url URL or --database ALIAS, or set DATABASE_URL")]
    NoDatabaseUrl,
    /// Both `--database-url` and `--database`.
    #[error("the argument '--database-url <URL>' cannot be used with '--database <ALIAS>'")]
    UrlAndAlias,
    /// `--database` names an alias that has no URL.
    #[error("{}", unknown_alias(alias, known))]
    UnknownAlias {
        /// The alias given (its first 64 characters).
        alias: String,
        /// The aliases that have a URL.
        known: Vec<String>,
    },
    /// A URL of a database this tool does not speak.
    #[error(transparent)]
    UnsupportedScheme(#[from] awesome_audit_log::UnsupportedScheme),
    /// A `--schema` the runtime would refuse too.
    #[error("--schema: {0}")]
    Schema(String),
    /// A `--table` that cannot name a log table.
    #[error(
        "--table `{0}`: not a log table's name (log tables are named <table>_log: letters, digits and _, at most 63 bytes)"
    )]
    TableName(String),
    /// Tables named with `--table` that are not log tables.
    #[error("{}", refusals(.0))]
    NotLogTables(Vec<(String, String)>),
    /// A command that asks (`schema apply`, `prune`, `dedupe`) without
    /// `--yes` and without a terminal to ask on.
    #[error(
        "{command}: stdin is not a terminal, so there is no one to confirm; pass --yes to go ahead without asking (or --dry-run to only see {dry_run})"
    )]
    NoTerminal {
        /// The command.
        command: &'static str,
        /// What its dry run shows.
        dry_run: &'static str,
    },
    /// `prune` without a rule, on tables no model's policy covers.
    #[error(
        "prune: no rule: pass --older-than, --before or --keep-last (or give the models a retention(...) policy)"
    )]
    NoRetentionRule,
    /// The runtime's auditor could not be set up on the database.
    #[error("{0}")]
    Auditor(String),
    /// A `broker` command without `--redis-url` or `AWESOME_AUDIT_LOG_REDIS_URL`.
    #[error("no Redis URL: pass --redis-url URL or set AWESOME_AUDIT_LOG_REDIS_URL")]
    NoRedisUrl,
    /// `dead-letters drop` without `--yes` and without a terminal to ask on.
    #[error(
        "dead-letters drop: stdin is not a terminal, so there is no one to confirm; pass --yes to drop without asking"
    )]
    NoTerminalToDrop,
    /// The runtime failed: a queue could not be read or changed (a bad
    /// Redis URL is a usage error).
    #[error("{0}")]
    Runtime(#[from] awesome_audit_log::Error),
    /// The database could not be opened.
    #[error("could not connect to {url}: {source}")]
    Connect {
        /// The URL, its password masked.
        url: String,
        /// What the driver said.
        source: sqlx::Error,
    },
    /// A catalog read failed.
    #[error("{what}: {source}")]
    Database {
        /// What was being read.
        what: String,
        /// What the database said.
        source: sqlx::Error,
    },
    /// `triggers install` with no model declared with triggers: the
    /// standalone tool links none.
    #[error("{}", no_trigger_models(*standalone))]
    NoTriggerModels {
        /// Whether the tool runs standalone (it knows no model at all).
        standalone: bool,
    },
    /// A `partition` command on a database without partitioning.
    #[error("{}", crate::partition::unsupported(*.0))]
    NoPartitioning(awesome_audit_log::Dialect),
    /// Writing the output failed (a closed pipe, say).
    #[error("writing the output: {0}")]
    Output(#[from] std::io::Error),
}

fn unknown_alias(alias: &str, known: &[String]) -> String {
    let known = if known.is_empty() {
        "none".to_owned()
    } else {
        known.join(", ")
    };
    format!(
        "--database `{alias}`: no such database alias (known: {known}); standalone, the alias \
         `default` is DATABASE_URL and any other alias X is the variable DATABASE_URL_X"
    )
}

fn no_trigger_models(standalone: bool) -> &'static str {
    if standalone {
        "triggers install: the standalone tool links no model, so it has no triggers to install; \
         embed the tool in your application (awesome_audit_log_cli::run_with with \
         awesome_audit_log::registry::models()), or apply the triggers files of the schema export \
         (<version>_audit_triggers_<table>.sql)"
    } else {
        "triggers install: no model of this binary is declared #[audited(triggers)]"
    }
}

fn refusals(tables: &[(String, String)]) -> String {
    tables
        .iter()
        .map(|(table, reason)| {
            format!("refusing `{table}`: {reason}; it was left untouched (name only log tables with --table)")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Error {
    /// The exit status this error ends the command with.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            Error::NoDatabaseUrl
            | Error::UnknownAlias { .. }
            | Error::UrlAndAlias
            | Error::UnsupportedScheme(_)
            | Error::Schema(_)
            | Error::TableName(_)
            | Error::NotLogTables(_)
            | Error::NoTerminal { .. }
            | Error::NoRetentionRule
            | Error::NoRedisUrl
            | Error::NoTerminalToDrop
            | Error::NoPartitioning(_)
            | Error::NoTriggerModels { .. }
            | Error::Runtime(awesome_audit_log::Error::Config(_)) => Exit::Usage,
            Error::Runtime(_)
            | Error::Connect { .. }
            | Error::Database { .. }
            | Error::Auditor(_)
            | Error::Output(_) => Exit::Failure,
        }
    }

    /// A failed database read or write about `what`.
    pub(crate) fn database(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
        let what = what.into();
        move |source| Error::Database { what, source }
    }
}
