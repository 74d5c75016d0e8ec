//! The audited models the suite logs.

use awesome_audit_log::audited;
use chrono::{DateTime, Utc};

/// The original's test model.
#[audited(table = "widget", label = "shop.widget")]
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    /// Primary key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Quantity.
    pub qty: i32,
}

/// A second model, for AUDIT_MODELS / NOT_AUDIT_MODELS, with a retention
/// policy.
#[audited(
    table = "gizmo",
    label = "shop.gizmo",
    retention(older_than = "30d", keep_last = 2)
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Gizmo {
    /// Primary key.
    pub id: i64,
    /// Quantity.
    pub qty: i32,
}

/// Every field attribute and a spread of value types.
#[audited(table = "account", label = "bank.account")]
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    /// Primary key (not named `id`).
    #[audit(pk)]
    pub uuid: String,
    /// Stored under the key `display_name`.
    #[audit(rename = "display_name")]
    pub name: String,
    /// Stored as a mask.
    #[audit(redact)]
    pub api_key: String,
    /// Never stored.
    #[audit(skip)]
    pub cache: Vec<u8>,
    /// A float (NaN and infinities are stored as null).
    pub balance: f64,
    /// An optional value.
    pub note: Option<String>,
    /// A list.
    pub tags: Vec<String>,
    /// A timestamp (stored as RFC 3339).
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// A plain account.
    pub fn sample(uuid: &str) -> Self {
        Account {
            uuid: uuid.to_owned(),
            name: "Ada".to_owned(),
            api_key: "s3cret".to_owned(),
            cache: vec![1, 2, 3],
            balance: 10.5,
            note: None,
            tags: vec!["a".to_owned()],
            updated_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456Z")
                .map(|ts| ts.with_timezone(&Utc))
                .unwrap_or_default(),
        }
    }
}

/// A model whose log table is partitioned by day on PostgreSQL, with a
/// retention of three days that partition maintenance goes by.
#[audited(
    table = "ledger",
    label = "bank.ledger",
    partition(by = "day"),
    retention(older_than = "3d")
)]
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    /// Primary key.
    pub id: i64,
    /// Amount.
    pub amount: i64,
}
