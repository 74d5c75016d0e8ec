use awesome_audit_log::audited;

#[audited(crate = "awesome-audit-log")]
struct Widget {
    id: i64,
}

fn main() {}
