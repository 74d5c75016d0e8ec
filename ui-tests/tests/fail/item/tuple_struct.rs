use awesome_audit_log::audited;

#[audited]
struct Widget(i64, String);

fn main() {}
