use awesome_audit_log::audited;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, PartialEq)]
struct WidgetId(u64);

#[audited]
struct Widget {
    id: WidgetId,
    name: String,
}

fn main() {}
