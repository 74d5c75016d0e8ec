//! Deleting log rows for retention: which rows a prune or a dedupe lets go
//! ([`Sweep`]), counted, and deleted one batch per statement, built for one
//! dialect with the time bounds reads use ([`Statement::time`]).

use chrono::{DateTime, Utc};

use super::select::{Param, Statement, exact_key};
use crate::{Action, Dialect};

/// The rows of one log table that may go. A row goes when it matches every
/// rule given; with no rule, no row matches.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Sweep {
    /// Rows with `created_at` before this instant.
    pub before: Option<DateTime<Utc>>,
    /// Rows that are not among the newest this many of their object (by
    /// `created_at`, then `id`; objects compared by the key's exact bytes).
    pub keep_last: Option<u64>,
    /// `update` rows whose `changes` are empty: SQL NULL, JSON `null` or an
    /// empty object.
    pub empty_updates: bool,
}

/// Which statement of a retention run runs.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepStep {
    /// [`Sweep::count`].
    Count,
    /// [`Sweep::delete`].
    Delete,
}

impl Sweep {
    /// `SELECT COUNT(*)` of the matching rows of `qualified` (quoted), with
    /// its bind values.
    pub(crate) fn count(&self, dialect: Dialect, qualified: &str) -> (String, Vec<Param>) {
        let mut statement = Statement::new(dialect);
        let filter = self.conditions(&mut statement);
        statement.sql = format!(
            "SELECT COUNT(*) FROM {} WHERE {filter}",
            self.source(dialect, qualified)
        );
        (statement.sql, statement.params)
    }

    /// One batch: the `DELETE` of at most `limit` matching rows of
    /// `qualified` (quoted), the oldest first (by time when a time bound
    /// is given, else by id), with its bind values.
    ///
    /// PostgreSQL and SQLite delete by the ids a subquery picks. MySQL
    /// takes `ORDER BY … LIMIT` on a `DELETE` itself; where the rows are
    /// ranked, it takes a subquery on the same table only inside a derived
    /// table (which it materializes), and a `LIMIT` only there too.
    pub(crate) fn delete(
        &self,
        dialect: Dialect,
        qualified: &str,
        limit: u64,
    ) -> (String, Vec<Param>) {
        let mut statement = Statement::new(dialect);
        let filter = self.conditions(&mut statement);
        let limit = statement.bind(Param::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        let id = dialect.quote("id");
        let from = self.source(dialect, qualified);
        // By age alone, the oldest rows first, in the order of the
        // `created_at` index (which holds the id beside the time on every
        // database): each batch reads its own rows and stops. Ordered by
        // id instead, MySQL reads every matching row of the index and
        // sorts them, for every batch.
        let order = if self.before.is_some() && self.keep_last.is_none() {
            format!("{}, {id}", dialect.quote("created_at"))
        } else {
            id.clone()
        };
        let picked =
            format!("SELECT {id} FROM {from} WHERE {filter} ORDER BY {order} LIMIT {limit}");
        statement.sql = match (dialect, self.keep_last) {
            (Dialect::MySql, None) => {
                format!("DELETE FROM {qualified} WHERE {filter} ORDER BY {order} LIMIT {limit}")
            }
            (Dialect::MySql, Some(_)) => format!(
                "DELETE FROM {qualified} WHERE {id} IN (SELECT {id} FROM ({picked}) AS aal_doomed)"
            ),
            (Dialect::Postgres | Dialect::Sqlite, _) => {
                format!("DELETE FROM {qualified} WHERE {id} IN ({picked})")
            }
        };
        (statement.sql, statement.params)
    }

    /// What the rows are picked from: the table, or (to keep the newest
    /// rows of each object) the table's rows ranked within their object,
    /// newest first, with the columns the conditions read.
    fn source(&self, dialect: Dialect, qualified: &str) -> String {
        if self.keep_last.is_none() {
            return qualified.to_owned();
        }
        let q = |name| dialect.quote(name);
        let (id, created_at) = (q("id"), q("created_at"));
        let mut columns = vec![id.clone()];
        if self.before.is_some() {
            columns.push(created_at.clone());
        }
        if self.empty_updates {
            columns.extend([q("action"), q("changes")]);
        }
        format!(
            "(SELECT {}, ROW_NUMBER() OVER (PARTITION BY {} ORDER BY {created_at} DESC, {id} DESC) \
             AS aal_rank FROM {qualified}) AS aal_ranked",
            columns.join(", "),
            exact_key(dialect, &q("object_pk")),
        )
    }

    /// The conditions, joined by `AND`, binding their values in order.
    fn conditions(&self, statement: &mut Statement) -> String {
        let dialect = statement.dialect;
        let mut conditions = Vec::new();
        if let Some(rows) = self.keep_last {
            let rows = statement.bind(Param::Int(i64::try_from(rows).unwrap_or(i64::MAX)));
            conditions.push(format!("aal_rank > {rows}"));
        }
        if let Some(before) = self.before {
            conditions.push(statement.time("<", before));
        }
        if self.empty_updates {
            let action = statement.bind(Param::Text(Action::Update.as_str().to_owned()));
            conditions.push(format!("{} = {action}", dialect.quote("action")));
            conditions.push(empty_changes(dialect));
        }
        if conditions.is_empty() {
            // No rule lets any row go.
            return "1 = 0".to_owned();
        }
        conditions.join(" AND ")
    }
}

/// Whether `changes` holds no change: SQL NULL, JSON `null`, or an object
/// without keys however it is spelled (`{}`, `{ }`). Text that is not JSON
/// (written by another program) is not empty: it is kept, never an error.
fn empty_changes(dialect: Dialect) -> String {
    let changes = dialect.quote("changes");
    let empty = match dialect {
        // `::jsonb` also reads a `json` column.
        Dialect::Postgres => format!("{changes}::jsonb IN ('{{}}'::jsonb, 'null'::jsonb)"),
        // A JSON column on MySQL, text checked as JSON on MariaDB.
        Dialect::MySql => format!(
            "CASE WHEN JSON_VALID({changes}) THEN JSON_TYPE({changes}) = 'NULL' \
             OR (JSON_TYPE({changes}) = 'OBJECT' AND JSON_LENGTH({changes}) = 0) ELSE 0 END"
        ),
        Dialect::Sqlite => format!(
            "CASE WHEN json_valid({changes}) THEN json({changes}) IN ('{{}}', 'null') ELSE 0 END"
        ),
    };
    format!("({changes} IS NULL OR {empty})")
}

#[cfg(test)]
mod tests {
    use super::super::select::placeholders;
    use super::*;

    fn every_sweep() -> Vec<Sweep> {
        let at = Some(Utc::now());
        let mut sweeps = Vec::new();
        for before in [None, at] {
            for keep_last in [None, Some(3)] {
                for empty_updates in [false, true] {
                    sweeps.push(Sweep {
                        before,
                        keep_last,
                        empty_updates,
                    });
                }
            }
        }
        sweeps
    }

    /// Every combination of rules binds as many values as its statements
    /// have placeholders, in the order they appear, the batch size last.
    #[test]
    fn every_placeholder_has_a_value() {
        for sweep in every_sweep() {
            for dialect in Dialect::ALL {
                let (count, params) = sweep.count(dialect, "t");
                assert_eq!(placeholders(dialect, &count), params.len(), "{count}");
                let (delete, params) = sweep.delete(dialect, "t", 50);
                assert_eq!(placeholders(dialect, &delete), params.len(), "{delete}");
                assert_eq!(params.last(), Some(&Param::Int(50)));
                if sweep == Sweep::default() {
                    assert!(count.ends_with("WHERE 1 = 0"), "{count}");
                }
            }
        }
    }

    /// The batch is one statement per dialect: a plain `DELETE … LIMIT` on
    /// MySQL where it can, ids picked by a subquery elsewhere, the oldest
    /// first in the order of the `created_at` index; objects are ranked by
    /// the key's exact bytes on MySQL.
    #[test]
    fn one_statement_per_dialect() {
        let by_age = Sweep {
            before: Some(Utc::now()),
            ..Sweep::default()
        };
        let (my, _) = by_age.delete(Dialect::MySql, "`t`", 10);
        assert_eq!(
            my,
            "DELETE FROM `t` WHERE `created_at` < ? ORDER BY `created_at`, `id` LIMIT ?"
        );
        let (pg, _) = by_age.delete(Dialect::Postgres, "\"t\"", 10);
        assert_eq!(
            pg,
            "DELETE FROM \"t\" WHERE \"id\" IN (SELECT \"id\" FROM \"t\" \
             WHERE \"created_at\" < $1 ORDER BY \"created_at\", \"id\" LIMIT $2)"
        );
        let ranked = Sweep {
            keep_last: Some(2),
            ..by_age
        };
        let (my, _) = ranked.delete(Dialect::MySql, "`t`", 10);
        assert!(
            my.starts_with("DELETE FROM `t` WHERE `id` IN (SELECT `id` FROM (SELECT `id` FROM (")
                && my.contains("PARTITION BY CAST(CONVERT(`object_pk` USING utf8mb4) AS BINARY)")
                && my.ends_with("LIMIT ?) AS aal_doomed)"),
            "{my}"
        );
        let (lite, params) = ranked.delete(Dialect::Sqlite, "\"t\"", 10);
        assert!(
            lite.contains("PARTITION BY \"object_pk\" ORDER BY \"created_at\" DESC, \"id\" DESC"),
            "{lite}"
        );
        assert!(
            lite.contains("WHERE aal_rank > ? AND \"created_at\" < ?"),
            "{lite}"
        );
        assert_eq!(params[0], Param::Int(2));
    }

    /// The keys of an empty update are tested on the plain JSON, and text
    /// that is not JSON never fails a statement.
    #[test]
    fn empty_updates_per_dialect() {
        let dedupe = Sweep {
            empty_updates: true,
            ..Sweep::default()
        };
        let (pg, params) = dedupe.count(Dialect::Postgres, "\"t\"");
        assert!(
            pg.ends_with(
                "WHERE \"action\" = $1 AND (\"changes\" IS NULL OR \
                 \"changes\"::jsonb IN ('{}'::jsonb, 'null'::jsonb))"
            ),
            "{pg}"
        );
        assert_eq!(params, [Param::Text("update".into())]);
        let (my, _) = dedupe.count(Dialect::MySql, "`t`");
        assert!(my.contains("CASE WHEN JSON_VALID(`changes`)"), "{my}");
        let (lite, _) = dedupe.count(Dialect::Sqlite, "\"t\"");
        assert!(
            lite.contains("json(\"changes\") IN ('{}', 'null')"),
            "{lite}"
        );
    }
}
