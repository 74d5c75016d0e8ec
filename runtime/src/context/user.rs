//! Who acted: [`AuditUser`], the application's user, and [`os_user`], the
//! operating system's user that commands, jobs and scripts record.

/// The acting user, as the application's authentication knows it: the
/// `user_id` and `user_name` columns.
///
/// Put one into a request's extensions (`request.extensions_mut().insert(..)`)
/// before the HTTP layer sees the request, or hand it to
/// [`set_user`](super::set_user) from code running inside the scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AuditUser {
    /// The user's numeric id (`user_id`), if the application has one.
    pub id: Option<i64>,
    /// The user's name (`user_name`).
    pub name: Option<String>,
}

impl AuditUser {
    /// A user with an id and a name.
    ///
    /// ```
    /// let user = awesome_audit_log::context::AuditUser::new(7, "ada");
    /// assert_eq!((user.id, user.name.as_deref()), (Some(7), Some("ada")));
    /// ```
    pub fn new(id: i64, name: impl Into<String>) -> Self {
        Self {
            id: Some(id),
            name: Some(name.into()),
        }
    }

    /// A user known only by name (an application whose ids are not numbers).
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: Some(name.into()),
        }
    }
}

/// The OS user running the process: `$USER`, else `$USERNAME` (as the
/// original reads it); `None` when neither is set.
pub fn os_user() -> Option<String> {
    ["USER", "USERNAME"]
        .into_iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|user| !user.is_empty())
}
