//! Rebuilding a model's value from a snapshot the log holds (`after` of an
//! insert or update, `before` of a delete). The code `#[audited]` generates
//! reads each plain field back with serde; a skipped or redacted field, a
//! field the snapshot lacks (it was added to the model later) and one whose
//! stored value no longer fits its type are taken from a `base` value the
//! caller gives (typically the object's current value), or reported.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Why one field of a past version cannot be rebuilt from the log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unrestorable {
    /// The field is `#[audit(skip)]`: the log never held it.
    Skipped,
    /// The field is `#[audit(redact)]`: the log holds only `"***"`.
    Redacted,
    /// The snapshot has no such key (the field was added to the model
    /// after the row was written, or the row was written by another
    /// program).
    Missing,
    /// The stored value does not fit the field's type any more.
    Invalid {
        /// What serde said.
        message: String,
    },
}

impl std::fmt::Display for Unrestorable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unrestorable::Skipped => {
                f.write_str("skipped (#[audit(skip)]): the log does not hold it")
            }
            Unrestorable::Redacted => {
                f.write_str("redacted (#[audit(redact)]): the log holds only \"***\"")
            }
            Unrestorable::Missing => f.write_str("missing from the logged state"),
            Unrestorable::Invalid { message } => {
                write!(
                    f,
                    "the logged value does not fit the field's type: {message}"
                )
            }
        }
    }
}

/// A field of a past version that could not be rebuilt, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnrestorableField {
    /// The Rust field name.
    pub field: &'static str,
    /// Why it could not be rebuilt.
    #[serde(flatten)]
    pub reason: Unrestorable,
}

impl std::fmt::Display for UnrestorableField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`: {}", self.field, self.reason)
    }
}

/// A type a field can be restored as: anything serde can deserialize.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be restored from the audit log",
    label = "an audited field must implement `serde::Deserialize` so that past versions can be read back",
    note = "derive `Deserialize` for it, or mark the field `#[audit(skip)]` or `#[audit(redact)]` (then a restore takes it from the current value)"
)]
pub trait RestoreValue: DeserializeOwned {}

impl<T: DeserializeOwned> RestoreValue for T {}

/// Collects the fields a restore could not rebuild.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Restoring {
    problems: Vec<UnrestorableField>,
}

impl Restoring {
    /// A plain field: read from `snapshot[key]`, else taken from `base`.
    pub fn plain<T: RestoreValue>(
        &mut self,
        snapshot: &Map<String, Value>,
        field: &'static str,
        key: &str,
        base: Option<T>,
    ) -> Option<T> {
        match snapshot.get(key).map(T::deserialize) {
            Some(Ok(value)) => Some(value),
            Some(Err(e)) => self.missing(
                field,
                Unrestorable::Invalid {
                    message: e.to_string(),
                },
                base,
            ),
            None => self.missing(field, Unrestorable::Missing, base),
        }
    }

    /// A field the log does not hold (`reason`): taken from `base`.
    pub fn kept<T>(
        &mut self,
        field: &'static str,
        reason: Unrestorable,
        base: Option<T>,
    ) -> Option<T> {
        self.missing(field, reason, base)
    }

    fn missing<T>(
        &mut self,
        field: &'static str,
        reason: Unrestorable,
        base: Option<T>,
    ) -> Option<T> {
        if base.is_none() {
            self.problems.push(UnrestorableField { field, reason });
        }
        base
    }

    /// The fields that could not be rebuilt (empty when all were).
    pub fn finish(self) -> Vec<UnrestorableField> {
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot() -> Map<String, Value> {
        match json!({"qty": 5, "name": "bolt"}) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn plain_fields_come_from_the_snapshot_else_the_base() {
        let mut restoring = Restoring::default();
        let snapshot = snapshot();
        assert_eq!(
            restoring.plain::<i32>(&snapshot, "qty", "qty", Some(9)),
            Some(5)
        );
        assert_eq!(
            restoring.plain::<i32>(&snapshot, "size", "size", Some(9)),
            Some(9)
        );
        assert_eq!(
            restoring.plain::<i32>(&snapshot, "size", "size", None),
            None
        );
        assert_eq!(
            restoring.plain::<i32>(&snapshot, "name", "name", None),
            None
        );
        assert_eq!(
            restoring.kept::<String>("secret", Unrestorable::Redacted, None),
            None
        );
        assert_eq!(
            restoring.kept("cache", Unrestorable::Skipped, Some(vec![1u8])),
            Some(vec![1])
        );
        let problems = restoring.finish();
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["size", "name", "secret"]);
        assert_eq!(problems[0].reason, Unrestorable::Missing);
        assert!(matches!(problems[1].reason, Unrestorable::Invalid { .. }));
        assert_eq!(
            problems[2].to_string(),
            "`secret`: redacted (#[audit(redact)]): the log holds only \"***\""
        );
        assert_eq!(
            serde_json::to_value(&problems[2]).unwrap(),
            json!({"field": "secret", "reason": "redacted"})
        );
    }
}
