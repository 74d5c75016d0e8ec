use awesome_audit_log::audited;

#[audited(table = "widget", partition(by = "day"), partition(by = "week"))]
struct Widget {
    id: i64,
}

fn main() {}
