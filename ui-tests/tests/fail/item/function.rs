use awesome_audit_log::audited;

#[audited]
fn widget() {}

fn main() {}
