//! The benchmark's SQL: the application's statements on `widget`, the
//! fresh tables of each mode, and the PostgreSQL trigger of mode `trigger`.

use awesome_audit_log::Dialect;

use crate::model::WidgetLog;

/// The application's statements on the `widget` table, with the
/// placeholders of the backend.
pub(crate) struct Sql {
    pub(crate) insert: &'static str,
    pub(crate) update: &'static str,
    pub(crate) delete: &'static str,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Self {
        let fix = |sql: &str| -> &'static str {
            let sql = if dialect == Dialect::Postgres {
                let mut out = String::new();
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push_str(&format!("${n}"));
                    } else {
                        out.push(c);
                    }
                }
                out
            } else {
                sql.to_owned()
            };
            // Built once per run; `&'static str` is what sqlx takes as safe SQL.
            sql.leak()
        };
        Self {
            insert: fix(
                "INSERT INTO widget (id, name, qty, price, active, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            ),
            update: fix("UPDATE widget SET qty = ? WHERE id = ?"),
            delete: fix("DELETE FROM widget WHERE id = ?"),
        }
    }
}

/// The DDL that gives a mode a fresh `widget` table and a fresh, empty `widget_log`.
pub(crate) fn reset_sql(dialect: Dialect) -> Vec<&'static str> {
    match dialect {
        Dialect::Postgres => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "DROP FUNCTION IF EXISTS widget_audit()",
            "CREATE TABLE widget (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price DOUBLE PRECISION NOT NULL, active BOOLEAN NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
            WidgetLog::DDL_POSTGRES,
        ],
        Dialect::MySql => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "CREATE TABLE widget (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, qty INT NOT NULL, price DOUBLE NOT NULL, active BOOLEAN NOT NULL, updated_at DATETIME(6) NOT NULL) ENGINE=InnoDB",
            WidgetLog::DDL_MYSQL,
        ],
        Dialect::Sqlite => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price REAL NOT NULL, active INTEGER NOT NULL, updated_at TEXT NOT NULL)",
            WidgetLog::DDL_SQLITE,
        ],
    }
}

/// The in-database reference: a plain PL/pgSQL trigger that writes the same
/// row as `log_change` (JSON of the old and new row, changed fields only
/// on update), with the time taken in the database.
pub(crate) const PG_TRIGGER: &str = r#"
CREATE FUNCTION widget_audit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b jsonb;
    a jsonb;
    c jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        a := to_jsonb(NEW);
        SELECT jsonb_object_agg(key, jsonb_build_object('from', NULL, 'to', value)) INTO c
        FROM jsonb_each(a);
        INSERT INTO widget_log (action, object_pk, "after", changes, created_at)
        VALUES ('insert', NEW.id::text, a, c, clock_timestamp());
    ELSIF TG_OP = 'UPDATE' THEN
        b := to_jsonb(OLD);
        a := to_jsonb(NEW);
        SELECT jsonb_object_agg(n.key, jsonb_build_object('from', o.value, 'to', n.value)) INTO c
        FROM jsonb_each(a) AS n JOIN jsonb_each(b) AS o ON o.key = n.key
        WHERE n.value IS DISTINCT FROM o.value;
        INSERT INTO widget_log (action, object_pk, "before", "after", changes, created_at)
        VALUES ('update', NEW.id::text, b, a, c, clock_timestamp());
    ELSE
        b := to_jsonb(OLD);
        SELECT jsonb_object_agg(key, jsonb_build_object('from', value, 'to', NULL)) INTO c
        FROM jsonb_each(b);
        INSERT INTO widget_log (action, object_pk, "before", changes, created_at)
        VALUES ('delete', OLD.id::text, b, c, clock_timestamp());
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER widget_audit AFTER INSERT OR UPDATE OR DELETE ON widget
FOR EACH ROW EXECUTE FUNCTION widget_audit();
"#;
