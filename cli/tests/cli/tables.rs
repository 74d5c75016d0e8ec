//! Tables as others made them: the Django original (its 1.x tables and
//! its pre-1.0 ones with a `created_at` default), our previous version,
//! and tables that only look like log tables. Written out as their
//! makers write them, not derived from this version's DDL.

use awesome_audit_log_codegen::ddl::insert_columns;
use awesome_audit_log_tests::{Kind, TestDb};

/// The original's columns its INSERT names: all but `id`.
fn original_insert_columns() -> impl Iterator<Item = &'static str> {
    insert_columns().iter().map(|column| column.name)
}

fn q(kind: Kind) -> char {
    if kind == Kind::MySql { '`' } else { '"' }
}

/// `CREATE TABLE` of a log table as the original makes it, with
/// `created_at` defined as `created_at` says and `more` columns after it.
fn log_table(kind: Kind, table: &str, created_at: &str, more: &str) -> String {
    let q = q(kind);
    let (id, json, short, bigint, engine) = match kind {
        Kind::Postgres => ("BIGSERIAL PRIMARY KEY", "JSONB", "VARCHAR", "BIGINT", ""),
        Kind::MySql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "JSON",
            "VARCHAR",
            "BIGINT",
            " ENGINE=InnoDB",
        ),
        Kind::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "TEXT",
            "",
            "INTEGER",
            "",
        ),
    };
    let varchar = |n: u32| {
        if short.is_empty() {
            "TEXT".to_owned()
        } else {
            format!("{short}({n})")
        }
    };
    format!(
        "CREATE TABLE {q}{table}{q} (\
         {q}id{q} {id}, {q}action{q} {action} NOT NULL, {q}object_pk{q} TEXT NOT NULL, \
         {q}before{q} {json}, {q}after{q} {json}, {q}changes{q} {json}, \
         {q}entry_point{q} {entry_point}, {q}route{q} TEXT, {q}path{q} TEXT, {q}method{q} {method}, \
         {q}ip{q} TEXT, {q}user_id{q} {bigint}, {q}user_name{q} TEXT, {q}user_agent{q} TEXT, \
         {q}created_at{q} {created_at}{more}){engine}",
        action = varchar(10),
        entry_point = varchar(20),
        method = varchar(10),
    )
}

/// The original's columns with `created_at` defined as `created_at` says.
pub fn with_created_at(kind: Kind, table: &str, created_at: &str) -> String {
    log_table(kind, table, created_at, "")
}

/// The original's table (1.x): its 15 columns, `TIMESTAMP NOT NULL` on
/// MySQL, no index.
pub fn original(kind: Kind, table: &str) -> String {
    let created_at = match kind {
        Kind::Postgres => "TIMESTAMPTZ NOT NULL",
        Kind::MySql => "TIMESTAMP NOT NULL",
        Kind::Sqlite => "TEXT NOT NULL",
    };
    log_table(kind, table, created_at, "")
}

/// The original's table before 1.0: `created_at` with a database default
/// (nullable on PostgreSQL and SQLite, where SQLite's type was
/// `DATETIME`).
pub fn pre_1_0(kind: Kind, table: &str) -> String {
    let created_at = match kind {
        Kind::Postgres => "TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP",
        Kind::MySql => "TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
        Kind::Sqlite => "DATETIME DEFAULT CURRENT_TIMESTAMP",
    };
    log_table(kind, table, created_at, "")
}

/// Our previous version's table: the original's columns and `event_id`,
/// `DATETIME(6)` on MySQL, no `correlation_id`, no index.
pub fn previous_version(kind: Kind, table: &str) -> String {
    let q = q(kind);
    let (created_at, event_id) = match kind {
        Kind::Postgres => ("TIMESTAMPTZ NOT NULL", "VARCHAR(36) UNIQUE"),
        Kind::MySql => ("DATETIME(6) NOT NULL", "VARCHAR(36) UNIQUE"),
        Kind::Sqlite => ("TEXT NOT NULL", "TEXT UNIQUE"),
    };
    log_table(
        kind,
        table,
        created_at,
        &format!(", {q}event_id{q} {event_id}"),
    )
}

/// Tables that only look like log tables, which the tool must never
/// touch: Django's admin log, a `blog_log` of some blog, and `catalog`
/// (both match the original's `LIKE '%_log'`).
pub fn look_alikes(kind: Kind) -> [String; 3] {
    let id = match kind {
        Kind::Postgres => "SERIAL PRIMARY KEY",
        Kind::MySql => "INT AUTO_INCREMENT PRIMARY KEY",
        Kind::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
    };
    let time = match kind {
        Kind::Postgres => "TIMESTAMPTZ",
        Kind::MySql => "DATETIME(6)",
        Kind::Sqlite => "TEXT",
    };
    [
        format!(
            "CREATE TABLE django_admin_log (id {id}, action_time {time} NOT NULL, \
             object_id TEXT, object_repr VARCHAR(200) NOT NULL, action_flag SMALLINT NOT NULL, \
             change_message TEXT NOT NULL, content_type_id INTEGER, user_id INTEGER NOT NULL)"
        ),
        format!(
            "CREATE TABLE blog_log (id {id}, title VARCHAR(200) NOT NULL, body TEXT, \
             created_at {time} NOT NULL)"
        ),
        format!("CREATE TABLE catalog (id {id}, name VARCHAR(200) NOT NULL)"),
    ]
}

/// The original's INSERT of one row, as it writes it (every column but
/// `id`, `created_at` as the text it sends).
pub fn original_insert(kind: Kind, table: &str, object_pk: &str) -> String {
    let q = q(kind);
    let columns = original_insert_columns()
        .map(|c| format!("{q}{c}{q}"))
        .collect::<Vec<_>>()
        .join(", ");
    let created_at = match kind {
        Kind::Postgres => "2026-01-02T10:00:00.123456+00:00",
        // MariaDB's strict mode refuses the offset the original sends
        // (documented); the same moment without it.
        Kind::MySql => "2026-01-02 10:00:00",
        // Django's text form.
        Kind::Sqlite => "2026-01-02 10:00:00.123456",
    };
    format!(
        "INSERT INTO {q}{table}{q} ({columns}) VALUES ('update', '{object_pk}', \
         '{{\"id\": {object_pk}, \"qty\": 1}}', '{{\"id\": {object_pk}, \"qty\": 2}}', \
         '{{\"qty\": {{\"from\": 1, \"to\": 2}}}}', 'http', 'widget-detail', '/widgets/{object_pk}', \
         'PATCH', '203.0.113.9', 7, 'ada', 'curl/8.5', '{created_at}')"
    )
}

/// Every row of `table` (the original's columns) as one text each, in id
/// order: what must survive a repair unchanged. Times to the microsecond;
/// on MySQL in the connection's UTC, so a `TIMESTAMP` and the `DATETIME(6)`
/// it becomes read the same.
pub async fn rows(db: &TestDb, schema: Option<&str>, table: &str) -> Vec<Option<String>> {
    let q = q(db.kind);
    let cell = |column: &str| match (db.kind, column) {
        (Kind::MySql, "created_at") => {
            format!("COALESCE(DATE_FORMAT({q}{column}{q}, '%Y-%m-%d %H:%i:%s.%f'), 'NULL')")
        }
        (Kind::MySql, _) => format!("COALESCE(CAST({q}{column}{q} AS CHAR), 'NULL')"),
        _ => format!("COALESCE(CAST({q}{column}{q} AS TEXT), 'NULL')"),
    };
    let cells: Vec<String> = std::iter::once("id")
        .chain(original_insert_columns())
        .map(cell)
        .collect();
    let row = match db.kind {
        Kind::MySql => format!("CONCAT_WS('|', {})", cells.join(", ")),
        _ => cells.join(" || '|' || "),
    };
    let from = match schema {
        Some(schema) => format!("{q}{schema}{q}.{q}{table}{q}"),
        None => format!("{q}{table}{q}"),
    };
    db.texts(&format!("SELECT {row} FROM {from} ORDER BY {q}id{q}"))
        .await
}
