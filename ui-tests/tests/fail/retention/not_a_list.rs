use awesome_audit_log::audited;

#[audited(table = "widget", retention = "90d")]
struct Widget {
    id: i64,
}

fn main() {}
