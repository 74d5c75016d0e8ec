//! [`EntryPoint`]: where a unit of work entered the application, and the
//! text the `entry_point` column stores for it.

use std::str::FromStr;

/// Where a unit of work entered the application. The stored strings are the
/// Django original's, so services written with either library agree; serde
/// reads and writes the same strings.
///
/// ```
/// use awesome_audit_log::context::EntryPoint;
///
/// let json = serde_json::to_string(&EntryPoint::CeleryTask).unwrap();
/// assert_eq!(json, r#""celery_task""#);
/// assert_eq!(serde_json::from_str::<EntryPoint>(&json).unwrap(), EntryPoint::CeleryTask);
/// assert!(serde_json::from_str::<EntryPoint>(r#""cron""#).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPoint {
    /// An HTTP request (`http`).
    Http,
    /// A command-line command (`management_command`).
    ManagementCommand,
    /// A background job (`celery_task`).
    CeleryTask,
    /// An interactive or one-off script (`shell`).
    Shell,
}

impl EntryPoint {
    /// The text stored in the `entry_point` column.
    ///
    /// ```
    /// use awesome_audit_log::context::EntryPoint;
    /// assert_eq!(EntryPoint::ManagementCommand.as_str(), "management_command");
    /// assert_eq!(EntryPoint::CeleryTask.as_str(), "celery_task");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryPoint::Http => "http",
            EntryPoint::ManagementCommand => "management_command",
            EntryPoint::CeleryTask => "celery_task",
            EntryPoint::Shell => "shell",
        }
    }
}

/// The `entry_point` column held something other than `http`,
/// `management_command`, `celery_task` or `shell`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown entry point {0:?}")]
pub struct UnknownEntryPoint(pub String);

impl FromStr for EntryPoint {
    type Err = UnknownEntryPoint;

    /// Parses the text stored in the `entry_point` column.
    ///
    /// ```
    /// use awesome_audit_log::context::{EntryPoint, UnknownEntryPoint};
    ///
    /// assert_eq!("celery_task".parse(), Ok(EntryPoint::CeleryTask));
    /// assert_eq!(
    ///     "cron".parse::<EntryPoint>(),
    ///     Err(UnknownEntryPoint("cron".to_owned()))
    /// );
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "http" => Ok(EntryPoint::Http),
            "management_command" => Ok(EntryPoint::ManagementCommand),
            "celery_task" => Ok(EntryPoint::CeleryTask),
            "shell" => Ok(EntryPoint::Shell),
            other => Err(UnknownEntryPoint(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [EntryPoint; 4] = [
        EntryPoint::Http,
        EntryPoint::ManagementCommand,
        EntryPoint::CeleryTask,
        EntryPoint::Shell,
    ];

    #[test]
    fn serde_parse_and_column_text_agree() {
        for entry_point in ALL {
            let json = serde_json::to_value(entry_point).unwrap();
            assert_eq!(json, entry_point.as_str(), "{entry_point:?}");
            assert_eq!(entry_point.as_str().parse(), Ok(entry_point));
            assert_eq!(
                serde_json::from_value::<EntryPoint>(json).unwrap(),
                entry_point
            );
        }
    }

    #[test]
    fn unknown_text_names_itself() {
        let err = "Http".parse::<EntryPoint>().unwrap_err();
        assert_eq!(err, UnknownEntryPoint("Http".to_owned()));
        assert_eq!(err.to_string(), r#"unknown entry point "Http""#);
    }
}
