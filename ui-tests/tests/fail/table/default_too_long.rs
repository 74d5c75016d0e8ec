use awesome_audit_log::audited;

#[audited]
struct WarehouseInventoryAdjustmentRequestPendingRegionalManagerReview {
    id: i64,
}

fn main() {}
