use awesome_audit_log::audited;

#[audited]
struct Widget {
    #[audit(pk, skip)]
    id: i64,
    name: String,
}

fn main() {}
