//! Column types per dialect: this version's definition of a column taken
//! apart, the catalog's spelling of a type read back, and the judgement
//! whether a type found in a table is the same as ours, holds every value
//! ours holds, or differs in a way the tool repairs or leaves to the
//! operator.
//!
//! Compatible (not drift): a wider text type than ours (PostgreSQL `text`
//! for `VARCHAR(n)`, MySQL `MEDIUMTEXT` / `LONGTEXT` for `TEXT`, a longer
//! `VARCHAR`), MariaDB's `LONGTEXT` for `JSON` (MariaDB's `JSON` is an alias
//! of it), `BIGINT UNSIGNED` for MySQL's id, and on SQLite any declared
//! type with the same affinity as ours.
//!
//! Drift the tool repairs by converting to our type, which holds every
//! value the old one held: narrower integers and texts, PostgreSQL `json`
//! (history filters on `changes` need `jsonb`), timestamps with fewer than
//! six fractional digits, MySQL `TIMESTAMP` (which ends in 2038; to
//! `DATETIME(6)` in UTC), and on SQLite a type of another affinity (by
//! rebuilding the table).
//!
//! Drift left to the operator: anything else, such as PostgreSQL
//! `timestamp without time zone` (the zone its values were written in is
//! not known) or JSON kept in a plain text column.

use awesome_audit_log::Dialect;
use awesome_audit_log_codegen::ddl::{Column, ColumnKind, Limit};

/// Words of a column's definition that are constraints, not its type.
const CONSTRAINTS: [&str; 5] = [
    "PRIMARY KEY",
    "NOT NULL",
    "UNIQUE",
    "AUTO_INCREMENT",
    "AUTOINCREMENT",
];

/// This version's definition of a column in one dialect, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Definition {
    /// The definition as `CREATE TABLE` writes it.
    pub sql: &'static str,
    /// Whether it is NOT NULL (a primary key is).
    pub not_null: bool,
    /// Whether it is UNIQUE.
    pub unique: bool,
    /// Whether it is the primary key.
    pub primary_key: bool,
}

impl Definition {
    /// The definition of `column` in `dialect`.
    pub(crate) fn of(column: &Column, dialect: Dialect) -> Self {
        let sql = column.sql_type(dialect);
        let primary_key = sql.contains("PRIMARY KEY");
        Self {
            sql,
            not_null: primary_key || sql.contains("NOT NULL"),
            unique: sql.contains("UNIQUE"),
            primary_key,
        }
    }

    /// The type alone: `VARCHAR(36)`, `JSONB`, `BIGSERIAL`.
    pub(crate) fn type_name(&self) -> String {
        let mut rest = self.sql.to_owned();
        for constraint in CONSTRAINTS {
            rest = rest.replace(constraint, " ");
        }
        rest.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// What a column is converted to on PostgreSQL (`ALTER COLUMN … TYPE`):
    /// the type, with `BIGSERIAL` (not a type, a shorthand) as `BIGINT`.
    pub(crate) fn postgres_type(&self) -> String {
        match self.type_name().as_str() {
            "BIGSERIAL" => "BIGINT".to_owned(),
            other => other.to_owned(),
        }
    }

    /// The definition without the constraints that make an index (`PRIMARY
    /// KEY`, `UNIQUE`): what MySQL's `MODIFY COLUMN` takes, which keeps the
    /// column's existing indexes.
    pub(crate) fn without_keys(&self) -> String {
        self.sql
            .replace("PRIMARY KEY", " ")
            .replace("UNIQUE", " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How a type found in a table compares with ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The same, or one that holds every value ours holds and reads back
    /// the same way: not drift.
    Compatible,
    /// Fewer fractional digits than ours: converted to ours.
    Precision,
    /// Another type that ours can replace without losing a value:
    /// converted to ours; the text says why it matters.
    Convert(&'static str),
    /// Another type the tool does not convert; the text says why.
    Manual(&'static str),
}

/// How the type `found` (as the catalog spells it) of a table's `column`
/// compares with ours in `dialect`.
pub(crate) fn judge(dialect: Dialect, column: &Column, found: &str) -> Verdict {
    match dialect {
        Dialect::Postgres => judge_postgres(column, &Parsed::postgres(found)),
        Dialect::MySql => judge_mysql(column, &Parsed::mysql(found)),
        Dialect::Sqlite => judge_sqlite(column, found),
    }
}

/// A catalog type name taken apart: its base name and its one number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    /// Lower case, without the number: `character varying`, `timestamp
    /// with time zone`, `datetime`, `bigint unsigned`.
    base: String,
    /// The number in parentheses: a length or a precision.
    number: Option<u32>,
}

impl Parsed {
    /// `character varying(10)`, `timestamp(3) with time zone`.
    fn postgres(found: &str) -> Self {
        Self::split(found)
    }

    /// `varchar(10)`, `datetime(6)`, `bigint(20) unsigned` (the display
    /// width of an integer means nothing and is dropped).
    fn mysql(found: &str) -> Self {
        let parsed = Self::split(found);
        if is_mysql_integer(&parsed.base) {
            Self {
                number: None,
                ..parsed
            }
        } else {
            parsed
        }
    }

    fn split(found: &str) -> Self {
        let lower = found.trim().to_lowercase();
        let (base, number) = match (lower.find('('), lower.find(')')) {
            (Some(open), Some(close)) if open < close => {
                let number = lower[open + 1..close].trim().parse().ok();
                let base = format!("{} {}", &lower[..open], &lower[close + 1..]);
                (base, number)
            }
            _ => (lower, None),
        };
        Self {
            base: base.split_whitespace().collect::<Vec<_>>().join(" "),
            number,
        }
    }
}

fn is_mysql_integer(base: &str) -> bool {
    let first = base.split_whitespace().next().unwrap_or_default();
    matches!(
        first,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint"
    )
}

/// The length ours takes when it is a `VARCHAR(n)`.
fn varchar_limit(column: &Column, dialect: Dialect) -> Option<u32> {
    match column.limit(dialect) {
        Limit::Chars(n) => u32::try_from(n).ok(),
        Limit::None | Limit::Bytes(_) => None,
    }
}

const NARROWER: &str = "holds less than ours: a longer value would be refused";
const SMALL_INTEGER: &str = "a smaller integer than ours";

fn judge_postgres(column: &Column, found: &Parsed) -> Verdict {
    let base = found.base.as_str();
    match column.kind {
        ColumnKind::Id | ColumnKind::BigInt => match base {
            "bigint" => Verdict::Compatible,
            "integer" | "smallint" => Verdict::Convert(SMALL_INTEGER),
            _ => Verdict::Manual("not an integer type"),
        },
        ColumnKind::Text => match (varchar_limit(column, Dialect::Postgres), base, found.number) {
            (_, "text", _) | (_, "character varying", None) => Verdict::Compatible,
            (Some(ours), "character varying", Some(theirs)) if theirs >= ours => {
                Verdict::Compatible
            }
            (_, "character varying", Some(_)) => Verdict::Convert(NARROWER),
            _ => Verdict::Manual("not a text type"),
        },
        ColumnKind::Json => match base {
            "jsonb" => Verdict::Compatible,
            "json" => Verdict::Convert(
                "history filters on `changes` need jsonb (its `?` operator); json is read the same otherwise",
            ),
            _ => Verdict::Manual(
                "JSON kept in a column that is not JSON: converting could fail on a value that is not valid JSON",
            ),
        },
        ColumnKind::Timestamp => match (base, found.number) {
            ("timestamp with time zone", None | Some(6..)) => Verdict::Compatible,
            ("timestamp with time zone", Some(_)) => Verdict::Precision,
            ("timestamp without time zone", _) => Verdict::Manual(
                "a timestamp without time zone: the zone its values were written in is not known; \
                 convert it yourself, e.g. `ALTER COLUMN created_at TYPE timestamptz USING created_at AT TIME ZONE 'UTC'` if they are UTC",
            ),
            _ => Verdict::Manual("not a timestamp type"),
        },
    }
}

fn judge_mysql(column: &Column, found: &Parsed) -> Verdict {
    let base = found.base.as_str();
    let text_bytes = |base: &str| match base {
        "tinytext" => Some(255),
        "text" => Some(65_535),
        "mediumtext" => Some(16_777_215),
        "longtext" => Some(u32::MAX),
        _ => None,
    };
    match column.kind {
        ColumnKind::Id | ColumnKind::BigInt => match base {
            "bigint" | "bigint unsigned" => Verdict::Compatible,
            _ if is_mysql_integer(base) => Verdict::Convert(SMALL_INTEGER),
            _ => Verdict::Manual("not an integer type"),
        },
        ColumnKind::Text => {
            let ours = varchar_limit(column, Dialect::MySql);
            match (ours, base, found.number, text_bytes(base)) {
                // A VARCHAR(n) of ours: a longer VARCHAR or a TEXT of at
                // least 64 KB holds it.
                (Some(ours), "varchar", Some(theirs), _) if theirs >= ours => Verdict::Compatible,
                (Some(_), _, _, Some(bytes)) if bytes >= 65_535 => Verdict::Compatible,
                // A TEXT of ours: a TEXT at least as large.
                (None, _, _, Some(bytes)) if bytes >= 65_535 => Verdict::Compatible,
                (_, "varchar", _, _) | (_, "tinytext", _, _) => Verdict::Convert(NARROWER),
                _ => Verdict::Manual("not a text type"),
            }
        }
        ColumnKind::Json => match base {
            "json" | "longtext" => Verdict::Compatible,
            _ => Verdict::Manual(
                "JSON kept in a column that is not JSON: converting could fail on a value that is not valid JSON",
            ),
        },
        ColumnKind::Timestamp => match (base, found.number) {
            ("datetime", Some(6)) => Verdict::Compatible,
            ("datetime", _) => Verdict::Precision,
            ("timestamp", Some(6)) => Verdict::Convert(
                "TIMESTAMP ends in 2038; DATETIME(6) holds UTC for longer (values are kept)",
            ),
            ("timestamp", _) => Verdict::Precision,
            _ => Verdict::Manual("not a timestamp type"),
        },
    }
}

/// SQLite's type affinity of a declared type (its documented rules, in
/// their order).
fn affinity(declared: &str) -> &'static str {
    let upper = declared.to_uppercase();
    if upper.contains("INT") {
        "INTEGER"
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|t| upper.contains(t)) {
        "TEXT"
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        "BLOB"
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|t| upper.contains(t)) {
        "REAL"
    } else {
        "NUMERIC"
    }
}

fn judge_sqlite(column: &Column, found: &str) -> Verdict {
    let ours = Definition::of(column, Dialect::Sqlite).type_name();
    if column.kind == ColumnKind::Id {
        // Only `INTEGER PRIMARY KEY` makes the id the rowid, numbered by
        // SQLite.
        return if found.trim().eq_ignore_ascii_case("INTEGER") {
            Verdict::Compatible
        } else {
            Verdict::Convert("only INTEGER PRIMARY KEY numbers new rows itself")
        };
    }
    if affinity(found) == affinity(&ours) {
        Verdict::Compatible
    } else {
        Verdict::Convert("another type affinity: SQLite would convert values on the way in")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use awesome_audit_log_codegen::ddl::COLUMNS;

    fn column(name: &str) -> &'static Column {
        COLUMNS.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn definitions_are_taken_apart() {
        let event = Definition::of(column("event_id"), Dialect::Postgres);
        assert!(event.unique && !event.not_null && !event.primary_key);
        assert_eq!(event.type_name(), "VARCHAR(36)");
        let id = Definition::of(column("id"), Dialect::Postgres);
        assert!(id.primary_key && id.not_null);
        assert_eq!(id.type_name(), "BIGSERIAL");
        assert_eq!(id.postgres_type(), "BIGINT");
        let my_id = Definition::of(column("id"), Dialect::MySql);
        assert_eq!(my_id.without_keys(), "BIGINT AUTO_INCREMENT");
        let created = Definition::of(column("created_at"), Dialect::MySql);
        assert_eq!(created.without_keys(), "DATETIME(6) NOT NULL");
        assert!(created.not_null);
        assert_eq!(
            Definition::of(column("event_id"), Dialect::Sqlite).type_name(),
            "TEXT"
        );
    }

    #[test]
    fn every_column_of_ours_is_compatible_with_itself() {
        // What the catalogs say of a table this version creates.
        let postgres = [
            "bigint",
            "character varying(10)",
            "text",
            "jsonb",
            "jsonb",
            "jsonb",
            "character varying(20)",
            "text",
            "text",
            "character varying(10)",
            "text",
            "bigint",
            "text",
            "text",
            "timestamp with time zone",
            "character varying(36)",
            "character varying(64)",
        ];
        let mariadb = [
            "bigint(20)",
            "varchar(10)",
            "text",
            "longtext",
            "longtext",
            "longtext",
            "varchar(20)",
            "text",
            "text",
            "varchar(10)",
            "text",
            "bigint(20)",
            "text",
            "text",
            "datetime(6)",
            "varchar(36)",
            "varchar(64)",
        ];
        for (i, column) in COLUMNS.iter().enumerate() {
            assert_eq!(
                judge(Dialect::Postgres, column, postgres[i]),
                Verdict::Compatible,
                "{}",
                column.name
            );
            assert_eq!(
                judge(Dialect::MySql, column, mariadb[i]),
                Verdict::Compatible,
                "{}",
                column.name
            );
            let declared = Definition::of(column, Dialect::Sqlite).type_name();
            assert_eq!(
                judge(Dialect::Sqlite, column, &declared),
                Verdict::Compatible,
                "{}",
                column.name
            );
        }
    }

    #[test]
    fn the_originals_types_and_their_variants() {
        let created = column("created_at");
        assert_eq!(
            judge(Dialect::MySql, created, "timestamp"),
            Verdict::Precision
        );
        assert_eq!(
            judge(Dialect::MySql, created, "datetime"),
            Verdict::Precision
        );
        assert_eq!(
            judge(Dialect::MySql, created, "datetime(3)"),
            Verdict::Precision
        );
        assert!(matches!(
            judge(Dialect::MySql, created, "timestamp(6)"),
            Verdict::Convert(_)
        ));
        assert_eq!(
            judge(Dialect::Postgres, created, "timestamp(0) with time zone"),
            Verdict::Precision
        );
        assert!(matches!(
            judge(Dialect::Postgres, created, "timestamp without time zone"),
            Verdict::Manual(_)
        ));
        let before = column("before");
        assert_eq!(judge(Dialect::MySql, before, "json"), Verdict::Compatible);
        assert!(matches!(
            judge(Dialect::Postgres, before, "json"),
            Verdict::Convert(_)
        ));
        assert!(matches!(
            judge(Dialect::Postgres, before, "text"),
            Verdict::Manual(_)
        ));
        // Wider than ours: fine; narrower: converted.
        let method = column("method");
        assert_eq!(
            judge(Dialect::Postgres, method, "character varying(255)"),
            Verdict::Compatible
        );
        assert_eq!(judge(Dialect::MySql, method, "text"), Verdict::Compatible);
        assert!(matches!(
            judge(Dialect::MySql, method, "varchar(5)"),
            Verdict::Convert(_)
        ));
        let route = column("route");
        assert!(matches!(
            judge(Dialect::MySql, route, "varchar(255)"),
            Verdict::Convert(_)
        ));
        assert_eq!(
            judge(Dialect::MySql, route, "mediumtext"),
            Verdict::Compatible
        );
        assert!(matches!(
            judge(Dialect::Postgres, column("user_id"), "integer"),
            Verdict::Convert(_)
        ));
        assert_eq!(
            judge(Dialect::MySql, column("id"), "bigint(20) unsigned"),
            Verdict::Compatible
        );
    }

    #[test]
    fn sqlite_compares_affinities() {
        let created = column("created_at");
        assert_eq!(
            judge(Dialect::Sqlite, created, "varchar(32)"),
            Verdict::Compatible
        );
        assert!(matches!(
            judge(Dialect::Sqlite, created, "DATETIME"),
            Verdict::Convert(_)
        ));
        assert!(matches!(
            judge(Dialect::Sqlite, column("before"), "JSON"),
            Verdict::Convert(_)
        ));
        assert_eq!(
            judge(Dialect::Sqlite, column("user_id"), "BIGINT"),
            Verdict::Compatible
        );
        assert!(matches!(
            judge(Dialect::Sqlite, column("id"), "BIGINT"),
            Verdict::Convert(_)
        ));
    }
}
