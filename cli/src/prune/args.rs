//! The options of `prune` and `dedupe`.

use std::time::Duration;

use awesome_audit_log::chrono::{DateTime, NaiveDate, Utc};
use awesome_audit_log::retention::parse_duration;
use clap::Args;

/// The options of `prune`: the rules (none: each model's own
/// `retention(...)` policy) and how to run.
///
/// ```
/// use std::time::Duration;
/// use awesome_audit_log_cli::{Cli, Command};
/// use clap::Parser;
///
/// let cli = Cli::try_parse_from([
///     "awesome-audit-log", "prune", "--older-than", "90d", "--keep-last", "100",
///     "--batch-size", "5000", "--pause", "250ms", "--yes",
/// ])?;
/// let Command::Prune(prune) = cli.command else { unreachable!() };
/// assert_eq!(prune.older_than, Some(Duration::from_secs(90 * 86_400)));
/// assert_eq!(prune.keep_last, Some(100));
/// assert_eq!(prune.run.batch_size, Some(5000));
/// assert_eq!(prune.run.pause, Some(Duration::from_millis(250)));
/// assert!(prune.run.yes && !prune.run.dry_run);
///
/// // Ages take the grammar of `#[audited(retention(older_than = ...))]`.
/// assert!(Cli::try_parse_from(["awesome-audit-log", "prune", "--older-than", "3 months"]).is_err());
/// # Ok::<_, clap::Error>(())
/// ```
#[derive(Debug, Clone, Default, Args)]
pub struct PruneArgs {
    /// Delete rows logged longer ago than this: a whole number and a unit,
    /// `s`, `m`, `h`, `d` or `w` (`90d`, `12h`, `2w`)
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub older_than: Option<Duration>,

    /// Delete rows logged before this instant: RFC 3339
    /// (`2026-01-01T00:00:00Z`) or a date (`2026-01-01`, midnight UTC)
    #[arg(long, value_name = "TIME", value_parser = parse_instant)]
    pub before: Option<DateTime<Utc>>,

    /// Keep the newest N rows of each object, however old
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_last: Option<u64>,

    /// How to run: batches, pause, dry run, asking.
    #[command(flatten)]
    pub run: RunArgs,
}

impl PruneArgs {
    /// Whether a rule is given on the command line (then it is every
    /// table's rule, in place of the models' policies).
    pub(crate) fn has_rule(&self) -> bool {
        self.older_than.is_some() || self.before.is_some() || self.keep_last.is_some()
    }
}

/// The options of `dedupe`: how to run.
///
/// ```
/// use awesome_audit_log_cli::{Cli, Command};
/// use clap::Parser;
///
/// let cli = Cli::try_parse_from(["awesome-audit-log", "dedupe", "--dry-run"])?;
/// let Command::Dedupe(dedupe) = cli.command else { unreachable!() };
/// assert!(dedupe.run.dry_run);
/// assert_eq!(dedupe.run.batch_size, None); // the runtime's default, 1,000
/// # Ok::<_, clap::Error>(())
/// ```
#[derive(Debug, Clone, Default, Args)]
pub struct DedupeArgs {
    /// How to run: batches, pause, dry run, asking.
    #[command(flatten)]
    pub run: RunArgs,
}

/// How `prune` and `dedupe` run: the options left unset are the
/// runtime's defaults (1,000 rows a batch, 100 ms between batches).
///
/// ```
/// use awesome_audit_log_cli::{Command, DedupeArgs, RunArgs};
///
/// // `dedupe --yes`, built in code (an embedding binary's own job).
/// let command = Command::Dedupe(DedupeArgs { run: RunArgs { yes: true, ..RunArgs::default() } });
/// # let _ = command;
/// ```
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// At most N rows per batch: each batch is one DELETE, its own short
    /// transaction [default: 1000]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: Option<u64>,

    /// The pause between two batches, in which writers have the table to
    /// themselves: `100ms`, `1s` [default: 100ms]
    #[arg(long, value_name = "DURATION", value_parser = parse_pause)]
    pub pause: Option<Duration>,

    /// Count the rows that would be deleted; delete none
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask: required when stdin is not a terminal
    #[arg(long, short = 'y')]
    pub yes: bool,
}

fn parse_age(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|error| error.reason().to_owned())
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
        .ok_or_else(|| {
            "expected an RFC 3339 instant (2026-01-01T00:00:00Z) or a date (2026-01-01)".to_owned()
        })
}

fn parse_pause(text: &str) -> Result<Duration, String> {
    let pause = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if pause > Duration::from_secs(60 * 60) {
        return Err("at most one hour".to_owned());
    }
    Ok(pause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_use_the_policy_grammar() {
        assert_eq!(parse_age("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert!(parse_age("90").is_err());
        assert!(parse_age("0d").is_err());
        assert!(parse_age("3 months").is_err());
    }

    #[test]
    fn instants_are_rfc_3339_or_dates() {
        let midnight = parse_instant("2026-01-01").unwrap();
        assert_eq!(midnight.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let offset = parse_instant("2026-01-01T02:00:00+02:00").unwrap();
        assert_eq!(offset, midnight);
        assert!(parse_instant("yesterday").is_err());
        assert!(parse_instant("2026-13-01").is_err());
    }

    #[test]
    fn pauses_are_bounded() {
        assert_eq!(parse_pause("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_pause("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_pause("2h").is_err());
        assert!(parse_pause("soon").is_err());
    }
}
