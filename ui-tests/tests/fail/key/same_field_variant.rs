use awesome_audit_log::audited;

// Both fields would be `WidgetField::UnitPrice`.
#[audited]
struct Widget {
    id: i64,
    unit_price: i64,
    #[audit(rename = "price_of_unit")]
    unit__price: i64,
}

fn main() {}
