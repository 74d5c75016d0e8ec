use awesome_audit_log::audited;
use serde::Serialize;

#[derive(Serialize, PartialEq)]
struct WidgetId(u64);

#[audited]
struct Widget {
    id: WidgetId,
    name: String,
}

fn main() {}
