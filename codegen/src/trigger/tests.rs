use super::*;

const FIELDS: [TriggerField<'static>; 5] = [
    TriggerField {
        column: "id",
        key: "id",
        stored: Stored::Plain(Render::Int),
    },
    TriggerField {
        column: "qty_col",
        key: "qty",
        stored: Stored::Plain(Render::Int),
    },
    TriggerField {
        column: "active",
        key: "active",
        stored: Stored::Plain(Render::Bool),
    },
    TriggerField {
        column: "seen_at",
        key: "seen_at",
        stored: Stored::Plain(Render::DateTimeUtc),
    },
    TriggerField {
        column: "api_key",
        key: "api_key",
        stored: Stored::Redacted,
    },
];

const MODEL: TriggerModel<'static> = TriggerModel {
    table: "widget",
    log_table: "widget_log",
    pk_column: "id",
    pk_render: Render::Int,
    fields: &FIELDS,
};

fn install(dialect: Dialect, options: TriggerOptions<'_>) -> Vec<String> {
    install_statements(dialect, &MODEL, &options)
}

#[test]
fn postgres_function_and_trigger() {
    let sql = install(Dialect::Postgres, TriggerOptions::new());
    assert_eq!(sql.len(), 3);
    let function = &sql[0];
    assert!(
        function.starts_with("CREATE OR REPLACE FUNCTION \"widget_audit_fn\"() RETURNS trigger"),
        "{function}"
    );
    // Each action writes the same columns, the context's among them, in
    // one statement.
    let insert = "INSERT INTO \"widget_log\" (\"action\", \"object_pk\", \"before\", \"after\", \"changes\", \"created_at\", \"entry_point\", \"route\", \"path\", \"method\", \"ip\", \"user_id\", \"user_name\", \"user_agent\", \"correlation_id\")";
    assert_eq!(function.matches(insert).count(), 3, "{function}");
    assert_eq!(function.matches(&format!("{insert} VALUES ('")).count(), 2);
    assert_eq!(
        function
            .matches(&format!("{insert} SELECT 'update'"))
            .count(),
        1
    );
    assert!(
        !function.contains(":="),
        "no PL/pgSQL assignment: {function}"
    );
    assert!(function.contains(
        "VALUES ('insert', CAST(NEW.\"id\" AS text), NULL, jsonb_build_object('id', NEW.\"id\", "
    ));
    assert!(function.contains("VALUES ('delete', CAST(OLD.\"id\" AS text), jsonb_build_object("));
    // The renamed column is read, stored under the field's key.
    assert!(function.contains("'qty', NEW.\"qty_col\""));
    assert!(function.contains("'api_key', '\"***\"'::jsonb"));
    // Column by column: only changed fields, redacted ones compared as text.
    assert!(function.contains(
        "(CASE WHEN OLD.\"qty_col\" IS DISTINCT FROM NEW.\"qty_col\" THEN jsonb_build_object('qty', "
    ));
    assert!(function.contains(
        "(CASE WHEN OLD.\"api_key\"::text IS DISTINCT FROM NEW.\"api_key\"::text THEN jsonb_build_object("
    ));
    // An update that changes no stored field writes nothing.
    assert!(function.contains(
        "WHERE OLD.\"id\" IS DISTINCT FROM NEW.\"id\" OR OLD.\"qty_col\" IS DISTINCT FROM NEW.\"qty_col\""
    ));
    // No event id, as `log_change` writes none inline.
    assert!(!function.contains("event_id"));
    assert!(function.contains(
        "statement_timestamp(), NULLIF(current_setting('awesome_audit_log.entry_point', true), '')"
    ));
    assert!(
        function.contains("NULLIF(current_setting('awesome_audit_log.user_id', true), '')::bigint")
    );
    assert!(
        function.contains("NULLIF(current_setting('awesome_audit_log.correlation_id', true), ''))")
    );
    assert!(function.ends_with("END\n$audit$"));
    assert_eq!(
        sql[1],
        "DROP TRIGGER IF EXISTS \"widget_audit\" ON \"widget\""
    );
    assert_eq!(
        sql[2],
        "CREATE TRIGGER \"widget_audit\" AFTER INSERT OR UPDATE OR DELETE ON \"widget\" \
         FOR EACH ROW EXECUTE FUNCTION \"widget_audit_fn\"()"
    );
}

#[test]
fn postgres_schema_and_options() {
    let options = TriggerOptions {
        schema: Some("audit"),
        log_unchanged_updates: true,
        correlation_id: false,
    };
    let sql = install(Dialect::Postgres, options);
    assert!(sql[0].starts_with("CREATE OR REPLACE FUNCTION \"audit\".\"widget_audit_fn\"()"));
    assert!(sql[0].contains("INSERT INTO \"audit\".\"widget_log\""));
    assert!(!sql[0].contains("correlation_id"));
    assert!(sql[0].contains("\"user_agent\") VALUES ("));
    assert!(!sql[0].contains(" WHERE "), "every update is logged");
    // The trigger is on the model's table, found by the search path.
    assert!(
        sql[2].contains(
            "ON \"widget\" FOR EACH ROW EXECUTE FUNCTION \"audit\".\"widget_audit_fn\"()"
        )
    );
    assert_eq!(
        uninstall_statements(Dialect::Postgres, &MODEL, &options)[1],
        "DROP FUNCTION IF EXISTS \"audit\".\"widget_audit_fn\"()"
    );
}

#[test]
fn mysql_three_triggers() {
    let sql = install(Dialect::MySql, TriggerOptions::new());
    assert_eq!(
        sql[..3],
        [
            "DROP TRIGGER IF EXISTS `widget_audit_insert`",
            "DROP TRIGGER IF EXISTS `widget_audit_update`",
            "DROP TRIGGER IF EXISTS `widget_audit_delete`",
        ]
    );
    assert!(sql[3].starts_with(
        "CREATE TRIGGER `widget_audit_insert` AFTER INSERT ON `widget` FOR EACH ROW INSERT INTO `widget_log` ("
    ));
    assert!(sql[3].contains("VALUES ('insert', CAST(NEW.`id` AS CHAR), NULL, JSON_OBJECT('id', NEW.`id`, 'qty', NEW.`qty_col`"));
    assert!(sql[3].contains("'api_key', '***'"));
    assert!(sql[3].contains("UTC_TIMESTAMP(6), @awesome_audit_log_entry_point, "));
    assert!(sql[3].ends_with("@awesome_audit_log_user_agent, @awesome_audit_log_correlation_id)"));
    let update = &sql[4];
    assert!(update.contains("SELECT 'update', CAST(NEW.`id` AS CHAR), JSON_OBJECT("));
    // The changed fields' members joined as text; numbers compared as they
    // are, the redacted column as bytes.
    assert!(update.contains(
        "CONCAT('{', CONCAT_WS(', ', IF(NOT (OLD.`id` <=> NEW.`id`), CONCAT('\"id\": ', JSON_OBJECT('from', OLD.`id`, 'to', NEW.`id`)), NULL), \
         IF(NOT (OLD.`qty_col` <=> NEW.`qty_col`), CONCAT('\"qty\": ', JSON_OBJECT('from', OLD.`qty_col`, 'to', NEW.`qty_col`)), NULL)"
    ), "{update}");
    assert!(
        update.contains("NOT (CAST(OLD.`api_key` AS BINARY) <=> CAST(NEW.`api_key` AS BINARY))")
    );
    assert!(update.contains(" FROM DUAL WHERE NOT (OLD.`id` <=> NEW.`id`) OR "));
    assert!(sql[5].contains("VALUES ('delete', CAST(OLD.`id` AS CHAR), JSON_OBJECT("));
    let logged = install(
        Dialect::MySql,
        TriggerOptions {
            log_unchanged_updates: true,
            ..TriggerOptions::new()
        },
    );
    assert!(logged[4].ends_with("FROM DUAL"), "{}", logged[4]);
}

#[test]
fn sqlite_three_triggers() {
    let mut sql = install(Dialect::Sqlite, TriggerOptions::new());
    assert_eq!(sql.len(), 7);
    // The context table the triggers read comes first.
    assert!(
        sql.remove(0)
            .starts_with("CREATE TABLE IF NOT EXISTS \"awesome_audit_log_context\"")
    );
    assert!(sql[3].starts_with(
        "CREATE TRIGGER \"widget_audit_insert\" AFTER INSERT ON \"widget\" FOR EACH ROW BEGIN INSERT INTO \"widget_log\" ("
    ));
    assert!(sql[3].contains("'active', json(CASE WHEN NEW.\"active\" IS NULL THEN NULL WHEN NEW.\"active\" THEN 'true' ELSE 'false' END)"));
    // The context row is joined once, each column read from it.
    assert!(sql[3].ends_with(
        "audit_context.\"correlation_id\" \
         FROM (SELECT 1) LEFT JOIN \"awesome_audit_log_context\" AS audit_context; END"
    ));
    assert!(sql[3].contains(") SELECT 'insert', CAST(NEW.\"id\" AS TEXT), NULL, json_object("));
    let update = &sql[4];
    assert!(update.contains(
        "FOR EACH ROW WHEN NOT (OLD.\"id\" IS NEW.\"id\" COLLATE BINARY) OR NOT (OLD.\"qty_col\" IS NEW.\"qty_col\" COLLATE BINARY)"
    ));
    assert!(update.contains("CASE WHEN OLD.\"qty_col\" IS NEW.\"qty_col\" COLLATE BINARY THEN '$.\"qty\"' ELSE '$[0]' END"));
    assert!(update.contains("strftime('%Y-%m-%d %H:%M:%f', 'now') || '000+00:00'"));
}

#[test]
fn names_fit_every_database() {
    let long = "t".repeat(59);
    for dialect in Dialect::ALL {
        for name in trigger_names(dialect, &long) {
            assert!(name.len() <= 63, "{name}");
        }
    }
    assert_eq!(
        trigger_names(Dialect::Sqlite, "widget"),
        [
            "widget_audit_insert",
            "widget_audit_update",
            "widget_audit_delete"
        ]
    );
    let model = TriggerModel {
        table: &long,
        ..MODEL
    };
    let sql = install_statements(Dialect::MySql, &model, &TriggerOptions::new());
    assert!(sql[0].len() < "DROP TRIGGER IF EXISTS ``".len() + 64);
}

#[test]
fn uninstall_drops_what_install_creates() {
    for (dialect, first) in [(Dialect::MySql, 0), (Dialect::Sqlite, 1)] {
        let drops = uninstall_statements(dialect, &MODEL, &TriggerOptions::new());
        assert_eq!(
            drops,
            install(dialect, TriggerOptions::new())[first..first + 3]
        );
    }
}
