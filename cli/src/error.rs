//! What can go wrong, with the message the user sees and the exit status
//! it leads to.

use crate::exit::Exit;

/// An error that ends a command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Neither `--database-url` nor `DATABASE_URL`.
    #[error("no database URL: pass --database-url URL or set DATABASE_URL")]
    NoDatabaseUrl,
    /// A URL of a database this tool does not speak.
    #[error(
        "unsupported database URL scheme `{0}:`; use postgres://, mysql:// (or mariadb://) or sqlite://"
    )]
    UnsupportedScheme(String),
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
    /// `schema apply` without `--yes` and without a terminal to ask on.
    #[error(
        "schema apply: stdin is not a terminal, so there is no one to confirm; pass --yes to apply without asking (or --dry-run to only see the statements)"
    )]
    NoTerminal,
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
    /// A `partition` command on a database without partitioning.
    #[error("{}", crate::partition::unsupported(*.0))]
    NoPartitioning(awesome_audit_log::Dialect),
    /// Writing the output failed (a closed pipe, say).
    #[error("writing the output: {0}")]
    Output(#[from] std::io::Error),
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
            | Error::UnsupportedScheme(_)
            | Error::Schema(_)
            | Error::TableName(_)
            | Error::NotLogTables(_)
            | Error::NoTerminal
            | Error::NoPartitioning(_) => Exit::Usage,
            Error::Connect { .. } | Error::Database { .. } | Error::Output(_) => Exit::Failure,
        }
    }

    /// A failed database read or write about `what`.
    pub(crate) fn database(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> Error {
        let what = what.into();
        move |source| Error::Database { what, source }
    }
}
