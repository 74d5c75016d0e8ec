use awesome_audit_log::audited;

#[audited(table = "widget", triggers)]
struct Widget {
    #[audit(pk)]
    day: awesome_audit_log::chrono::NaiveDate,
}

fn main() {}
