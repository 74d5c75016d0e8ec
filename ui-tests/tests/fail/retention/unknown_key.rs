use awesome_audit_log::audited;

#[audited(table = "widget", retention(older_than = "90d", keep = 100))]
struct Widget {
    id: i64,
}

fn main() {}
