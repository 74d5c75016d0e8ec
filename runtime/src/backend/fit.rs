//! Context values cut to fit their columns when a row is bound: a value
//! longer than its column's [`Limit`] in the database's dialect is cut at
//! a character boundary and ends with [`CUT_MARKER`], within the limit, so
//! the row is written rather than refused (MySQL's `TEXT` holds 65,535
//! bytes, `VARCHAR(n)` `n` characters). A value that fits is borrowed.

use std::borrow::Cow;

use awesome_audit_log_codegen::ddl::{Column, Limit};

use crate::Dialect;

/// What ends a value that was cut to fit its column: `…` (U+2026), one
/// character, three bytes.
pub(crate) const CUT_MARKER: char = '\u{2026}';

/// `value` as `column` holds it in `dialect`: whole when it fits (or the
/// column is not [cut to fit](Column::cut_to_fit)), else cut and marked.
pub(crate) fn fit_column<'a>(column: &Column, dialect: Dialect, value: &'a str) -> Cow<'a, str> {
    if column.cut_to_fit {
        fit(value, column.limit(dialect))
    } else {
        Cow::Borrowed(value)
    }
}

/// `value` within `limit`: whole when it fits; else its longest prefix
/// that leaves room for [`CUT_MARKER`], then the marker.
pub(crate) fn fit(value: &str, limit: Limit) -> Cow<'_, str> {
    let (prefix, marked) = match limit {
        Limit::None => return Cow::Borrowed(value),
        // Never more characters than bytes: most values are decided here.
        Limit::Chars(max) if value.len() <= max => return Cow::Borrowed(value),
        Limit::Chars(max) => match value.char_indices().nth(max) {
            None => return Cow::Borrowed(value),
            Some(_) => {
                let end = value
                    .char_indices()
                    .nth(max.saturating_sub(1))
                    .map_or(value.len(), |(i, _)| i);
                (&value[..end], max >= 1)
            }
        },
        Limit::Bytes(max) if value.len() <= max => return Cow::Borrowed(value),
        Limit::Bytes(max) => {
            let room = max.checked_sub(CUT_MARKER.len_utf8());
            let mut end = room.unwrap_or(max);
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            (&value[..end], room.is_some())
        }
    };
    let mut cut = String::with_capacity(prefix.len() + CUT_MARKER.len_utf8());
    cut.push_str(prefix);
    if marked {
        cut.push(CUT_MARKER);
    }
    Cow::Owned(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fits(value: &str, limit: Limit) -> bool {
        match limit {
            Limit::None => true,
            Limit::Chars(max) => value.chars().count() <= max,
            Limit::Bytes(max) => value.len() <= max,
        }
    }

    #[test]
    fn values_that_fit_are_borrowed() {
        for (value, limit) in [
            ("GET", Limit::Chars(10)),
            ("ABCDEFGHIé", Limit::Chars(10)),
            ("", Limit::Chars(0)),
            ("x".repeat(65_535).as_str(), Limit::Bytes(65_535)),
            ("é".repeat(100_000).as_str(), Limit::None),
        ] {
            assert!(matches!(fit(value, limit), Cow::Borrowed(v) if v == value));
        }
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        assert_eq!(fit("ABCDEFGHéXYZ", Limit::Chars(10)), "ABCDEFGHé…");
        assert_eq!(fit("🦀🦀🦀", Limit::Chars(2)), "🦀…");
        assert_eq!(fit("ab", Limit::Chars(1)), "…");
        assert_eq!(fit("ab", Limit::Chars(0)), "");
    }

    #[test]
    fn bytes_are_cut_at_a_character_boundary() {
        // The 4-byte crab straddles the cut at 10 - 3 bytes.
        assert_eq!(fit("abcde🦀xyz", Limit::Bytes(10)), "abcde…");
        assert_eq!(fit("abcdefg🦀", Limit::Bytes(10)), "abcdefg…");
        assert_eq!(fit("éé", Limit::Bytes(3)), "…");
        assert_eq!(fit("éé", Limit::Bytes(2)), "é");
        assert_eq!(fit("éé", Limit::Bytes(1)), "");
    }

    /// Every cut is within the limit, a prefix of the value and the marker,
    /// and as long as it can be.
    #[test]
    fn cuts_are_the_longest_marked_prefix_within_the_limit() {
        let value = format!("a{}", "é🦀x".repeat(50));
        for max in 1..60 {
            for limit in [Limit::Chars(max), Limit::Bytes(max)] {
                let cut = fit(&value, limit);
                assert!(fits(&cut, limit), "{limit:?}: {cut}");
                let prefix = cut.strip_suffix(CUT_MARKER).unwrap_or(&cut);
                assert!(value.starts_with(prefix), "{limit:?}: {cut}");
                let next = value[prefix.len()..].chars().next().unwrap_or_default();
                assert!(!fits(&format!("{prefix}{next}{CUT_MARKER}"), limit));
            }
        }
    }

    #[test]
    fn only_context_columns_are_cut() {
        use awesome_audit_log_codegen::ddl::COLUMNS;
        let long = "é".repeat(40_000);
        for column in COLUMNS {
            let fitted = fit_column(&column, Dialect::MySql, &long);
            let cut = column.cut_to_fit && column.limit(Dialect::MySql) != Limit::None;
            assert_eq!(fitted.len() < long.len(), cut, "`{}`", column.name);
            assert_eq!(fit_column(&column, Dialect::Sqlite, &long), long);
        }
    }
}
