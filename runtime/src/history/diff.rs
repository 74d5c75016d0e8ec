//! The difference between two versions of an object, adjacent or not,
//! field by field and as an RFC 6902 JSON Patch.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{AuditField, LogRow};

/// How one field differs between two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange<F> {
    /// The key in the log's JSON.
    pub key: String,
    /// The model's field of that key; `None` for a key no field of the
    /// model has now (a field since removed or renamed).
    pub field: Option<F>,
    /// The value in the first version; `None` where the field was absent
    /// (the object did not exist, or the field did not yet).
    pub from: Option<Value>,
    /// The value in the second version; `None` where the field is absent.
    pub to: Option<Value>,
}

impl<F> FieldChange<F> {
    /// `from` as the field's type (`None` where absent).
    pub fn from_as<T: DeserializeOwned>(&self) -> Result<Option<T>, serde_json::Error> {
        self.from.clone().map(serde_json::from_value).transpose()
    }

    /// `to` as the field's type (`None` where absent).
    pub fn to_as<T: DeserializeOwned>(&self) -> Result<Option<T>, serde_json::Error> {
        self.to.clone().map(serde_json::from_value).transpose()
    }
}

/// One operation of an RFC 6902 JSON Patch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOp {
    /// Adds a member.
    Add {
        /// JSON Pointer (RFC 6901) to the member.
        path: String,
        /// The value.
        value: Value,
    },
    /// Removes a member.
    Remove {
        /// JSON Pointer (RFC 6901) to the member.
        path: String,
    },
    /// Replaces a member's value.
    Replace {
        /// JSON Pointer (RFC 6901) to the member.
        path: String,
        /// The new value.
        value: Value,
    },
}

/// The fields that differ between two versions of an object, in the
/// model's field order (keys no field has now come last, sorted).
///
/// A version is a log row's resulting state: `after` of an insert or an
/// update, nothing after a delete. So a diff to a delete shows every field
/// leaving, and a diff from before creation every field arriving.
///
/// ```
/// use awesome_audit_log::history::{Diff, PatchOp};
/// use awesome_audit_log::{AuditField, audited};
/// use awesome_audit_log::serde_json::json;
///
/// #[audited(table = "widget")]
/// struct Widget { id: i64, name: String, qty: i32 }
///
/// let diff: Diff<WidgetField> = Diff::between(
///     Some(&json!({"id": 1, "name": "bolt", "qty": 2})),
///     Some(&json!({"id": 1, "name": "nut", "qty": 2})),
/// );
/// let change = diff.field(WidgetField::Name).unwrap();
/// assert_eq!(change.to_as::<String>().unwrap().as_deref(), Some("nut"));
/// assert!(diff.field(WidgetField::Qty).is_none());
/// assert_eq!(
///     diff.json_patch(),
///     [PatchOp::Replace { path: "/name".into(), value: json!("nut") }]
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Diff<F> {
    /// The differing fields.
    pub changes: Vec<FieldChange<F>>,
}

impl<F: AuditField> Diff<F> {
    /// The difference between two logged states (`None`: no object).
    /// A state that is not a JSON object counts as no object.
    pub fn between(from: Option<&Value>, to: Option<&Value>) -> Self {
        let empty = Map::new();
        let from = from.and_then(Value::as_object).unwrap_or(&empty);
        let to = to.and_then(Value::as_object).unwrap_or(&empty);
        let mut known: Vec<FieldChange<F>> = Vec::new();
        let mut unknown: Vec<FieldChange<F>> = Vec::new();
        let keys = from
            .keys()
            .chain(to.keys().filter(|key| !from.contains_key(*key)));
        for key in keys {
            let (old, new) = (from.get(key), to.get(key));
            if old == new {
                continue;
            }
            let change = FieldChange {
                key: key.clone(),
                field: F::from_key(key),
                from: old.cloned(),
                to: new.cloned(),
            };
            if change.field.is_some() {
                known.push(change);
            } else {
                unknown.push(change);
            }
        }
        let position = |field: &Option<F>| {
            field
                .and_then(|field| F::ALL.iter().position(|f| *f == field))
                .unwrap_or(usize::MAX)
        };
        known.sort_by_key(|change| position(&change.field));
        unknown.sort_by(|a, b| a.key.cmp(&b.key));
        known.extend(unknown);
        Self { changes: known }
    }

    /// The difference between the states two log rows leave.
    pub fn rows(from: &impl LogRow, to: &impl LogRow) -> Self {
        Self::between(from.state(), to.state())
    }

    /// How `field` differs, if it does.
    pub fn field(&self, field: F) -> Option<&FieldChange<F>> {
        self.changes
            .iter()
            .find(|change| change.field == Some(field))
    }

    /// Whether the two versions are the same.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The diff as an RFC 6902 JSON Patch that turns the first state into
    /// the second, one member at a time (`add`, `remove`, `replace`).
    pub fn json_patch(&self) -> Vec<PatchOp> {
        self.changes
            .iter()
            .map(|change| {
                let path = pointer(&change.key);
                match (&change.from, &change.to) {
                    (None, Some(value)) => PatchOp::Add {
                        path,
                        value: value.clone(),
                    },
                    (Some(_), None) | (None, None) => PatchOp::Remove { path },
                    (Some(_), Some(value)) => PatchOp::Replace {
                        path,
                        value: value.clone(),
                    },
                }
            })
            .collect()
    }
}

/// The JSON Pointer (RFC 6901) of a top-level member: `~` and `/` escaped.
fn pointer(key: &str) -> String {
    format!("/{}", key.replace('~', "~0").replace('/', "~1"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Field {
        Id,
        Qty,
    }

    impl AuditField for Field {
        const ALL: &'static [Self] = &[Field::Id, Field::Qty];
        fn key(self) -> &'static str {
            match self {
                Field::Id => "id",
                Field::Qty => "qty",
            }
        }
        fn name(self) -> &'static str {
            self.key()
        }
    }

    #[test]
    fn creation_and_deletion_move_every_field() {
        let state = json!({"qty": 2, "id": 1});
        let created: Diff<Field> = Diff::between(None, Some(&state));
        let keys: Vec<_> = created.changes.iter().map(|c| c.field).collect();
        assert_eq!(keys, [Some(Field::Id), Some(Field::Qty)], "model order");
        assert!(
            created
                .json_patch()
                .iter()
                .all(|op| matches!(op, PatchOp::Add { .. }))
        );
        let deleted: Diff<Field> = Diff::between(Some(&state), None);
        assert_eq!(
            serde_json::to_value(deleted.json_patch()).unwrap(),
            json!([{"op": "remove", "path": "/id"}, {"op": "remove", "path": "/qty"}])
        );
        assert!(Diff::<Field>::between(Some(&state), Some(&state)).is_empty());
    }

    #[test]
    fn unknown_keys_come_last_and_pointers_are_escaped() {
        let diff: Diff<Field> = Diff::between(
            Some(&json!({"qty": 1, "a/b~": 1})),
            Some(&json!({"qty": 2})),
        );
        assert_eq!(diff.changes[0].field, Some(Field::Qty));
        assert_eq!(diff.changes[1].field, None);
        assert_eq!(
            diff.json_patch()[1],
            PatchOp::Remove {
                path: "/a~1b~0".into()
            }
        );
        assert_eq!(diff.changes[0].from_as::<i32>().unwrap(), Some(1));
        assert!(diff.changes[0].to_as::<String>().is_err());
    }
}
