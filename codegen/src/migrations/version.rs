//! Migration versions: the UTC second a file was first written, as the
//! number `YYYYMMDDHHMMSS`, and back.

/// The latest second a 14-digit version can hold: 9999-12-31 23:59:59 UTC.
pub(super) const MAX_UNIX_SECONDS: u64 = 253_402_300_799;

/// The version of the UTC second `unix_seconds`: `YYYYMMDDHHMMSS` as a number,
/// or `None` after the year 9999.
///
/// ```
/// use awesome_audit_log_codegen::migrations::version_at;
///
/// assert_eq!(version_at(0), Some(19700101000000));
/// assert_eq!(version_at(1_735_689_599), Some(20241231235959));
/// ```
pub fn version_at(unix_seconds: u64) -> Option<u64> {
    if unix_seconds > MAX_UNIX_SECONDS {
        return None;
    }
    let (days, second_of_day) = (unix_seconds / 86_400, unix_seconds % 86_400);
    // Days since 1970-01-01 to a civil date (H. Hinnant's `civil_from_days`),
    // in unsigned arithmetic: eras start on 0000-03-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    let (hour, minute, second) = (
        second_of_day / 3_600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    );
    Some(
        year * 10_000_000_000
            + month * 100_000_000
            + day * 1_000_000
            + hour * 10_000
            + minute * 100
            + second,
    )
}

/// The UTC second of a version [`version_at`] gives, or `None` for a
/// number that is not one (another tool's numbering, a date before 1970).
pub(super) fn seconds_of(version: u64) -> Option<u64> {
    let year = version / 10_000_000_000;
    let month = version / 100_000_000 % 100;
    let day = version / 1_000_000 % 100;
    let (hour, minute, second) = (version / 10_000 % 100, version / 100 % 100, version % 100);
    if !(1970..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Civil date to days since 1970-01-01 (H. Hinnant's `days_from_civil`),
    // with years starting in March.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    // A day or a time out of range (31 February, 25 o'clock) does not
    // come back to the same number.
    (version_at(seconds) == Some(version)).then_some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_utc_times() {
        assert_eq!(version_at(1_795_908_600), Some(20261128233000));
        assert_eq!(version_at(951_782_400), Some(20000229000000));
        assert_eq!(version_at(MAX_UNIX_SECONDS), Some(99991231235959));
        assert_eq!(version_at(MAX_UNIX_SECONDS + 1), None);
    }

    #[test]
    fn versions_read_back_as_their_second() {
        for seconds in [
            0,
            951_782_400,
            1_795_908_600,
            4_107_542_399,
            MAX_UNIX_SECONDS,
        ] {
            let version = version_at(seconds).unwrap();
            assert_eq!(seconds_of(version), Some(seconds), "{version}");
        }
        for other in [
            0,
            7_968_123_456_789,
            20260230000000,
            20261128250000,
            20261128236000,
            19691231235959,
            100_000_000_000_000,
        ] {
            assert_eq!(seconds_of(other), None, "{other}");
        }
    }
}
