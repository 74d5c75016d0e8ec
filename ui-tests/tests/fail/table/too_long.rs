use awesome_audit_log::audited;

#[audited(table = "warehouse_inventory_adjustment_requests_pending_manager_review")]
struct Adjustment {
    id: i64,
}

fn main() {}
