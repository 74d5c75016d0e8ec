use awesome_audit_log::audited;

#[audited(table = "widget", partition(by = "day", every = "day"))]
struct Widget {
    id: i64,
}

fn main() {}
