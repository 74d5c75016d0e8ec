use awesome_audit_log::audited;

#[audited(table = "widget", table = "gadget")]
struct Widget {
    id: i64,
}

fn main() {}
