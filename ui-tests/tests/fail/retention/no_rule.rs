use awesome_audit_log::audited;

#[audited(table = "widget", retention())]
struct Widget {
    id: i64,
}

fn main() {}
