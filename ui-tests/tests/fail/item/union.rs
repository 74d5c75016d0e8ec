use awesome_audit_log::audited;

#[audited]
union Bits {
    id: i64,
    raw: u64,
}

fn main() {}
