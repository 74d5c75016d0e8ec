use awesome_audit_log::audited;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
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
