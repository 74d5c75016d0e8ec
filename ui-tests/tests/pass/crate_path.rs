// A crate that re-exports awesome-audit-log under another path points the
// macro at it with `crate = "..."`.
mod reexport {
    pub use awesome_audit_log as audit;
}

use reexport::audit::Audited;

#[reexport::audit::audited(crate = "reexport::audit", table = "widget")]
pub struct Widget {
    pub id: i64,
    pub name: String,
}

fn main() {
    assert_eq!(<Widget as Audited>::MODEL.log_table(), "widget_log");
    assert_eq!(WidgetLog::TABLE, "widget_log");

    // The row is Serialize and Deserialize through the re-export: serde is
    // found at `reexport::audit::__private::serde`.
    let row = WidgetLog {
        id: 1,
        action: reexport::audit::Action::Insert,
        object_pk: "1".to_owned(),
        before: None,
        after: Some(reexport::audit::serde_json::json!({"id": 1, "name": "B"})),
        changes: None,
        entry_point: None,
        route: None,
        path: None,
        method: None,
        ip: None,
        user_id: None,
        user_name: None,
        user_agent: None,
        created_at: reexport::audit::chrono::DateTime::UNIX_EPOCH,
        correlation_id: None,
    };
    let json = reexport::audit::serde_json::to_value(&row).unwrap();
    assert_eq!(json["action"], "insert");
    assert_eq!(json["created_at"], "1970-01-01T00:00:00Z");
    let back: WidgetLog = reexport::audit::serde_json::from_value(json).unwrap();
    assert_eq!(back, row);
}
