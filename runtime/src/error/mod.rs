//! The errors of the audit runtime, and (in [`classify`]) the one place
//! that decides what a database error means.

pub(crate) mod classify;

use std::fmt;

/// Everything that can go wrong while logging or reading audit rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `log_change` was given neither a before nor an after value.
    #[error("log_change of `{model}` needs a before or an after value (got neither)")]
    NothingToLog {
        /// The model label.
        model: &'static str,
    },
    /// A field could not be turned into JSON.
    #[error("cannot snapshot `{model}`: {source}")]
    Snapshot {
        /// The model label.
        model: &'static str,
        /// Which field failed and why.
        #[source]
        source: SnapshotError,
    },
    /// The audit database alias is not configured (and RAISE_ERROR_IF_DB_UNAVAILABLE is true).
    #[error("audit database alias `{alias}` is not configured")]
    UnknownAlias {
        /// The alias that was asked for.
        alias: String,
    },
    /// The audit database could not be reached (and RAISE_ERROR_IF_DB_UNAVAILABLE is true).
    #[error("audit database `{alias}` is unavailable: {source}")]
    Unavailable {
        /// The alias whose database is down.
        alias: String,
        /// The connection error.
        #[source]
        source: sqlx::Error,
    },
    /// The broker of the `"redis"` transport could not be reached or refused
    /// the events (and RAISE_ERROR_IF_DB_UNAVAILABLE is true).
    #[error("audit broker stream `{stream}` is unavailable: {source}")]
    Broker {
        /// The stream (REDIS_STREAM).
        stream: String,
        /// The broker client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A transaction was asked of an alias whose database is of another kind.
    #[error("database `{alias}` is {actual:?}, not {expected:?}")]
    WrongBackend {
        /// The alias.
        alias: String,
        /// The kind the caller asked for.
        expected: crate::Dialect,
        /// The kind the alias holds.
        actual: crate::Dialect,
    },
    /// The audit database answered with an error.
    #[error("audit database `{alias}` failed{}: {source}", on_table(table))]
    Database {
        /// The alias of the database.
        alias: String,
        /// The table the statement was about, if any (a transaction's
        /// `BEGIN` or `COMMIT` is about none).
        table: Option<String>,
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// A log row is larger than the audit database takes in one statement
    /// (MySQL's `max_allowed_packet`); nothing of the call was written.
    #[error(
        "a row of `{table}` needs about {bytes} bytes, more than audit database `{alias}` takes in one statement ({limit} bytes, max_allowed_packet)"
    )]
    RowTooLarge {
        /// The alias of the database.
        alias: String,
        /// The log table.
        table: String,
        /// The row's estimated size.
        bytes: u64,
        /// The database's limit.
        limit: u64,
    },
    /// A stored log row could not be read back.
    #[error("cannot decode a row of `{table}`: {message}")]
    Decode {
        /// The log table.
        table: String,
        /// What was wrong with the row.
        message: String,
    },
    /// A restore found the object changed since the caller read it: the
    /// state the log's last row left differs from the one the caller gave.
    #[error(
        "`{table}` object {object_pk:?} changed since it was read (last log row: {}); read it again before restoring",
        last_row.map_or_else(|| "none".to_owned(), |id| id.to_string())
    )]
    Stale {
        /// The log table.
        table: String,
        /// The object's primary key.
        object_pk: String,
        /// The id of the object's last log row, if it has any.
        last_row: Option<i64>,
    },
    /// A past version cannot be rebuilt: some fields are not in the log and
    /// no current value gave them.
    #[error(
        "`{table}` object {object_pk:?} cannot be restored: {}",
        fields.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Unrestorable {
        /// The log table.
        table: String,
        /// The object's primary key.
        object_pk: String,
        /// The fields that cannot be rebuilt, and why.
        fields: Vec<crate::restore::UnrestorableField>,
    },
    /// No row of the log table has this id.
    #[error("`{table}` has no row with id {id}")]
    UnknownLogRow {
        /// The log table.
        table: String,
        /// The id asked for.
        id: i64,
    },
    /// A prune was asked for without a rule: no `older_than`, `before` or
    /// `keep_last`, and no `#[audited(retention(...))]` policy on the model.
    #[error(
        "no retention rule for `{table}`: give `older_than`, `before` or `keep_last`, or a policy with `#[audited(retention(...))]`"
    )]
    NoRetentionRule {
        /// The log table.
        table: String,
    },
    /// Retention was asked of a table that is not a log table (or does
    /// not exist); nothing was deleted.
    #[error("`{table}` is not a log table: {reason}")]
    NotALogTable {
        /// The table named.
        table: String,
        /// Why it is not one.
        reason: String,
    },
    /// A model's database triggers cannot be installed: it was not declared
    /// `#[audited(triggers)]`, or its table does not have the columns its
    /// fields are read from. Nothing was installed.
    #[error("cannot install the triggers of `{model}`: {reason}")]
    Triggers {
        /// The model label.
        model: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// `log_change` was called for a model whose database triggers this
    /// auditor installed: the triggers log the change already, and a second
    /// row would duplicate it. Nothing was logged.
    #[error(
        "`{model}` is logged by its database triggers, installed by this auditor: log_change would log each change twice; log it one way (uninstall_triggers to go back to log_change)"
    )]
    CapturedByTriggers {
        /// The model label.
        model: &'static str,
    },
    /// Handing the audit context to the database for a transaction (so
    /// that its trigger rows record it), or clearing it, failed: from
    /// [`Auditor::begin`](crate::Auditor::begin) when the database refuses
    /// a value of the context (on PostgreSQL, a NUL character), or from
    /// the commit or rollback that clears it.
    #[error("cannot hand the audit context to the database triggers: {source}")]
    TriggerContext {
        /// The database error.
        #[source]
        source: sqlx::Error,
    },
    /// Partition maintenance was asked of a database that has no
    /// partitioning this library manages (MySQL/MariaDB, SQLite); nothing
    /// was changed.
    #[error(
        "`{table}` cannot be partitioned on {database}: partition maintenance is for PostgreSQL (see the guide's operations chapter)"
    )]
    PartitionsUnsupported {
        /// The log table.
        table: String,
        /// The kind of database (`mysql`, `sqlite`).
        database: &'static str,
    },
    /// Partition maintenance was asked of a table that is not a log table
    /// partitioned by range of `created_at`, or without the interval of
    /// its partitions; nothing was changed.
    #[error("cannot maintain the partitions of `{table}`: {reason}")]
    NotPartitioned {
        /// The table named.
        table: String,
        /// Why.
        reason: String,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Writing schema files failed.
    #[error("cannot write schema file {path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

fn on_table(table: &Option<String>) -> String {
    table
        .as_deref()
        .map_or_else(String::new, |table| format!(" on `{table}`"))
}

impl Error {
    /// The one constructor of database errors: on `alias`, about `table`
    /// (if any); `Unavailable` when the database could not be reached,
    /// `Database` otherwise.
    pub(crate) fn from_sqlx(alias: &str, table: Option<&str>, source: sqlx::Error) -> Self {
        if classify::is_unavailable(&source) {
            Error::Unavailable {
                alias: alias.to_owned(),
                source,
            }
        } else {
            Error::Database {
                alias: alias.to_owned(),
                table: table.map(str::to_owned),
                source,
            }
        }
    }
}

/// A field that could not be serialized into the log's JSON.
#[derive(Debug)]
pub struct SnapshotError {
    /// The field's JSON key.
    pub field: &'static str,
    /// What serde_json said.
    pub source: serde_json::Error,
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.source)
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
