use awesome_audit_log::audited;

#[audited]
struct Widget {
    id: i64,
    #[audit]
    name: String,
}

fn main() {}
