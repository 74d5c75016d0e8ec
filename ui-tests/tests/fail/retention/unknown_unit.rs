use awesome_audit_log::audited;

#[audited(table = "widget", retention(older_than = "90y"))]
struct Widget {
    id: i64,
}

fn main() {}
