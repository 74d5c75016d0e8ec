use awesome_audit_log::audited;
use serde::Serialize;

// Stored and compared, but a past version could not be read back.
#[derive(Serialize, PartialEq)]
struct Dimensions {
    width: u32,
    height: u32,
}

#[audited]
struct Widget {
    id: i64,
    size: Dimensions,
}

fn main() {}
