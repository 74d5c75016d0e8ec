use awesome_audit_log::audited;

#[audited(table = "widget", triggers = true)]
struct Widget {
    id: i64,
}

fn main() {}
