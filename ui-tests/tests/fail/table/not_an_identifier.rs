use awesome_audit_log::audited;

#[audited(table = "widget; drop table users")]
struct Widget {
    id: i64,
}

fn main() {}
