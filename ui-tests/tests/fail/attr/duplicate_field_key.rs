use awesome_audit_log::audited;

#[audited]
struct Widget {
    id: i64,
    #[audit(rename = "title", rename = "label")]
    name: String,
}

fn main() {}
