use awesome_audit_log::audited;

#[audited(table = "widget", triggers)]
struct Widget {
    id: i64,
    #[audit(rename = "q-ty")]
    qty: i32,
}

fn main() {}
