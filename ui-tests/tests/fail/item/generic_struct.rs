use awesome_audit_log::{Auditor, audited};

#[audited]
struct Widget<T> {
    id: i64,
    value: T,
}

// No follow-up errors where the generated API is used.
async fn log(auditor: &Auditor, widget: &Widget<i32>) {
    let _ = Widget::log_change(auditor, None, Some(widget)).await;
}

fn main() {
    let _ = log;
}
