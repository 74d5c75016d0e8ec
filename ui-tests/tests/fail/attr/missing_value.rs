use awesome_audit_log::audited;

#[audited(table)]
struct Widget {
    id: i64,
}

fn main() {}
