use awesome_audit_log::audited;

#[audited]
struct Widget {
    #[audit(skip)]
    id: i64,
    name: String,
}

fn main() {}
