use awesome_audit_log::audited;

#[audited(label = "Shop.Widget")]
struct Widget {
    id: i64,
}

fn main() {}
