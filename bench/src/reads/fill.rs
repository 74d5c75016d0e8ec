//! Growing a log table by one stage of the [layout](super::layout), in
//! SQL on the server: `INSERT ... SELECT` over generated row numbers
//! (PostgreSQL `generate_series`, a recursive CTE elsewhere), with the
//! rows the library would have logged: `before`, `after` and `changes` as
//! it writes them, request context, a few users.

use awesome_audit_log::Dialect;

use super::layout::{EPOCH, Stage};

/// Rows per `INSERT ... SELECT`.
const CHUNK: i64 = 100_000;

/// The statements that append `stage` to the log table `table`, in order.
pub(crate) fn fill_statements(dialect: Dialect, table: &str, stage: &Stage) -> Vec<String> {
    let sql = FillSql {
        dialect,
        table,
        stage,
    };
    let mut statements = Vec::new();
    let mut first = stage.from + 1;
    while first <= stage.to {
        let last = (first + CHUNK - 1).min(stage.to);
        statements.push(sql.insert(first, last));
        first = last + 1;
    }
    statements
}

/// What makes the statistics of `table` current after it grew, and
/// (SQLite) folds the WAL into the database file.
pub(crate) fn after_fill(dialect: Dialect, table: &str) -> Vec<String> {
    let quoted = dialect.quote(table);
    match dialect {
        // VACUUM as well: after this many inserts autovacuum would otherwise
        // start on the table in the middle of the timed reads.
        Dialect::Postgres => vec![format!("VACUUM (ANALYZE) {quoted}")],
        Dialect::MySql => vec![format!("ANALYZE TABLE {quoted}")],
        Dialect::Sqlite => vec![
            format!("ANALYZE {quoted}"),
            "PRAGMA wal_checkpoint(TRUNCATE)".to_owned(),
        ],
    }
}

/// The bytes of `table` with its indexes, as the database counts them
/// (MySQL: InnoDB's estimate, current after `ANALYZE TABLE`).
pub(crate) fn table_bytes(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("SELECT pg_total_relation_size('{table}')"),
        Dialect::MySql => format!(
            "SELECT CAST(data_length + index_length AS SIGNED) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name = '{table}'"
        ),
        Dialect::Sqlite => format!(
            "SELECT SUM(pgsize) FROM dbstat WHERE name IN \
             (SELECT name FROM sqlite_schema WHERE tbl_name = '{table}')"
        ),
    }
}

/// The fill of one stage on one dialect.
struct FillSql<'a> {
    dialect: Dialect,
    /// The log table.
    table: &'a str,
    stage: &'a Stage,
}

/// The JSON of the object's fields, as SQL expressions of text.
struct Fields {
    id: String,
    name: String,
    qty: String,
    price: String,
    active: String,
    updated_at: String,
}

impl Fields {
    fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("id", &self.id),
            ("name", &self.name),
            ("qty", &self.qty),
            ("price", &self.price),
            ("active", &self.active),
            ("updated_at", &self.updated_at),
        ]
    }
}

impl FillSql<'_> {
    /// `a || b || ...` as the dialect concatenates text.
    fn concat(&self, parts: &[&str]) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("({})", parts.join(" || ")),
            Dialect::Postgres | Dialect::MySql => format!("CONCAT({})", parts.join(", ")),
        }
    }

    /// Integer division.
    fn div(&self, a: &str, b: &str) -> String {
        match self.dialect {
            Dialect::MySql => format!("({a} DIV {b})"),
            Dialect::Postgres | Dialect::Sqlite => format!("({a} / {b})"),
        }
    }

    /// The `created_at` column of row `g`, as the library stores it.
    fn created_at(&self, g: &str) -> String {
        let micros = format!("(({g}) * 7919 % 1000000)");
        match self.dialect {
            Dialect::Postgres => {
                format!("(to_timestamp({EPOCH} + {g}) + {micros} * INTERVAL '1 microsecond')")
            }
            Dialect::MySql => format!(
                "TIMESTAMPADD(MICROSECOND, {micros}, \
                 TIMESTAMPADD(SECOND, {EPOCH} + {g}, TIMESTAMP '1970-01-01 00:00:00'))"
            ),
            Dialect::Sqlite => self.concat(&[
                &format!("strftime('%Y-%m-%d %H:%M:%S', {EPOCH} + {g}, 'unixepoch')"),
                "'.'",
                &format!("substr('000000' || {micros}, -6)"),
                "'+00:00'",
            ]),
        }
    }

    /// Row `g`'s time as serde writes a `DateTime<Utc>`, quoted for JSON.
    fn json_time(&self, g: &str) -> String {
        let text = match self.dialect {
            Dialect::Postgres => format!(
                "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                self.created_at(g)
            ),
            Dialect::MySql => format!(
                "DATE_FORMAT({}, '%Y-%m-%dT%H:%i:%s.%fZ')",
                self.created_at(g)
            ),
            Dialect::Sqlite => self.concat(&[
                &format!("strftime('%Y-%m-%dT%H:%M:%S', {EPOCH} + {g}, 'unixepoch')"),
                "'.'",
                &format!("substr('000000' || (({g}) * 7919 % 1000000), -6)"),
                "'Z'",
            ]),
        };
        self.concat(&["'\"'", &text, "'\"'"])
    }

    /// The object's fields at version `v`, logged at row `g`: the quantity
    /// is the version, the price changes every 10 versions, `active` every 20.
    fn fields(&self, v: &str, g: &str) -> Fields {
        Fields {
            id: "o".into(),
            name: self.concat(&["'\"widget '", "o", "'\"'"]),
            qty: v.into(),
            price: format!("(o % 100 + 5 * {})", self.div(v, "10")),
            active: format!(
                "(CASE WHEN (o + {}) % 2 = 0 THEN 'true' ELSE 'false' END)",
                self.div(v, "20")
            ),
            updated_at: self.json_time(g),
        }
    }

    /// Text as JSON for the column: PostgreSQL's is `jsonb`.
    fn json(&self, text: String) -> String {
        match self.dialect {
            Dialect::Postgres => format!("CAST({text} AS jsonb)"),
            Dialect::MySql | Dialect::Sqlite => text,
        }
    }

    /// `{"field": value, ...}` of every field.
    fn state(&self, fields: &Fields) -> String {
        let mut parts = Vec::new();
        for (i, (key, value)) in fields.pairs().into_iter().enumerate() {
            let sep = if i == 0 { "{" } else { ", " };
            parts.push(format!("'{sep}\"{key}\": '"));
            parts.push(value.to_owned());
        }
        parts.push("'}'".into());
        self.json(self.concat(&parts.iter().map(String::as_str).collect::<Vec<_>>()))
    }

    /// `{"field": {"from": old, "to": new}, ...}` of `keys`, with the
    /// values of `old` and `new` (`None`: null).
    fn changes(&self, keys: &[&str], old: Option<&Fields>, new: Option<&Fields>) -> Vec<String> {
        let value = |fields: Option<&Fields>, key: &str| {
            fields.map_or_else(
                || "'null'".to_owned(),
                |fields| {
                    let pairs = fields.pairs();
                    pairs
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, v)| (*v).to_owned())
                        .expect("a field")
                },
            )
        };
        keys.iter()
            .map(|key| {
                let parts = [
                    format!("'\"{key}\": {{\"from\": '"),
                    value(old, key),
                    "', \"to\": '".to_owned(),
                    value(new, key),
                    "'}'".to_owned(),
                ];
                self.concat(&parts.iter().map(String::as_str).collect::<Vec<_>>())
            })
            .collect()
    }

    /// An object of change entries, some of them only `when` a condition holds.
    fn changes_object(&self, entries: &[(Option<String>, String)]) -> String {
        let mut parts = vec!["'{'".to_owned()];
        for (i, (when, entry)) in entries.iter().enumerate() {
            let entry = if i == 0 {
                entry.clone()
            } else {
                self.concat(&["', '", entry])
            };
            parts.push(match when {
                Some(when) => format!("(CASE WHEN {when} THEN {entry} ELSE '' END)"),
                None => entry,
            });
        }
        parts.push("'}'".into());
        self.json(self.concat(&parts.iter().map(String::as_str).collect::<Vec<_>>()))
    }

    /// The row numbers `first ..= last` as a derived table of one column `g`.
    fn numbers(&self, first: i64, last: i64) -> String {
        match self.dialect {
            Dialect::Postgres => {
                format!("SELECT g FROM generate_series({first}::bigint, {last}) AS s(g)")
            }
            Dialect::Sqlite => format!(
                "WITH RECURSIVE s(g) AS (SELECT {first} UNION ALL SELECT g + 1 FROM s WHERE g < {last}) SELECT g FROM s"
            ),
            // A thousand by a thousand: MariaDB stops recursion at 1,000
            // iterations by default (max_recursive_iterations).
            Dialect::MySql => format!(
                "WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 999) \
                 SELECT {first} + t.n * 1000 + u.n AS g FROM d AS t CROSS JOIN d AS u \
                 WHERE t.n * 1000 + u.n <= {}",
                last - first
            ),
        }
    }

    /// `INSERT ... SELECT` of the stage's rows `first ..= last`.
    fn insert(&self, first: i64, last: i64) -> String {
        let stage = self.stage;
        let (from, objects, versions) = (stage.from, stage.objects(), stage.rows_per_object);
        let first_object = stage.first_object();
        let q = |name: &str| self.dialect.quote(name);
        let now = self.fields("v", "g");
        let then = self.fields("(v - 1)", &format!("(g - {objects})"));
        let is_delete = format!("v = {versions} AND o % 10 = 0");
        let every: Vec<&str> = now.pairs().iter().map(|(key, _)| *key).collect();
        let inserted = self.changes(&every, None, Some(&now));
        let deleted = self.changes(&every, Some(&then), None);
        let updated = self.changes(
            &["qty", "price", "active", "updated_at"],
            Some(&then),
            Some(&now),
        );
        let mut updated = updated.into_iter();
        let mut next = || updated.next().expect("four changes");
        let update_changes = self.changes_object(&[
            (None, next()),
            (Some("v % 10 = 0".into()), next()),
            (Some("v % 20 = 0".into()), next()),
            (None, next()),
        ]);
        let insert_changes =
            self.changes_object(&inserted.into_iter().map(|e| (None, e)).collect::<Vec<_>>());
        let delete_changes =
            self.changes_object(&deleted.into_iter().map(|e| (None, e)).collect::<Vec<_>>());
        let user = "(1 + g % 5)";
        let by_action = |insert: &str, delete: &str, update: &str| {
            format!(
                "CASE WHEN v = 1 THEN {insert} WHEN {is_delete} THEN {delete} ELSE {update} END"
            )
        };
        let row = [
            ("action", by_action("'insert'", "'delete'", "'update'")),
            ("object_pk", self.concat(&["''", "o"])),
            (
                "before",
                format!("CASE WHEN v = 1 THEN NULL ELSE {} END", self.state(&then)),
            ),
            (
                "after",
                format!(
                    "CASE WHEN {is_delete} THEN NULL ELSE {} END",
                    self.state(&now)
                ),
            ),
            (
                "changes",
                by_action(&insert_changes, &delete_changes, &update_changes),
            ),
            ("entry_point", "'http'".into()),
            ("route", "'/widgets/<int:pk>'".into()),
            ("path", self.concat(&["'/widgets/'", "o"])),
            ("method", by_action("'POST'", "'DELETE'", "'PATCH'")),
            (
                "ip",
                self.concat(&["'10.0.'", "(g % 200)", "'.'", "(1 + g % 250)"]),
            ),
            ("user_id", user.into()),
            ("user_name", self.concat(&["'user'", user])),
            (
                "user_agent",
                "'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'".into(),
            ),
            ("created_at", self.created_at("g")),
            ("correlation_id", self.concat(&["'req-'", "g"])),
        ];
        let columns = row
            .iter()
            .map(|(name, _)| q(name))
            .collect::<Vec<_>>()
            .join(", ");
        let values = row.map(|(_, value)| value).join(",\n    ");
        let i = format!("(g - {from} - 1)");
        format!(
            "INSERT INTO {table} ({columns})\nSELECT {values}\nFROM (SELECT g, \
             {first_object} + {i} % {objects} AS o, {} + 1 AS v FROM ({}) AS n) AS r",
            self.div(&i, &objects.to_string()),
            self.numbers(first, last),
            table = q(self.table),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_stage() {
        let stage = Stage {
            from: 10_000,
            to: 260_000,
            rows_per_object: 100,
        };
        for dialect in Dialect::ALL {
            let statements = fill_statements(dialect, "widget_log", &stage);
            assert_eq!(statements.len(), 3);
            assert!(
                statements[2].contains("generate_series(210001::bigint, 260000)")
                    || statements[2].contains("SELECT 210001 UNION ALL")
                    || statements[2].contains("<= 49999")
            );
        }
    }
}
