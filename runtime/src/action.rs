//! What happened to an object: the `action` column.

use std::fmt;
use std::str::FromStr;

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The object was created.
    Insert,
    /// The object was changed.
    Update,
    /// The object was removed.
    Delete,
}

impl Action {
    /// The text stored in the `action` column.
    ///
    /// ```
    /// assert_eq!(awesome_audit_log::Action::Update.as_str(), "update");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Insert => "insert",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `action` column held something other than `insert`, `update`, `delete`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audit action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "insert" => Ok(Action::Insert),
            "update" => Ok(Action::Update),
            "delete" => Ok(Action::Delete),
            other => Err(UnknownAction(other.to_owned())),
        }
    }
}
