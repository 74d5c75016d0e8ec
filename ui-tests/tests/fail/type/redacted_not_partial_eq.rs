use awesome_audit_log::audited;

struct Secret(String);

#[audited]
struct Widget {
    id: i64,
    #[audit(redact)]
    token: Secret,
}

fn main() {}
