use awesome_audit_log::audited;

// Every mistake is reported in the same compile, each at its own token.
#[audited(tabel = "widget")]
struct Widget {
    #[audit(pk, redact)]
    id: i64,
    #[audit(pk)]
    uuid: String,
    #[audit(rename = "")]
    name: String,
}

fn main() {}
