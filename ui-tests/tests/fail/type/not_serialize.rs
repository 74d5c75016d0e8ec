use awesome_audit_log::audited;

#[derive(PartialEq, serde::Deserialize)]
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
