//! Durations as operators write them (`90d`, `12h`, `30m`, `2w`): the
//! grammar of `#[audited(retention(older_than = "..."))]`, for durations
//! given at run time (a command-line option, a setting).

use std::time::Duration;

use awesome_audit_log_codegen::duration::parse_seconds;

/// Text that is not a duration ([`parse_duration`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a duration: {text:?}: {reason}")]
pub struct InvalidDuration {
    text: String,
    reason: String,
}

impl InvalidDuration {
    /// The text (its first 64 characters).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The duration `text` stands for: a whole number, more than zero, and
/// one of the units `s` (seconds), `m` (minutes), `h` (hours), `d` (days)
/// and `w` (weeks), without spaces; the same grammar the `older_than` of
/// `#[audited(retention(...))]` is checked against at compile time.
///
/// ```
/// use std::time::Duration;
/// use awesome_audit_log::retention::parse_duration;
///
/// assert_eq!(parse_duration("90d")?, Duration::from_secs(90 * 24 * 60 * 60));
/// assert_eq!(parse_duration("12h")?, Duration::from_secs(12 * 60 * 60));
/// assert_eq!(parse_duration("2w")?, Duration::from_secs(14 * 24 * 60 * 60));
///
/// let error = parse_duration("90y").unwrap_err();
/// assert_eq!(error.to_string(), "not a duration: \"90y\": unknown unit `y`: expected `s`, `m`, `h`, `d` or `w`");
/// assert!(parse_duration("0d").is_err());
/// assert!(parse_duration("90").is_err());
/// # Ok::<_, awesome_audit_log::retention::InvalidDuration>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, InvalidDuration> {
    parse_seconds(text)
        .map(Duration::from_secs)
        .map_err(|error| InvalidDuration {
            text: text.chars().take(64).collect(),
            reason: error.to_string(),
        })
}
