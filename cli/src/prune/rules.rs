//! What each table is pruned (or deduped) by: the rules given on the
//! command line, else the `retention(...)` policy of the model whose log
//! table it is; a table with neither, or that is not a log table, or that
//! does not exist, is skipped with the reason.

use std::time::Duration;

use awesome_audit_log::ModelInfo;
use awesome_audit_log::chrono::{DateTime, Utc};
use awesome_audit_log_codegen::duration::format_seconds;
use serde::Serialize;

use crate::drift::Status;
use crate::prune::args::PruneArgs;
use crate::survey::Checked;

/// Which command.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Job<'a> {
    /// `prune`, with its options.
    Prune(&'a PruneArgs),
    /// `dedupe`.
    Dedupe,
}

impl Job<'_> {
    /// The command's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Job::Prune(_) => "prune",
            Job::Dedupe => "dedupe",
        }
    }
}

/// Where a prune's rules come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Origin {
    /// `--older-than`, `--before`, `--keep-last`.
    CommandLine,
    /// The model's `#[audited(retention(...))]`.
    Policy,
}

/// What one table is run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Rule {
    /// Delete what these rules let go.
    Prune {
        /// Where they come from.
        origin: Origin,
        /// Rows older than this, in seconds.
        #[serde(rename = "older_than_secs", serialize_with = "seconds")]
        older_than: Option<Duration>,
        /// Rows logged before this.
        before: Option<DateTime<Utc>>,
        /// Each object keeps its newest this many rows.
        keep_last: Option<u64>,
    },
    /// Delete the update rows that record no change.
    Dedupe,
}

fn seconds<S: serde::Serializer>(age: &Option<Duration>, serializer: S) -> Result<S::Ok, S::Error> {
    match age {
        Some(age) => serializer.serialize_some(&age.as_secs()),
        None => serializer.serialize_none(),
    }
}

impl Rule {
    /// The rule in words: `older than 90d, beyond the newest 100 of each
    /// object, by the model's policy`.
    pub(crate) fn describe(&self) -> String {
        let Rule::Prune {
            origin,
            older_than,
            before,
            keep_last,
        } = self
        else {
            return "update rows that record no change".to_owned();
        };
        let mut parts = Vec::new();
        if let Some(age) = older_than {
            parts.push(format!("older than {}", format_seconds(age.as_secs())));
        }
        if let Some(at) = before {
            parts.push(format!("logged before {}", at.to_rfc3339()));
        }
        if let Some(rows) = keep_last {
            parts.push(format!("beyond the newest {rows} of each object"));
        }
        let mut text = parts.join(", ");
        if *origin == Origin::Policy {
            text.push_str(", by the model's policy");
        }
        text
    }
}

/// Why a table is left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Skip {
    /// It is not a log table (a registered name of something else).
    NotALogTable(String),
    /// It does not exist.
    Missing,
    /// `prune` without a rule, and no model's policy for it.
    NoRule,
}

impl Skip {
    /// The reason, as printed.
    pub(crate) fn reason(&self) -> String {
        match self {
            Skip::NotALogTable(reason) => format!("not a log table ({reason}); left untouched"),
            Skip::Missing => "no such table".to_owned(),
            Skip::NoRule => "no rule: no --older-than, --before or --keep-last, and no model \
                             of this binary with a retention(...) policy for it"
                .to_owned(),
        }
    }
}

/// What `checked` is run with under `job`, `models` being those the
/// binary links.
pub(crate) fn rule_for(
    job: Job<'_>,
    checked: &Checked,
    models: &[&ModelInfo],
) -> Result<Rule, Skip> {
    match &checked.assessment.status {
        Status::NotALogTable(reason) => return Err(Skip::NotALogTable(reason.clone())),
        Status::Missing => return Err(Skip::Missing),
        Status::Ok | Status::Drift => {}
    }
    let args = match job {
        Job::Dedupe => return Ok(Rule::Dedupe),
        Job::Prune(args) => args,
    };
    if args.has_rule() {
        return Ok(Rule::Prune {
            origin: Origin::CommandLine,
            older_than: args.older_than,
            before: args.before,
            keep_last: args.keep_last,
        });
    }
    let policy = models
        .iter()
        .filter(|model| model.log_table() == checked.target.name)
        .find_map(|model| model.retention());
    match policy {
        Some(policy) => Ok(Rule::Prune {
            origin: Origin::Policy,
            older_than: policy.older_than,
            before: None,
            keep_last: policy.keep_last,
        }),
        None => Err(Skip::NoRule),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use awesome_audit_log::audited;

    use super::*;
    use crate::drift::Assessment;
    use crate::tables::{Sources, Target};

    #[allow(dead_code)]
    #[audited(table = "rules_kept", retention(older_than = "30d", keep_last = 5))]
    struct Kept {
        id: i64,
    }

    #[allow(dead_code)]
    #[audited(table = "rules_plain")]
    struct Plain {
        id: i64,
    }

    fn checked(name: &str, status: Status) -> Checked {
        Checked {
            target: Target {
                name: name.to_owned(),
                sources: Sources::default(),
            },
            found: None,
            assessment: Assessment {
                status,
                drifts: Vec::new(),
            },
        }
    }

    fn models() -> Vec<&'static ModelInfo> {
        awesome_audit_log::registry::models()
            .into_iter()
            .filter(|model| model.log_table().starts_with("rules_"))
            .collect()
    }

    #[test]
    fn a_model_policy_is_the_rule_when_none_is_given() {
        let none = PruneArgs::default();
        let rule = rule_for(
            Job::Prune(&none),
            &checked("rules_kept_log", Status::Ok),
            &models(),
        );
        let thirty_days = Duration::from_secs(30 * 86_400);
        assert_eq!(
            rule,
            Ok(Rule::Prune {
                origin: Origin::Policy,
                older_than: Some(thirty_days),
                before: None,
                keep_last: Some(5),
            })
        );
        assert_eq!(
            rule.unwrap().describe(),
            "older than 30d, beyond the newest 5 of each object, by the model's policy"
        );
        let plain = checked("rules_plain_log", Status::Drift);
        assert_eq!(
            rule_for(Job::Prune(&none), &plain, &models()),
            Err(Skip::NoRule)
        );
        assert_eq!(rule_for(Job::Dedupe, &plain, &models()), Ok(Rule::Dedupe));
    }

    #[test]
    fn command_line_rules_replace_policies() {
        let args = PruneArgs {
            keep_last: Some(1),
            ..PruneArgs::default()
        };
        for table in ["rules_kept_log", "rules_plain_log", "other_log"] {
            let rule = rule_for(Job::Prune(&args), &checked(table, Status::Ok), &models());
            assert_eq!(
                rule,
                Ok(Rule::Prune {
                    origin: Origin::CommandLine,
                    older_than: None,
                    before: None,
                    keep_last: Some(1),
                }),
                "{table}"
            );
        }
    }

    #[test]
    fn missing_tables_and_others_are_skipped() {
        let args = PruneArgs {
            keep_last: Some(1),
            ..PruneArgs::default()
        };
        for job in [Job::Prune(&args), Job::Dedupe] {
            let missing = checked("rules_kept_log", Status::Missing);
            assert_eq!(rule_for(job, &missing, &models()), Err(Skip::Missing));
            let other = checked("blog_log", Status::NotALogTable("it lacks `action`".into()));
            let skip = rule_for(job, &other, &models()).unwrap_err();
            assert!(skip.reason().contains("left untouched"), "{skip:?}");
        }
    }
}
