use awesome_audit_log::{Auditor, audited};

#[audited]
enum Status {
    Active,
    Archived,
}

// No follow-up errors where the generated API is used.
async fn log(auditor: &Auditor) {
    let _ = Status::log_change(auditor, None, Some(&Status::Active)).await;
    let _ = Status::Archived;
}

fn main() {
    let _ = log;
}
