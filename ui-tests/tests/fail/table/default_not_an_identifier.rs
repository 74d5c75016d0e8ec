use awesome_audit_log::audited;

#[audited]
struct Größe {
    id: i64,
}

fn main() {}
