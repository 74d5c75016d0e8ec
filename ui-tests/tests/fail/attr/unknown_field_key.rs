use awesome_audit_log::audited;

#[audited]
struct Widget {
    id: i64,
    #[audit(redacted)]
    api_key: String,
}

fn main() {}
