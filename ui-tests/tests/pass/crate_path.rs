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
}
