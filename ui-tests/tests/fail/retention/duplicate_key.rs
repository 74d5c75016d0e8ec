use awesome_audit_log::audited;

#[audited(table = "widget", retention(keep_last = 10, keep_last = 20))]
struct Widget {
    id: i64,
}

fn main() {}
