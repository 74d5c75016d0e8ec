use awesome_audit_log::audited;

// Both rules are wrong: both are reported.
#[audited(table = "widget", retention(older_than = "3 months", keep_last = 0))]
struct Widget {
    id: i64,
}

fn main() {}
