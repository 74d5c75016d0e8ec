use awesome_audit_log::audited;

#[audited(table = "widget", retention(keep_last = 0))]
struct Widget {
    id: i64,
}

fn main() {}
