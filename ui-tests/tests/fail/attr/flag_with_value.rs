use awesome_audit_log::audited;

#[audited]
struct Widget {
    id: i64,
    #[audit(skip = true)]
    cache: Vec<u8>,
}

fn main() {}
