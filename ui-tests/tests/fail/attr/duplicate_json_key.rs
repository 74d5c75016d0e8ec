use awesome_audit_log::audited;

#[audited]
struct Widget {
    id: i64,
    title: String,
    #[audit(rename = "title")]
    name: String,
}

fn main() {}
