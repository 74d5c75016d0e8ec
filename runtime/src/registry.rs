//! The compile-time registry of every audited model linked into the binary.

use crate::ModelInfo;

/// One audited model's entry in the registry (submitted by `#[audited]`).
#[doc(hidden)]
pub struct Registration(&'static ModelInfo);

impl Registration {
    #[doc(hidden)]
    pub const fn new(model: &'static ModelInfo) -> Self {
        Self(model)
    }
}

inventory::collect!(Registration);

/// Every audited model linked into this binary, sorted by log table then label.
///
/// ```
/// use awesome_audit_log::audited;
///
/// #[audited(table = "gadget")]
/// struct Gadget { id: i64 }
///
/// let models = awesome_audit_log::registry::models();
/// assert!(models.iter().any(|m| m.log_table() == "gadget_log"));
/// ```
pub fn models() -> Vec<&'static ModelInfo> {
    let mut models: Vec<&'static ModelInfo> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.0)
        .collect();
    models.sort_by_key(|m| (m.log_table(), m.label()));
    models
}
