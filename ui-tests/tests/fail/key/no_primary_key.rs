use awesome_audit_log::audited;

#[audited]
struct Widget {
    uuid: String,
    name: String,
}

fn main() {}
