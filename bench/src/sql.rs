//! The benchmark's SQL: the application's statements on `widget`, the
//! fresh tables of each mode, and the hand-written reference triggers of
//! the modes `trigger`, `trigger_tx` and `trigger_tx_context`.

use awesome_audit_log::Dialect;
use awesome_audit_log_codegen::trigger::context::CONTEXT_COLUMNS;

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
            "CREATE TABLE widget (id BIGINT PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price BIGINT NOT NULL, active BOOLEAN NOT NULL, updated_at TIMESTAMPTZ NOT NULL)",
            WidgetLog::DDL_POSTGRES,
        ],
        Dialect::MySql => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "CREATE TABLE widget (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL, qty INT NOT NULL, price BIGINT NOT NULL, active BOOLEAN NOT NULL, updated_at DATETIME(6) NOT NULL) ENGINE=InnoDB",
            WidgetLog::DDL_MYSQL,
        ],
        Dialect::Sqlite => vec![
            "DROP TABLE IF EXISTS widget_log",
            "DROP TABLE IF EXISTS widget",
            "CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL, active INTEGER NOT NULL, updated_at TEXT NOT NULL)",
            WidgetLog::DDL_SQLITE,
        ],
    }
}

/// The hand-written reference trigger of `dialect`, as its statements:
/// what a developer would write by hand to log the same changes (JSON of
/// the old and new row, the changed fields only on update, the time taken
/// in the database), without the generated triggers' exact rendering of
/// every type, their `event_id` or their context.
pub(crate) fn reference_trigger(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Postgres => &[PG_TRIGGER],
        Dialect::MySql => &MYSQL_TRIGGERS,
        Dialect::Sqlite => &SQLITE_TRIGGERS,
    }
}

/// The reference trigger of `dialect` extended to record the audit context
/// as the generated triggers read it: PostgreSQL's transaction-local
/// settings, MySQL/MariaDB's session variables, SQLite's context table
/// (one subquery per column, as one would write it by hand; created here
/// when missing, as the auditor creates it).
pub(crate) fn reference_trigger_with_context(dialect: Dialect) -> Vec<String> {
    // The column names are the library's; the reads are written by hand.
    let reads: Vec<String> = CONTEXT_COLUMNS
        .iter()
        .map(|column| match dialect {
            Dialect::Postgres if *column == "user_id" => {
                format!("NULLIF(current_setting('awesome_audit_log.{column}', true), '')::bigint")
            }
            Dialect::Postgres => {
                format!("NULLIF(current_setting('awesome_audit_log.{column}', true), '')")
            }
            Dialect::MySql => format!("@awesome_audit_log_{column}"),
            Dialect::Sqlite => format!("(SELECT {column} FROM awesome_audit_log_context)"),
        })
        .collect();
    let time = match dialect {
        Dialect::Postgres => "clock_timestamp())",
        Dialect::MySql => "UTC_TIMESTAMP(6))",
        Dialect::Sqlite => "strftime('%Y-%m-%d %H:%M:%f', 'now'))",
    };
    let columns = format!("created_at, {})", CONTEXT_COLUMNS.join(", "));
    let values = format!("{}, {})", &time[..time.len() - 1], reads.join(", "));
    let mut statements: Vec<String> = Vec::new();
    if dialect == Dialect::Sqlite {
        statements.push(
            "CREATE TABLE IF NOT EXISTS awesome_audit_log_context (\"id\" INTEGER PRIMARY KEY CHECK (\"id\" = 1), \
             \"entry_point\" TEXT, \"route\" TEXT, \"path\" TEXT, \"method\" TEXT, \"ip\" TEXT, \
             \"user_id\" INTEGER, \"user_name\" TEXT, \"user_agent\" TEXT, \"correlation_id\" TEXT)"
                .to_owned(),
        );
    }
    statements.extend(
        reference_trigger(dialect)
            .iter()
            .map(|sql| sql.replace("created_at)", &columns).replace(time, &values)),
    );
    statements
}

/// PostgreSQL: one generic PL/pgSQL function, `to_jsonb` of the row and a
/// key-by-key comparison.
const PG_TRIGGER: &str = r#"
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

/// MySQL/MariaDB: one `INSERT` per event, the fields listed by hand.
const MYSQL_TRIGGERS: [&str; 6] = [
    "DROP TRIGGER IF EXISTS widget_ref_insert",
    "DROP TRIGGER IF EXISTS widget_ref_update",
    "DROP TRIGGER IF EXISTS widget_ref_delete",
    "CREATE TRIGGER widget_ref_insert AFTER INSERT ON widget FOR EACH ROW \
     INSERT INTO widget_log (action, object_pk, `after`, changes, created_at) VALUES ('insert', NEW.id, \
     JSON_OBJECT('id', NEW.id, 'name', NEW.name, 'qty', NEW.qty, 'price', NEW.price, 'active', NEW.active, 'updated_at', NEW.updated_at), \
     JSON_OBJECT('id', JSON_OBJECT('from', NULL, 'to', NEW.id), 'name', JSON_OBJECT('from', NULL, 'to', NEW.name), \
     'qty', JSON_OBJECT('from', NULL, 'to', NEW.qty), 'price', JSON_OBJECT('from', NULL, 'to', NEW.price), \
     'active', JSON_OBJECT('from', NULL, 'to', NEW.active), 'updated_at', JSON_OBJECT('from', NULL, 'to', NEW.updated_at)), \
     UTC_TIMESTAMP(6))",
    "CREATE TRIGGER widget_ref_update AFTER UPDATE ON widget FOR EACH ROW \
     INSERT INTO widget_log (action, object_pk, `before`, `after`, changes, created_at) VALUES ('update', NEW.id, \
     JSON_OBJECT('id', OLD.id, 'name', OLD.name, 'qty', OLD.qty, 'price', OLD.price, 'active', OLD.active, 'updated_at', OLD.updated_at), \
     JSON_OBJECT('id', NEW.id, 'name', NEW.name, 'qty', NEW.qty, 'price', NEW.price, 'active', NEW.active, 'updated_at', NEW.updated_at), \
     JSON_MERGE_PRESERVE(JSON_OBJECT(), \
     IF(OLD.id <=> NEW.id, JSON_OBJECT(), JSON_OBJECT('id', JSON_OBJECT('from', OLD.id, 'to', NEW.id))), \
     IF(OLD.name <=> NEW.name, JSON_OBJECT(), JSON_OBJECT('name', JSON_OBJECT('from', OLD.name, 'to', NEW.name))), \
     IF(OLD.qty <=> NEW.qty, JSON_OBJECT(), JSON_OBJECT('qty', JSON_OBJECT('from', OLD.qty, 'to', NEW.qty))), \
     IF(OLD.price <=> NEW.price, JSON_OBJECT(), JSON_OBJECT('price', JSON_OBJECT('from', OLD.price, 'to', NEW.price))), \
     IF(OLD.active <=> NEW.active, JSON_OBJECT(), JSON_OBJECT('active', JSON_OBJECT('from', OLD.active, 'to', NEW.active))), \
     IF(OLD.updated_at <=> NEW.updated_at, JSON_OBJECT(), JSON_OBJECT('updated_at', JSON_OBJECT('from', OLD.updated_at, 'to', NEW.updated_at)))), \
     UTC_TIMESTAMP(6))",
    "CREATE TRIGGER widget_ref_delete AFTER DELETE ON widget FOR EACH ROW \
     INSERT INTO widget_log (action, object_pk, `before`, changes, created_at) VALUES ('delete', OLD.id, \
     JSON_OBJECT('id', OLD.id, 'name', OLD.name, 'qty', OLD.qty, 'price', OLD.price, 'active', OLD.active, 'updated_at', OLD.updated_at), \
     JSON_OBJECT('id', JSON_OBJECT('from', OLD.id, 'to', NULL), 'name', JSON_OBJECT('from', OLD.name, 'to', NULL), \
     'qty', JSON_OBJECT('from', OLD.qty, 'to', NULL), 'price', JSON_OBJECT('from', OLD.price, 'to', NULL), \
     'active', JSON_OBJECT('from', OLD.active, 'to', NULL), 'updated_at', JSON_OBJECT('from', OLD.updated_at, 'to', NULL)), \
     UTC_TIMESTAMP(6))",
];

/// SQLite: one `INSERT` per event, the fields listed by hand, an update's
/// changed fields gathered with `json_group_object`. Each is dropped first:
/// a `DROP … IF EXISTS` makes SQLite check the connection's schema.
const SQLITE_TRIGGERS: [&str; 6] = [
    "DROP TRIGGER IF EXISTS widget_ref_insert",
    "DROP TRIGGER IF EXISTS widget_ref_update",
    "DROP TRIGGER IF EXISTS widget_ref_delete",
    "CREATE TRIGGER widget_ref_insert AFTER INSERT ON widget BEGIN \
     INSERT INTO widget_log (action, object_pk, \"after\", changes, created_at) VALUES ('insert', NEW.id, \
     json_object('id', NEW.id, 'name', NEW.name, 'qty', NEW.qty, 'price', NEW.price, 'active', NEW.active, 'updated_at', NEW.updated_at), \
     json_object('id', json_object('from', NULL, 'to', NEW.id), 'name', json_object('from', NULL, 'to', NEW.name), \
     'qty', json_object('from', NULL, 'to', NEW.qty), 'price', json_object('from', NULL, 'to', NEW.price), \
     'active', json_object('from', NULL, 'to', NEW.active), 'updated_at', json_object('from', NULL, 'to', NEW.updated_at)), \
     strftime('%Y-%m-%d %H:%M:%f', 'now')); END",
    "CREATE TRIGGER widget_ref_update AFTER UPDATE ON widget BEGIN \
     INSERT INTO widget_log (action, object_pk, \"before\", \"after\", changes, created_at) VALUES ('update', NEW.id, \
     json_object('id', OLD.id, 'name', OLD.name, 'qty', OLD.qty, 'price', OLD.price, 'active', OLD.active, 'updated_at', OLD.updated_at), \
     json_object('id', NEW.id, 'name', NEW.name, 'qty', NEW.qty, 'price', NEW.price, 'active', NEW.active, 'updated_at', NEW.updated_at), \
     (SELECT json_group_object(k, json_object('from', o, 'to', n)) FROM ( \
     SELECT 'id' AS k, OLD.id AS o, NEW.id AS n UNION ALL SELECT 'name', OLD.name, NEW.name \
     UNION ALL SELECT 'qty', OLD.qty, NEW.qty UNION ALL SELECT 'price', OLD.price, NEW.price \
     UNION ALL SELECT 'active', OLD.active, NEW.active UNION ALL SELECT 'updated_at', OLD.updated_at, NEW.updated_at) \
     WHERE o IS NOT n), \
     strftime('%Y-%m-%d %H:%M:%f', 'now')); END",
    "CREATE TRIGGER widget_ref_delete AFTER DELETE ON widget BEGIN \
     INSERT INTO widget_log (action, object_pk, \"before\", changes, created_at) VALUES ('delete', OLD.id, \
     json_object('id', OLD.id, 'name', OLD.name, 'qty', OLD.qty, 'price', OLD.price, 'active', OLD.active, 'updated_at', OLD.updated_at), \
     json_object('id', json_object('from', OLD.id, 'to', NULL), 'name', json_object('from', OLD.name, 'to', NULL), \
     'qty', json_object('from', OLD.qty, 'to', NULL), 'price', json_object('from', OLD.price, 'to', NULL), \
     'active', json_object('from', OLD.active, 'to', NULL), 'updated_at', json_object('from', OLD.updated_at, 'to', NULL)), \
     strftime('%Y-%m-%d %H:%M:%f', 'now')); END",
];
