//! Durations as operators write them: a whole number and a unit, `90d`,
//! `12h`, `30m`, `2w`. One grammar for the `retention(older_than = "...")`
//! argument of `#[audited]` (checked at compile time) and for the runtime
//! (durations given at run time, such as a command-line option).

use std::fmt;

/// The units a duration may be written in, with their length in seconds.
pub const UNITS: [(char, u64); 5] = [
    ('s', 1),
    ('m', 60),
    ('h', 60 * 60),
    ('d', 24 * 60 * 60),
    ('w', 7 * 24 * 60 * 60),
];

/// The units, for messages: `s`, `m`, `h`, `d`, `w`.
pub const UNIT_LIST: &str = "`s`, `m`, `h`, `d` or `w`";

/// Why a text is not a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// No number in front (`d`, or nothing at all).
    NoNumber,
    /// A number without a unit (`90`).
    NoUnit,
    /// A unit that is not one of [`UNITS`] (`90y`, `90 days`).
    UnknownUnit(String),
    /// Zero of any unit.
    Zero,
    /// More seconds than a `u64` holds.
    TooLong,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::NoNumber => write!(
                f,
                "expected a whole number followed by a unit, such as \"90d\" (units: {UNIT_LIST})"
            ),
            DurationError::NoUnit => write!(
                f,
                "the number has no unit: write it followed by {UNIT_LIST}, such as \"90d\""
            ),
            DurationError::UnknownUnit(unit) => {
                write!(f, "unknown unit `{unit}`: expected {UNIT_LIST}")
            }
            DurationError::Zero => write!(
                f,
                "a duration of zero would make every row old: give one longer than zero"
            ),
            DurationError::TooLong => write!(f, "the duration is too long"),
        }
    }
}

impl std::error::Error for DurationError {}

/// The number of seconds `text` stands for: a whole number of one of the
/// [`UNITS`], without spaces, more than zero.
///
/// ```
/// use awesome_audit_log_codegen::duration::{DurationError, parse_seconds};
///
/// assert_eq!(parse_seconds("90d"), Ok(90 * 86_400));
/// assert_eq!(parse_seconds("2w"), Ok(14 * 86_400));
/// assert_eq!(parse_seconds("30m"), Ok(1_800));
/// assert_eq!(parse_seconds("90"), Err(DurationError::NoUnit));
/// assert_eq!(parse_seconds("90y"), Err(DurationError::UnknownUnit("y".into())));
/// assert_eq!(parse_seconds("0h"), Err(DurationError::Zero));
/// ```
pub fn parse_seconds(text: &str) -> Result<u64, DurationError> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(DurationError::NoNumber);
    }
    if unit.is_empty() {
        return Err(DurationError::NoUnit);
    }
    let mut chars = unit.chars();
    let seconds_per_unit = match (chars.next(), chars.next()) {
        (Some(unit), None) => UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, seconds)| *seconds),
        _ => None,
    }
    .ok_or_else(|| DurationError::UnknownUnit(unit.to_owned()))?;
    let count: u64 = number.parse().map_err(|_| DurationError::TooLong)?;
    if count == 0 {
        return Err(DurationError::Zero);
    }
    count
        .checked_mul(seconds_per_unit)
        .ok_or(DurationError::TooLong)
}

/// `seconds` written in the grammar [`parse_seconds`] reads, in the
/// largest of the [`UNITS`] that holds it whole: what a policy or an
/// option is shown as.
///
/// ```
/// use awesome_audit_log_codegen::duration::{format_seconds, parse_seconds};
///
/// assert_eq!(format_seconds(90 * 86_400), "90d");
/// assert_eq!(format_seconds(14 * 86_400), "2w");
/// assert_eq!(format_seconds(90), "90s");
/// assert_eq!(format_seconds(0), "0s");
/// for text in ["90d", "2w", "12h", "30m", "45s"] {
///     assert_eq!(format_seconds(parse_seconds(text).unwrap()), text);
/// }
/// ```
pub fn format_seconds(seconds: u64) -> String {
    let (unit, length) = UNITS
        .iter()
        .rev()
        .find(|(_, length)| seconds > 0 && seconds.is_multiple_of(*length))
        .copied()
        .unwrap_or(UNITS[0]);
    format!("{}{unit}", seconds / length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_and_every_mistake() {
        for (unit, seconds) in UNITS {
            assert_eq!(parse_seconds(&format!("3{unit}")), Ok(3 * seconds));
        }
        let unknown = |unit: &str| DurationError::UnknownUnit(unit.to_owned());
        let too_long = format!("{}w", u64::MAX / 60);
        for (text, error) in [
            ("", DurationError::NoNumber),
            ("d", DurationError::NoNumber),
            ("-1d", DurationError::NoNumber),
            (" 1d", DurationError::NoNumber),
            ("1 d", unknown(" d")),
            ("1dd", unknown("dd")),
            ("1D", unknown("D")),
            ("1é", unknown("é")),
            ("000s", DurationError::Zero),
            ("99999999999999999999w", DurationError::TooLong),
            (too_long.as_str(), DurationError::TooLong),
        ] {
            assert_eq!(parse_seconds(text), Err(error), "{text:?}");
        }
        assert_eq!(parse_seconds("007d"), Ok(7 * 86_400));
    }
}
