//! A model with triggers: every supported type, a renamed column, a
//! redacted field of a type without a rendering, a skipped one.
use awesome_audit_log::{Dialect, audited};

#[audited(table = "gadget", triggers)]
pub struct Gadget {
    #[audit(pk)]
    pub id: uuid::Uuid,
    pub active: bool,
    pub small: i16,
    pub big: Option<i64>,
    pub name: String,
    pub day: awesome_audit_log::chrono::NaiveDate,
    pub seen_at: Option<awesome_audit_log::chrono::DateTime<awesome_audit_log::chrono::Utc>>,
    pub data: awesome_audit_log::serde_json::Value,
    #[audit(column = "qty_col", rename = "quantity")]
    pub qty: u32,
    #[audit(redact)]
    pub price: f64,
    #[audit(skip)]
    pub cache: Vec<f32>,
}

fn main() {
    assert_eq!(Gadget::trigger_ddl(Dialect::Postgres).len(), 3);
    assert!(Gadget::TRIGGERS_SQLITE[4].contains("NEW.\"qty_col\""));
}
