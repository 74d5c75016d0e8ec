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

/// A model captured by database triggers: every type a trigger renders,
/// a field stored in a column of another name, one under another JSON key,
/// a redacted and a skipped field.
#[audited(table = "gadget", label = "shop.gadget", triggers)]
#[derive(Debug, Clone, PartialEq)]
pub struct Gadget {
    /// Primary key.
    pub id: i64,
    /// Text.
    pub name: String,
    /// Stored in the column `qty_col`.
    #[audit(column = "qty_col")]
    pub qty: i32,
    /// A flag (1 / 0 on MySQL and SQLite).
    pub active: bool,
    /// An optional value.
    pub note: Option<String>,
    /// A date.
    pub day: chrono::NaiveDate,
    /// A timestamp.
    pub seen_at: DateTime<Utc>,
    /// A UUID (16 bytes on MySQL and SQLite).
    pub token: uuid::Uuid,
    /// A JSON document.
    pub data: serde_json::Value,
    /// Stored under the key `big_count`.
    #[audit(rename = "big_count")]
    pub count: Option<i64>,
    /// Stored as a mask.
    #[audit(redact)]
    pub secret: String,
    /// Never stored.
    #[audit(skip)]
    pub cache: String,
}

/// A model captured by database triggers whose primary key is a UUID
/// (16 bytes on MySQL and SQLite): `object_pk` is its hyphenated text.
#[audited(table = "badge", label = "shop.badge", triggers)]
#[derive(Debug, Clone, PartialEq)]
pub struct Badge {
    /// Primary key.
    pub id: uuid::Uuid,
    /// Text.
    pub label: String,
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
