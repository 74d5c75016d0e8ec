//! Reading log rows: the `SELECT` of a history query, built for one
//! dialect from what to read ([`Select`]), with its bind values
//! ([`Param`]). Every filter runs in SQL; nothing is filtered in memory.

use awesome_audit_log_codegen::ddl::{COLUMNS, CORRELATION_ID, Column, ORIGINAL_COLUMNS};
use chrono::{DateTime, Utc};

use super::table::read_list;
use crate::{Action, Dialect};

/// A value bound to a read.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A timestamp, bound as the backend stores `created_at`.
    Time(DateTime<Utc>),
}

/// Oldest or newest first, by `(created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Order {
    /// Oldest first.
    #[default]
    Oldest,
    /// Newest first.
    Newest,
}

/// A row's place in the log's order: `(created_at, id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub created_at: DateTime<Utc>,
    pub id: i64,
}

/// The last row a read may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpTo {
    /// Rows with `created_at <= t`.
    Time(DateTime<Utc>),
    /// Rows at or before this row.
    Row(Position),
}

/// What to read from one log table. Empty lists and `None`s do not filter.
#[derive(Debug, Clone, Default)]
pub(crate) struct Select {
    /// Rows of this object (compared exactly, whatever the collation).
    pub object_pk: Option<String>,
    /// The row with this id.
    pub id: Option<i64>,
    /// Rows of any of these actions.
    pub actions: Vec<Action>,
    /// Rows of this user.
    pub user_id: Option<i64>,
    /// Rows with `created_at >= since`.
    pub since: Option<DateTime<Utc>>,
    /// Rows with `created_at < until`.
    pub until: Option<DateTime<Utc>>,
    /// Rows of this entry point.
    pub entry_point: Option<String>,
    /// Rows of this correlation id.
    pub correlation_id: Option<String>,
    /// Rows whose `changes` hold any of these keys.
    pub changed: Vec<String>,
    /// Rows strictly after this one in `order`.
    pub after: Option<Position>,
    /// Rows at or before this point.
    pub up_to: Option<UpTo>,
    /// The order of the rows.
    pub order: Order,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Only the last row (by `up_to`) of each object.
    pub latest_per_object: bool,
}

/// A statement being built, with its bind values in placeholder order.
pub(super) struct Statement {
    pub(super) dialect: Dialect,
    pub(super) sql: String,
    pub(super) params: Vec<Param>,
}

impl Statement {
    /// An empty statement for `dialect`.
    pub(super) fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            sql: String::new(),
            params: Vec::new(),
        }
    }

    /// Binds `param` and returns its placeholder.
    pub(super) fn bind(&mut self, param: Param) -> String {
        self.params.push(param);
        match self.dialect {
            Dialect::Postgres => format!("${}", self.params.len()),
            Dialect::MySql | Dialect::Sqlite => "?".to_owned(),
        }
    }
}

impl Statement {
    /// `created_at op at`, for `op` one of `<`, `<=`, `=`, `>=`, `>`.
    ///
    /// PostgreSQL and MySQL compare timestamps. SQLite compares text, and
    /// one instant has several texts: ours (`2026-01-02 10:00:00.000000+00:00`)
    /// and the original's, with or without microseconds and offset
    /// (`2026-01-02 10:00:00`). Every text of an instant sorts at or after
    /// its shortest form and before its full form followed by `~`, and all of
    /// them before the next microsecond's: the test compares with those two
    /// bounds, still on the plain column, so the index serves it.
    pub(super) fn time(&mut self, op: &str, at: DateTime<Utc>) -> String {
        let created_at = self.dialect.quote("created_at");
        if self.dialect != Dialect::Sqlite {
            let value = self.bind(Param::Time(at));
            return format!("{created_at} {op} {value}");
        }
        let full = at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let lowest = if at.timestamp_subsec_micros() == 0 {
            full[..19].to_owned()
        } else {
            full.clone()
        };
        let highest = format!("{full}~");
        match op {
            "<" | ">=" => {
                let value = self.bind(Param::Text(lowest));
                format!("{created_at} {op} {value}")
            }
            "=" => {
                let low = self.bind(Param::Text(lowest));
                let high = self.bind(Param::Text(highest));
                format!("({created_at} >= {low} AND {created_at} <= {high})")
            }
            _ => {
                let value = self.bind(Param::Text(highest));
                format!("{created_at} {op} {value}")
            }
        }
    }
}

impl Select {
    /// The statement and its bind values on `dialect` for the table
    /// `qualified` (quoted), reading `correlation_id` only when the table
    /// has it. `None` when no row can match (a correlation id asked of a
    /// table without the column).
    pub(crate) fn sql(
        &self,
        dialect: Dialect,
        qualified: &str,
        has_correlation_id: bool,
    ) -> Option<(String, Vec<Param>)> {
        if self.correlation_id.is_some() && !has_correlation_id {
            return None;
        }
        let columns = read_columns(has_correlation_id);
        let mut statement = Statement::new(dialect);
        let conditions = self.conditions(&mut statement);
        let q = |name| dialect.quote(name);
        let (created_at, id, pk) = (q("created_at"), q("id"), q("object_pk"));
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let direction = match self.order {
            Order::Oldest => "ASC",
            Order::Newest => "DESC",
        };
        let order = format!(" ORDER BY {created_at} {direction}, {id} {direction}");
        statement.sql = match (self.latest_per_object, dialect) {
            (false, _) => format!(
                "SELECT {} FROM {qualified}{filter}{order}",
                read_list(dialect, &columns)
            ),
            (true, Dialect::Postgres) => format!(
                "SELECT * FROM (SELECT DISTINCT ON ({pk}) {} FROM {qualified}{filter} \
                 ORDER BY {pk}, {created_at} DESC, {id} DESC) AS aal_latest{order}",
                read_list(dialect, &columns)
            ),
            (true, Dialect::MySql | Dialect::Sqlite) => format!(
                "SELECT {plain} FROM (SELECT {plain}, ROW_NUMBER() OVER (PARTITION BY {} \
                 ORDER BY {created_at} DESC, {id} DESC) AS aal_rank FROM {qualified}{filter}) \
                 AS aal_ranked WHERE aal_rank = 1{order}",
                exact_key(dialect, &pk),
                plain = read_list(dialect, &columns),
            ),
        };
        if let Some(limit) = self.limit {
            let limit = statement.bind(Param::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
            statement.sql.push_str(&format!(" LIMIT {limit}"));
        }
        Some((statement.sql, statement.params))
    }

    /// The `WHERE` conditions, binding their values in order.
    fn conditions(&self, statement: &mut Statement) -> Vec<String> {
        let dialect = statement.dialect;
        let q = |name| dialect.quote(name);
        let mut conditions = Vec::new();
        if let Some(object_pk) = &self.object_pk {
            let pk = q("object_pk");
            let value = statement.bind(Param::Text(object_pk.clone()));
            conditions.push(match dialect {
                Dialect::Postgres | Dialect::Sqlite => format!("{pk} = {value}"),
                // `=` follows the column's collation (by default blind to
                // case, accents and trailing spaces): the index finds the
                // candidates, the bytes decide.
                Dialect::MySql => {
                    let again = statement.bind(Param::Text(object_pk.clone()));
                    format!(
                        "{pk} = {value} AND {} = CAST(CONVERT({again} USING utf8mb4) AS BINARY)",
                        exact_key(dialect, &pk)
                    )
                }
            });
        }
        if let Some(id) = self.id {
            conditions.push(format!("{} = {}", q("id"), statement.bind(Param::Int(id))));
        }
        if !self.actions.is_empty() {
            let actions: Vec<String> = self
                .actions
                .iter()
                .map(|action| statement.bind(Param::Text(action.as_str().to_owned())))
                .collect();
            conditions.push(format!("{} IN ({})", q("action"), actions.join(", ")));
        }
        if let Some(user_id) = self.user_id {
            let value = statement.bind(Param::Int(user_id));
            conditions.push(format!("{} = {value}", q("user_id")));
        }
        if let Some(since) = self.since {
            conditions.push(statement.time(">=", since));
        }
        if let Some(until) = self.until {
            conditions.push(statement.time("<", until));
        }
        for (column, value) in [
            ("entry_point", &self.entry_point),
            ("correlation_id", &self.correlation_id),
        ] {
            if let Some(value) = value {
                let value = statement.bind(Param::Text(value.clone()));
                conditions.push(format!("{} = {value}", q(column)));
            }
        }
        if !self.changed.is_empty() {
            let changes = q("changes");
            let tests: Vec<String> = self
                .changed
                .iter()
                .map(|key| {
                    let key = statement.bind(Param::Text(key.clone()));
                    match dialect {
                        Dialect::Postgres => format!("{changes} ? {key}"),
                        Dialect::MySql => format!(
                            "JSON_CONTAINS_PATH({changes}, 'one', CONCAT('$.', JSON_QUOTE({key})))"
                        ),
                        // Text that is not JSON (written by another program)
                        // matches nothing rather than failing the read.
                        Dialect::Sqlite => format!(
                            "(CASE WHEN json_valid({changes}) THEN EXISTS (SELECT 1 FROM \
                             json_each({changes}) AS aal_key WHERE aal_key.key = {key}) \
                             ELSE 0 END)"
                        ),
                    }
                })
                .collect();
            conditions.push(format!("({})", tests.join(" OR ")));
        }
        if let Some(after) = self.after {
            let op = match self.order {
                Order::Oldest => ">",
                Order::Newest => "<",
            };
            conditions.push(position_test(statement, op, after));
        }
        match self.up_to {
            Some(UpTo::Time(at)) => conditions.push(statement.time("<=", at)),
            Some(UpTo::Row(position)) => {
                let before = position_test(statement, "<", position);
                let id = q("id");
                let value = statement.bind(Param::Int(position.id));
                conditions.push(format!("({before} OR {id} = {value})"));
            }
            None => {}
        }
        conditions
    }
}

/// `(created_at, id) op (position)` for `op` `<` or `>`, written out so
/// that every database can use an index on `created_at` for it.
fn position_test(statement: &mut Statement, op: &str, position: Position) -> String {
    let id = statement.dialect.quote("id");
    let first = statement.time(op, position.created_at);
    let second = statement.time("=", position.created_at);
    let row = statement.bind(Param::Int(position.id));
    format!("({first} OR ({second} AND {id} {op} {row}))")
}

/// The key's exact bytes: on MySQL, whatever the column's collation; the
/// key itself elsewhere.
pub(super) fn exact_key(dialect: Dialect, pk: &str) -> String {
    match dialect {
        Dialect::MySql => format!("CAST(CONVERT({pk} USING utf8mb4) AS BINARY)"),
        Dialect::Postgres | Dialect::Sqlite => pk.to_owned(),
    }
}

/// The columns a row is read with: the original's, and `correlation_id`
/// where the table has it.
fn read_columns(has_correlation_id: bool) -> Vec<Column> {
    COLUMNS
        .iter()
        .copied()
        .enumerate()
        .filter(|(i, column)| {
            *i < ORIGINAL_COLUMNS || (has_correlation_id && column.name == CORRELATION_ID)
        })
        .map(|(_, column)| column)
        .collect()
}

/// How many bind placeholders `sql` has (PostgreSQL's `?` is its JSONB
/// key test; its placeholders are `$n`).
#[cfg(test)]
pub(super) fn placeholders(dialect: Dialect, sql: &str) -> usize {
    match dialect {
        Dialect::Postgres => (1..=64).filter(|n| sql.contains(&format!("${n}"))).count(),
        Dialect::MySql | Dialect::Sqlite => sql.matches('?').count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every filter binds as many values as its statement has placeholders,
    /// on every dialect.
    #[test]
    fn every_placeholder_has_a_value() {
        let at = Utc::now();
        let select = Select {
            object_pk: Some("7".into()),
            id: Some(3),
            actions: vec![Action::Insert, Action::Update],
            user_id: Some(1),
            since: Some(at),
            until: Some(at),
            entry_point: Some("http".into()),
            changed: vec!["qty".into(), "name".into()],
            after: Some(Position {
                created_at: at,
                id: 4,
            }),
            up_to: Some(UpTo::Row(Position {
                created_at: at,
                id: 9,
            })),
            order: Order::Newest,
            limit: Some(10),
            ..Select::default()
        };
        for dialect in Dialect::ALL {
            let (sql, params) = select.sql(dialect, "t", true).unwrap();
            // PostgreSQL's `?` is its JSONB key test; its placeholders are `$n`.
            assert_eq!(
                placeholders(dialect, &sql),
                params.len(),
                "{dialect:?}: {sql}"
            );
            let limit = match dialect {
                Dialect::Postgres => format!("${}", params.len()),
                Dialect::MySql | Dialect::Sqlite => "?".to_owned(),
            };
            assert!(sql.ends_with(&format!("DESC LIMIT {limit}")), "{sql}");
            assert_eq!(params.last(), Some(&Param::Int(10)));
        }
    }

    /// On SQLite every text of one instant falls between the two bounds a
    /// test binds, and the next microsecond's texts after them.
    #[test]
    fn sqlite_bounds_hold_every_text_of_an_instant() {
        for at in ["2026-01-02T10:00:00Z", "2026-01-02T10:00:00.123456Z"] {
            let at: DateTime<Utc> = at.parse().unwrap();
            let mut statement = Statement::new(Dialect::Sqlite);
            statement.time("=", at);
            let [Param::Text(low), Param::Text(high)] = statement.params.as_slice() else {
                panic!("two text bounds: {:?}", statement.params)
            };
            let micros = at.format("%.6f").to_string();
            let seconds = at.format("%Y-%m-%d %H:%M:%S").to_string();
            let mut texts = vec![
                format!("{seconds}{micros}"),
                format!("{seconds}{micros}+00:00"),
            ];
            if at.timestamp_subsec_micros() == 0 {
                texts.extend([seconds.clone(), format!("{seconds}+00:00")]);
            }
            for text in &texts {
                assert!(low <= text && text <= high, "{low} <= {text} <= {high}");
            }
            let next = at + chrono::Duration::microseconds(1);
            let next = next.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
            assert!(
                next.as_str() > high.as_str() && !next.starts_with(&format!("{seconds}{micros}"))
            );
            let before = (at - chrono::Duration::microseconds(1))
                .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
                .to_string();
            assert!(before.as_str() < low.as_str());
        }
    }

    /// A correlation id asked of a table without the column matches no row.
    #[test]
    fn correlation_needs_the_column() {
        let select = Select {
            correlation_id: Some("x".into()),
            ..Select::default()
        };
        assert!(select.sql(Dialect::Sqlite, "t", false).is_none());
        let (sql, _) = select.sql(Dialect::Sqlite, "t", true).unwrap();
        assert!(sql.contains("\"correlation_id\" = ?"), "{sql}");
        let (plain, _) = Select::default().sql(Dialect::Sqlite, "t", false).unwrap();
        assert!(!plain.contains("correlation_id"), "{plain}");
    }

    /// The latest row per object: DISTINCT ON on PostgreSQL, a window
    /// elsewhere, by the key's exact bytes on MySQL.
    #[test]
    fn latest_per_object_per_dialect() {
        let select = Select {
            latest_per_object: true,
            up_to: Some(UpTo::Time(Utc::now())),
            ..Select::default()
        };
        let (pg, _) = select.sql(Dialect::Postgres, "\"t\"", true).unwrap();
        assert!(pg.contains("DISTINCT ON (\"object_pk\")"), "{pg}");
        let (my, _) = select.sql(Dialect::MySql, "`t`", true).unwrap();
        assert!(
            my.contains("PARTITION BY CAST(CONVERT(`object_pk` USING utf8mb4) AS BINARY)"),
            "{my}"
        );
        let (lite, _) = select.sql(Dialect::Sqlite, "\"t\"", true).unwrap();
        assert!(lite.contains("WHERE aal_rank = 1"), "{lite}");
    }
}
