use awesome_audit_log::audited;

#[audited(table = "widget", partition = "month")]
struct Widget {
    id: i64,
}

fn main() {}
