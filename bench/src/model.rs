//! The audited model the benchmark writes and logs.

use awesome_audit_log::audited;
use awesome_audit_log::chrono::{DateTime, Utc};

/// The audited model: a row of the benchmark's `widget` table.
#[audited(table = "widget", label = "bench.widget")]
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Quantity in stock: the field the update phase changes.
    pub qty: i32,
    /// Unit price.
    pub price: f64,
    /// Whether it is for sale.
    pub active: bool,
    /// Last change (UTC, microseconds).
    pub updated_at: DateTime<Utc>,
}
