use awesome_audit_log::audited;

#[audited]
struct Account {
    #[audit(redact)]
    id: String,
    name: String,
}

fn main() {}
