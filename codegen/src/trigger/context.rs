//! How the audit context reaches the triggers: the statements that hand it
//! to the database for one transaction, and the expressions the triggers
//! read it back with.
//!
//! - PostgreSQL: transaction-local settings (`set_config(name, value,
//!   true)`), named `awesome_audit_log.<column>`; they end with the
//!   transaction, whatever ends it. [`begin_statement`] sends them with
//!   `BEGIN` (`SET LOCAL`), [`set_statement`] in a transaction already
//!   begun. The triggers read them with
//!   `current_setting(name, true)`, an empty string meaning NULL.
//! - MySQL/MariaDB: session user variables `@awesome_audit_log_<column>`,
//!   which outlive the transaction: they are set (or set to NULL) at the
//!   start of a transaction and set to NULL at its end.
//! - SQLite: the one row of the table [`CONTEXT_TABLE`], written inside the
//!   transaction and deleted before it commits. SQLite has one writer at a
//!   time and readers see only committed rows, so the row is seen by its
//!   own transaction alone, and a rollback removes it.
//!
//! ```
//! use awesome_audit_log_codegen::ddl::Dialect;
//! use awesome_audit_log_codegen::trigger::context::{clear_statement, set_statement};
//!
//! assert!(set_statement(Dialect::Postgres).starts_with(
//!     "SELECT set_config('awesome_audit_log.entry_point', COALESCE($1, ''), true)"
//! ));
//! assert_eq!(clear_statement(Dialect::Postgres), None);
//! assert!(clear_statement(Dialect::MySql).unwrap().starts_with("SET @awesome_audit_log_entry_point = NULL"));
//! ```

use crate::ddl::{CORRELATION_ID, Dialect};

/// The context columns the triggers fill, in the order [`set_statement`]
/// binds their values (`user_id` an integer, the others text).
pub const CONTEXT_COLUMNS: [&str; 9] = [
    "entry_point",
    "route",
    "path",
    "method",
    "ip",
    "user_id",
    "user_name",
    "user_agent",
    CORRELATION_ID,
];

/// The one integer column of [`CONTEXT_COLUMNS`].
pub const USER_ID: &str = "user_id";

/// SQLite's table of the context of the open write transaction.
pub const CONTEXT_TABLE: &str = "awesome_audit_log_context";

/// The prefix of the PostgreSQL settings and MySQL variables.
const PREFIX: &str = "awesome_audit_log";

/// The PostgreSQL setting of `column` (`awesome_audit_log.user_id`).
fn setting(column: &str) -> String {
    format!("{PREFIX}.{column}")
}

/// The MySQL user variable of `column` (`@awesome_audit_log_user_id`).
fn variable(column: &str) -> String {
    format!("@{PREFIX}_{column}")
}

/// The statement that hands the context to the database for the open
/// transaction, with one text parameter per [`CONTEXT_COLUMNS`] entry in
/// order, `user_id` too: an empty string stands for a missing value (NULL).
pub fn set_statement(dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => {
            let calls: Vec<String> = CONTEXT_COLUMNS
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    format!(
                        "set_config('{}', COALESCE(${}, ''), true)",
                        setting(column),
                        i + 1
                    )
                })
                .collect();
            format!("SELECT {}", calls.join(", "))
        }
        Dialect::MySql => {
            let sets: Vec<String> = CONTEXT_COLUMNS
                .iter()
                .map(|column| format!("{} = {}", variable(column), parameter(dialect, column)))
                .collect();
            format!("SET {}", sets.join(", "))
        }
        Dialect::Sqlite => {
            let columns: Vec<String> = CONTEXT_COLUMNS.iter().map(|c| dialect.quote(c)).collect();
            let marks: Vec<String> = CONTEXT_COLUMNS
                .iter()
                .map(|column| parameter(dialect, column))
                .collect();
            format!(
                "INSERT OR REPLACE INTO {} (\"id\", {}) VALUES (1, {})",
                dialect.quote(CONTEXT_TABLE),
                columns.join(", "),
                marks.join(", ")
            )
        }
    }
}

/// PostgreSQL: the query that hands the context over and begins the
/// transaction in one round trip, `values` being those of
/// [`CONTEXT_COLUMNS`] in order (an empty string for a missing value).
///
/// The settings come first, one `SET LOCAL` each, then `BEGIN`: the
/// statements of one query string run in one implicit transaction, which
/// `BEGIN` turns into the explicit one, settings included. Should a setting
/// fail, nothing after it runs and the connection is left with no
/// transaction open. Every column is set, a missing value to `''`, so that
/// no value set for the whole session shows through.
///
/// Each value is a dollar-quoted literal whose tag (`$aal$`, or `$aal1$`,
/// `$aal2$`, … when the value holds it) does not end it early: PostgreSQL
/// reads its text as it is, whatever quotes, backslashes or `$` it holds
/// and whatever the server's quoting settings. A value with a NUL
/// character, which PostgreSQL's text cannot hold (nor the query string
/// carry), is set with `set_config` from its UTF-8 bytes in hexadecimal,
/// which fails the statement with PostgreSQL's own error, as a bound value
/// does. `None` on the other databases, and when `values` is not one value
/// per column.
///
/// ```
/// use awesome_audit_log_codegen::ddl::Dialect;
/// use awesome_audit_log_codegen::trigger::context::begin_statement;
///
/// let values = ["http", "", "", "", "", "7", "", "x$aal", "r'1"];
/// let sql = begin_statement(Dialect::Postgres, &values).unwrap();
/// assert!(sql.starts_with(
///     "SET LOCAL awesome_audit_log.entry_point = $aal$http$aal$; \
///      SET LOCAL awesome_audit_log.route = ''; "
/// ));
/// assert!(sql.contains("; SET LOCAL awesome_audit_log.user_agent = $aal1$x$aal$aal1$; "));
/// assert!(sql.ends_with("; SET LOCAL awesome_audit_log.correlation_id = $aal$r'1$aal$; BEGIN"));
/// assert_eq!(sql.matches("SET LOCAL").count(), 9);
/// assert!(begin_statement(Dialect::Postgres, &["a\0b", "", "", "", "", "", "", "", ""])
///     .unwrap()
///     .starts_with("SELECT set_config('awesome_audit_log.entry_point', convert_from(decode('610062', 'hex'), 'UTF8'), true); "));
/// assert_eq!(begin_statement(Dialect::MySql, &values), None);
/// assert_eq!(begin_statement(Dialect::Postgres, &values[1..]), None);
/// ```
pub fn begin_statement(dialect: Dialect, values: &[&str]) -> Option<String> {
    if dialect != Dialect::Postgres || values.len() != CONTEXT_COLUMNS.len() {
        return None;
    }
    let mut sql = String::with_capacity(640 + values.iter().map(|v| 2 * v.len()).sum::<usize>());
    for (column, value) in CONTEXT_COLUMNS.iter().zip(values) {
        if value.contains('\0') {
            sql.push_str("SELECT set_config('");
            sql.push_str(&setting(column));
            sql.push_str("', ");
            hex_decoded(&mut sql, value);
            sql.push_str(", true); ");
            continue;
        }
        sql.push_str("SET LOCAL ");
        sql.push_str(&setting(column));
        sql.push_str(" = ");
        if value.is_empty() {
            sql.push_str("''");
        } else {
            dollar_quote(&mut sql, value);
        }
        sql.push_str("; ");
    }
    sql.push_str("BEGIN");
    Some(sql)
}

/// Appends `value` as a PostgreSQL dollar-quoted literal: `$aal$…$aal$`,
/// or `$aal1$`, `$aal2$`, … when the value holds the tag.
///
/// A tag `$aal<n>$` ends the literal exactly where the value ends when
/// `$aal<n>` occurs nowhere in the value: an earlier end would be the tag
/// inside the value, or a tag begun in the value and finished by the
/// closing one, which (the tag's only prefix that is also its suffix being
/// `$`) needs the value to end with `$aal<n>`. One pass over the value
/// finds every `n` it holds (the digits after each `$aal`, each of their
/// prefixes a number it holds), and the least other one is taken: linear
/// in the value's length, whatever it holds.
fn dollar_quote(sql: &mut String, value: &str) {
    use std::collections::HashSet;
    /// No chosen number has more digits: the value would need more than
    /// 10^20 tags.
    const MAX_DIGITS: usize = 20;
    let mut held: HashSet<&str> = HashSet::new();
    let mut bare = false;
    for (at, tag) in value.match_indices("$aal") {
        bare = true;
        let digits = &value[at + tag.len()..];
        let len = digits
            .bytes()
            .take(MAX_DIGITS)
            .take_while(u8::is_ascii_digit)
            .count();
        held.extend((1..=len).map(|end| &digits[..end]));
    }
    let tag = if bare {
        let n = (1u64..)
            .find(|n| !held.contains(n.to_string().as_str()))
            .unwrap_or(u64::MAX);
        format!("$aal{n}$")
    } else {
        "$aal$".to_owned()
    };
    sql.push_str(&tag);
    sql.push_str(value);
    sql.push_str(&tag);
}

/// Appends `value` as its UTF-8 bytes in hexadecimal, decoded to text by
/// the server.
fn hex_decoded(sql: &mut String, value: &str) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    sql.push_str("convert_from(decode('");
    for byte in value.bytes() {
        sql.push(char::from(DIGITS[usize::from(byte >> 4)]));
        sql.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    sql.push_str("', 'hex'), 'UTF8')");
}

/// A parameter of [`set_statement`] on MySQL and SQLite: NULL for an
/// empty string, `user_id` an integer.
fn parameter(dialect: Dialect, column: &str) -> String {
    let integer = match dialect {
        Dialect::MySql => "SIGNED",
        _ => "INTEGER",
    };
    if column == USER_ID {
        format!("CAST(NULLIF(?, '') AS {integer})")
    } else {
        "NULLIF(?, '')".to_owned()
    }
}

/// The statement that removes the context before the transaction ends;
/// `None` on PostgreSQL, whose settings end with the transaction.
pub fn clear_statement(dialect: Dialect) -> Option<String> {
    match dialect {
        Dialect::Postgres => None,
        Dialect::MySql => {
            let sets: Vec<String> = CONTEXT_COLUMNS
                .iter()
                .map(|column| format!("{} = NULL", variable(column)))
                .collect();
            Some(format!("SET {}", sets.join(", ")))
        }
        Dialect::Sqlite => Some(format!("DELETE FROM {}", dialect.quote(CONTEXT_TABLE))),
    }
}

/// The statement that creates SQLite's [`CONTEXT_TABLE`] when it is
/// missing (its one row has `id` 1); `None` on the other databases.
///
/// ```
/// use awesome_audit_log_codegen::ddl::Dialect;
/// use awesome_audit_log_codegen::trigger::context::create_table_statement;
///
/// let sql = create_table_statement(Dialect::Sqlite).unwrap();
/// assert!(sql.starts_with("CREATE TABLE IF NOT EXISTS \"awesome_audit_log_context\""));
/// assert_eq!(create_table_statement(Dialect::MySql), None);
/// ```
pub fn create_table_statement(dialect: Dialect) -> Option<String> {
    match dialect {
        Dialect::Sqlite => {
            let columns: Vec<String> = CONTEXT_COLUMNS
                .iter()
                .map(|column| {
                    let kind = if *column == USER_ID {
                        "INTEGER"
                    } else {
                        "TEXT"
                    };
                    format!("{} {kind}", dialect.quote(column))
                })
                .collect();
            Some(format!(
                "CREATE TABLE IF NOT EXISTS {} (\"id\" INTEGER PRIMARY KEY CHECK (\"id\" = 1), {})",
                dialect.quote(CONTEXT_TABLE),
                columns.join(", ")
            ))
        }
        Dialect::Postgres | Dialect::MySql => None,
    }
}

/// The name SQLite's triggers give [`CONTEXT_TABLE`] in their `SELECT`.
const SQLITE_CONTEXT_ALIAS: &str = "audit_context";

/// SQLite: what a trigger's `INSERT … SELECT` reads the context from: one
/// row, the context's, or NULLs when there is none (one lookup for every
/// column).
pub(super) fn sqlite_context_join() -> String {
    format!("FROM (SELECT 1) LEFT JOIN \"{CONTEXT_TABLE}\" AS {SQLITE_CONTEXT_ALIAS}")
}

/// The expression a trigger reads the context column `column` with (NULL
/// outside a transaction that was handed a context).
pub(super) fn read(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Postgres => {
            let text = format!("NULLIF(current_setting('{}', true), '')", setting(column));
            if column == USER_ID {
                format!("{text}::bigint")
            } else {
                text
            }
        }
        Dialect::MySql => variable(column),
        // The trigger's `INSERT … SELECT` joins the table once
        // ([`sqlite_context_join`]).
        Dialect::Sqlite => format!("{SQLITE_CONTEXT_ALIAS}.{}", dialect.quote(column)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ddl::COLUMNS;

    #[test]
    fn context_columns_are_log_columns() {
        for column in CONTEXT_COLUMNS {
            assert!(
                COLUMNS.iter().any(|c| c.name == column),
                "`{column}` is no log column"
            );
        }
    }

    #[test]
    fn one_parameter_per_column() {
        let pg = set_statement(Dialect::Postgres);
        assert!(pg.contains("COALESCE($9, '')"));
        assert!(!pg.contains("$10"));
        for dialect in [Dialect::MySql, Dialect::Sqlite] {
            assert_eq!(set_statement(dialect).matches('?').count(), 9);
        }
        assert_eq!(
            set_statement(Dialect::MySql),
            "SET @awesome_audit_log_entry_point = NULLIF(?, ''), @awesome_audit_log_route = NULLIF(?, ''), \
             @awesome_audit_log_path = NULLIF(?, ''), @awesome_audit_log_method = NULLIF(?, ''), \
             @awesome_audit_log_ip = NULLIF(?, ''), @awesome_audit_log_user_id = CAST(NULLIF(?, '') AS SIGNED), \
             @awesome_audit_log_user_name = NULLIF(?, ''), @awesome_audit_log_user_agent = NULLIF(?, ''), \
             @awesome_audit_log_correlation_id = NULLIF(?, '')"
        );
        assert!(set_statement(Dialect::Sqlite).ends_with(
            "VALUES (1, NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''), \
             CAST(NULLIF(?, '') AS INTEGER), NULLIF(?, ''), NULLIF(?, ''), NULLIF(?, ''))"
        ));
    }

    #[test]
    fn dollar_quotes_end_where_the_value_ends() {
        let quoted = |value: &str| {
            let mut sql = String::new();
            dollar_quote(&mut sql, value);
            sql
        };
        assert_eq!(quoted("a'b\\c"), "$aal$a'b\\c$aal$");
        assert_eq!(quoted("$1 $$"), "$aal$$1 $$$aal$");
        assert_eq!(quoted("$aal$"), "$aal1$$aal$$aal1$");
        assert_eq!(quoted("x$aal"), "$aal1$x$aal$aal1$");
        assert_eq!(quoted("$aal$ $aal1$"), "$aal2$$aal$ $aal1$$aal2$");
        assert_eq!(quoted("$aal12"), "$aal2$$aal12$aal2$");
        assert_eq!(quoted("a$aa"), "$aal$a$aa$aal$");
        // Every number a long value holds is skipped in one pass.
        let many: String = (0..5_000).map(|n| format!("$aal{n}$")).collect();
        assert!(quoted(&many).starts_with("$aal5000$"));
        // The literal ends where the value ends: the first tag in
        // value + tag is the closing one.
        for value in ["$aal", "x$aal", "$aal1", "$$aal$", "$aal$aal1$aal2", &many] {
            let sql = quoted(value);
            let end = sql[1..].find('$').unwrap() + 2;
            let tag = &sql[..end];
            assert_eq!(sql[end..].find(tag), Some(value.len()), "{value}");
        }
    }

    #[test]
    fn reads_per_dialect() {
        assert_eq!(
            read(Dialect::Postgres, "user_id"),
            "NULLIF(current_setting('awesome_audit_log.user_id', true), '')::bigint"
        );
        assert_eq!(
            read(Dialect::Postgres, "route"),
            "NULLIF(current_setting('awesome_audit_log.route', true), '')"
        );
        assert_eq!(read(Dialect::MySql, "ip"), "@awesome_audit_log_ip");
        assert_eq!(read(Dialect::Sqlite, "path"), "audit_context.\"path\"");
        assert_eq!(
            sqlite_context_join(),
            "FROM (SELECT 1) LEFT JOIN \"awesome_audit_log_context\" AS audit_context"
        );
        assert_eq!(
            clear_statement(Dialect::Sqlite).as_deref(),
            Some("DELETE FROM \"awesome_audit_log_context\"")
        );
    }
}
