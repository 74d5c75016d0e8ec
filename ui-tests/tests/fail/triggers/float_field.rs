use awesome_audit_log::audited;

#[audited(table = "widget", triggers)]
struct Widget {
    id: i64,
    price: f64,
}

fn main() {}
