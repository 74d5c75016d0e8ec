use awesome_audit_log::audited;

#[audited]
struct Account {
    #[audit(pk, redact)]
    uuid: String,
    name: String,
}

fn main() {}
