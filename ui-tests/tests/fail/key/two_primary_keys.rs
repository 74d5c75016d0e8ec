use awesome_audit_log::audited;

#[audited]
struct Widget {
    #[audit(pk)]
    id: i64,
    #[audit(pk)]
    uuid: String,
}

fn main() {}
