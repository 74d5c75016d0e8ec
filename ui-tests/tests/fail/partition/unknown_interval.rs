use awesome_audit_log::audited;

#[audited(table = "widget", partition(by = "year"))]
struct Widget {
    id: i64,
}

fn main() {}
