use awesome_audit_log::audited;

#[audited]
struct Widget
where
    String: Clone,
{
    id: i64,
    name: String,
}

fn main() {}
