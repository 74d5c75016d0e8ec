use awesome_audit_log::audited;

#[derive(PartialEq, serde::Deserialize)]
struct Dimensions {
    width: u32,
    height: u32,
}

// The error spans the whole field type, not just `Vec`.
#[audited]
struct Widget {
    id: i64,
    sizes: Vec<Dimensions>,
}

fn main() {}
