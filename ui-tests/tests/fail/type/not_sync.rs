use awesome_audit_log::audited;
use std::cell::Cell;

// Audited models are shared with the logging task, so even a skipped field
// must be `Send + Sync`.
#[audited]
struct Widget {
    id: i64,
    #[audit(skip)]
    hits: Cell<u32>,
}

fn main() {}
