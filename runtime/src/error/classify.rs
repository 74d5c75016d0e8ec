//! What a database error means, decided in one place for every layer and
//! every transport. [`fault`] sorts errors three ways:
//!
//! - [`Fault::Transient`]: the database could not be reached, or the
//!   statement lost a race it can win later (a lock or statement timeout,
//!   busy, a deadlock, a serialisation failure). Retry with backoff.
//! - [`Fault::BadRow`]: the database refused the data (a value it cannot
//!   hold, a constraint). Only the rows themselves are at fault: isolate
//!   them, write the rest, dead-letter them with the reason.
//! - [`Fault::Permanent`]: anything else (a missing privilege, a broken
//!   schema): a configuration error to surface, not to retry for ever.
//!
//! The finer questions (a missing table, a lost create race, a conflict)
//! are answered here too.

/// What a database error says about the work that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Try again later: nothing is wrong with the rows.
    Transient,
    /// The database refused the rows (or one of them).
    BadRow,
    /// Neither: surface it.
    Permanent,
}

/// How `error` is to be handled; see the [module docs](self).
pub(crate) fn fault(error: &sqlx::Error) -> Fault {
    if is_unavailable(error) || is_conflict(error) {
        return Fault::Transient;
    }
    match error {
        sqlx::Error::Database(db) => database_fault(db.as_ref()),
        // The value could not be encoded for the database.
        sqlx::Error::Encode(_) => Fault::BadRow,
        sqlx::Error::Protocol(_) => Fault::Transient,
        _ => Fault::Permanent,
    }
}

fn database_fault(db: &dyn sqlx::error::DatabaseError) -> Fault {
    use sqlx::error::ErrorKind;
    #[cfg(feature = "mysql")]
    if let Some(mysql) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        return mysql_fault(mysql.number());
    }
    let code = db.code();
    let code = code.as_deref().unwrap_or_default();
    #[cfg(feature = "sqlite")]
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return sqlite_fault(code.parse().unwrap_or_default());
    }
    if matches!(
        db.kind(),
        ErrorKind::UniqueViolation
            | ErrorKind::ForeignKeyViolation
            | ErrorKind::NotNullViolation
            | ErrorKind::CheckViolation
    ) {
        return Fault::BadRow;
    }
    postgres_fault(code)
}

/// PostgreSQL, by SQLSTATE.
fn postgres_fault(sqlstate: &str) -> Fault {
    match sqlstate {
        // Statement timeout or cancel, lock_timeout, too many connections,
        // the server shutting down or starting, connection exceptions.
        "57014" | "55P03" | "53300" | "57P01" | "57P02" | "57P03" => Fault::Transient,
        _ if sqlstate.starts_with("08") => Fault::Transient,
        // Data exceptions (a NUL in JSONB, a value out of range), integrity
        // constraint violations, a value too large for a row.
        _ if sqlstate.starts_with("22") || sqlstate.starts_with("23") => Fault::BadRow,
        "54000" => Fault::BadRow,
        _ => Fault::Permanent,
    }
}

/// MySQL / MariaDB, by error number.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn mysql_fault(number: u16) -> Fault {
    match number {
        // Lock wait timeout, deadlock, too many connections, shutdown, gone
        // away / lost connection, interrupted by a statement time limit
        // (MariaDB 1969, MySQL 3024), network timeouts.
        1205 | 1213 | 1040 | 1053 | 2006 | 2013 | 1969 | 3024 | 1317 | 1159 | 1161 => {
            Fault::Transient
        }
        // Data too long, incorrect string value, invalid JSON (MySQL 3140),
        // truncated or out-of-range values, NULL in a NOT NULL column,
        // a CHECK constraint (MariaDB 4025, MySQL 3819), a duplicate key,
        // a packet too large.
        1406 | 1366 | 3140 | 1292 | 1264 | 1265 | 1048 | 4025 | 3819 | 1062 | 1153 | 1301 => {
            Fault::BadRow
        }
        _ => Fault::Permanent,
    }
}

/// SQLite, by extended result code.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn sqlite_fault(code: i32) -> Fault {
    // The primary result code is the low byte of the extended one.
    match code & 0xff {
        // SQLITE_BUSY, SQLITE_LOCKED.
        5 | 6 => Fault::Transient,
        // SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH.
        18..=20 => Fault::BadRow,
        _ => Fault::Permanent,
    }
}

/// Whether the error means the database could not be reached at all, as
/// opposed to a statement it rejected.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLITE_CANTOPEN: the database file cannot be opened.
        sqlx::Error::Database(db) => db.code().as_deref() == Some("14"),
        _ => false,
    }
}

/// Whether the database said the table does not exist (PostgreSQL SQLSTATE
/// 42P01, MySQL 1146 / SQLSTATE 42S02, SQLite "no such table").
pub(crate) fn is_undefined_table(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    matches!(db.code().as_deref(), Some("42P01" | "42S02"))
        || db.message().starts_with("no such table")
}

/// Whether a `CREATE ... IF NOT EXISTS` failed only because a concurrent
/// transaction created the same object first: PostgreSQL can report that as
/// a unique violation on its catalog (23505), as duplicate table / schema
/// (42P07 / 42P06), or as a duplicate row type (42710: `type "t" already
/// exists`) despite `IF NOT EXISTS`.
pub(crate) fn is_lost_create_race(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    matches!(
        db.code().as_deref(),
        Some("23505" | "42P07" | "42P06" | "42710")
    )
}

/// Whether the database rolled the work back to break a deadlock or a
/// serialization conflict (SQLSTATE 40001 / 40P01): nothing of it was
/// kept, and it can be tried again.
pub(crate) fn is_conflict(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

#[cfg(feature = "postgres")]
/// Whether a statement gave up waiting for a lock (SQLSTATE 55P03,
/// PostgreSQL's `lock_timeout`): nothing of it was done, and it can be
/// tried again.
pub(crate) fn is_lock_timeout(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03"))
}
