use awesome_audit_log::audited;

#[audited]
struct Marker;

fn main() {}
