//! What a database error means, decided in one place for every layer:
//! the database could not be reached, a table is missing, a concurrent
//! writer created it first, or the database rolled a transaction back to
//! break a conflict.

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
