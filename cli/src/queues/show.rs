//! How times, ages and texts from a queue are printed.

use std::time::Duration;

use awesome_audit_log::chrono::{DateTime, SecondsFormat, Utc};

/// The longest text read from a queue that is printed as it is (in human
/// output; `--json` has it whole).
pub(crate) const SHOWN: usize = 80;

/// A time as RFC 3339 in UTC, to the millisecond.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An age in whole seconds, as `1h 2m 3s` (`0s` under a second).
pub(crate) fn age(age: Duration) -> String {
    humantime::format_duration(Duration::from_secs(age.as_secs())).to_string()
}

/// `text` cut to `max` characters, with `…` where it was cut: what a
/// stream or table holds can be of any length.
pub(crate) fn short(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_on_characters() {
        assert_eq!(short("widget_log", 20), "widget_log");
        assert_eq!(short("ééééé", 3), "ééé…");
        assert_eq!(age(Duration::from_millis(3_723_900)), "1h 2m 3s");
        assert_eq!(age(Duration::from_millis(400)), "0s");
    }
}
