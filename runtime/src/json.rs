//! The JSON the log stores, written straight to text, field by field,
//! without building an intermediate `serde_json::Value`: [`snapshot`] for
//! `before` / `after`, [`diff`] for the `changes` of an update.
//!
//! Values are serialized with serde_json: non-finite floats (NaN, ±inf)
//! become `null`, strings are escaped as JSON requires, maps with non-string
//! keys are an error ([`SnapshotError`]).

use crate::error::SnapshotError;
use crate::model::{AuditValue, DiffVisitor, FieldVisitor};

/// What a redacted field's value is stored as, in `before`, `after` and `changes`.
pub const REDACTED: &str = awesome_audit_log_codegen::trigger::REDACTED;

const REDACTED_JSON: &[u8] = b"\"***\"";

/// A JSON object under construction; allocates on the first key only.
#[derive(Default)]
struct Object {
    buf: Vec<u8>,
}

impl Object {
    fn key(&mut self, key: &'static str) -> Result<(), SnapshotError> {
        if self.buf.is_empty() {
            // Most rows fit: one allocation instead of a string of regrowths.
            self.buf.reserve(256);
            self.buf.push(b'{');
        } else {
            self.buf.push(b',');
        }
        self.value(key, key)?;
        self.buf.push(b':');
        Ok(())
    }

    fn value<T: serde::Serialize + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
    ) -> Result<(), SnapshotError> {
        serde_json::to_writer(&mut self.buf, value)
            .map_err(|source| SnapshotError { field, source })
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The object's text; `None` when no key was written.
    fn finish(self) -> Option<String> {
        if self.buf.is_empty() {
            return None;
        }
        let mut buf = self.buf;
        buf.push(b'}');
        // serde_json only ever writes UTF-8.
        Some(
            String::from_utf8(buf)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        )
    }
}

/// The JSON object of every stored field of one value, as `before` and
/// `after` store it: skipped fields left out, redacted ones masked.
///
/// ```
/// use awesome_audit_log::{audited, json};
///
/// #[audited(table = "widget")]
/// struct Widget { id: i64, qty: i32, #[audit(redact)] api_key: String }
///
/// let w = Widget { id: 1, qty: 2, api_key: "s3cret".into() };
/// assert_eq!(json::snapshot(&w).unwrap(), r#"{"id":1,"qty":2,"api_key":"***"}"#);
/// ```
pub fn snapshot<M: crate::Audited>(value: &M) -> Result<String, SnapshotError> {
    let mut writer = Snapshot::default();
    value.visit_fields(&mut writer)?;
    Ok(writer.0.finish().unwrap_or_else(|| "{}".to_owned()))
}

/// `changes` of an insert (every field from `null`) or a delete (every
/// field to `null`).
pub(crate) fn all_changed<M: crate::Audited>(
    value: &M,
    inserted: bool,
) -> Result<Option<String>, SnapshotError> {
    let mut writer = AllChanged {
        object: Object::default(),
        inserted,
    };
    value.visit_fields(&mut writer)?;
    Ok(writer.object.finish())
}

/// The `changes` of an update, as the log stores them: only the stored
/// fields that differ, `{"field": {"from": old, "to": new}}`; `None` when
/// none does (nothing is allocated then).
///
/// ```
/// use awesome_audit_log::{audited, json};
///
/// #[audited(table = "widget")]
/// #[derive(Clone)]
/// struct Widget { id: i64, qty: i32 }
///
/// let old = Widget { id: 1, qty: 2 };
/// let new = Widget { qty: 5, ..old.clone() };
/// assert_eq!(json::diff(&old, &new).unwrap().as_deref(), Some(r#"{"qty":{"from":2,"to":5}}"#));
/// assert_eq!(json::diff(&old, &old).unwrap(), None);
/// ```
pub fn diff<M: crate::Audited>(before: &M, after: &M) -> Result<Option<String>, SnapshotError> {
    let mut writer = Diff::default();
    M::visit_changes(before, after, &mut writer)?;
    Ok(writer.0.finish())
}

#[derive(Default)]
struct Snapshot(Object);

impl FieldVisitor for Snapshot {
    fn field<T: AuditValue + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SnapshotError> {
        self.0.key(key)?;
        self.0.value(key, value)
    }

    fn redacted(&mut self, key: &'static str) -> Result<(), SnapshotError> {
        self.0.key(key)?;
        self.0.raw(REDACTED_JSON);
        Ok(())
    }
}

struct AllChanged {
    object: Object,
    inserted: bool,
}

impl AllChanged {
    fn entry(
        &mut self,
        key: &'static str,
        write: impl FnOnce(&mut Object) -> Result<(), SnapshotError>,
    ) -> Result<(), SnapshotError> {
        self.object.key(key)?;
        if self.inserted {
            self.object.raw(b"{\"from\":null,\"to\":");
            write(&mut self.object)?;
            self.object.raw(b"}");
        } else {
            self.object.raw(b"{\"from\":");
            write(&mut self.object)?;
            self.object.raw(b",\"to\":null}");
        }
        Ok(())
    }
}

impl FieldVisitor for AllChanged {
    fn field<T: AuditValue + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SnapshotError> {
        self.entry(key, |object| object.value(key, value))
    }

    fn redacted(&mut self, key: &'static str) -> Result<(), SnapshotError> {
        self.entry(key, |object| {
            object.raw(REDACTED_JSON);
            Ok(())
        })
    }
}

#[derive(Default)]
struct Diff(Object);

impl DiffVisitor for Diff {
    fn changed<T: AuditValue + ?Sized>(
        &mut self,
        key: &'static str,
        before: &T,
        after: &T,
    ) -> Result<(), SnapshotError> {
        self.0.key(key)?;
        self.0.raw(b"{\"from\":");
        self.0.value(key, before)?;
        self.0.raw(b",\"to\":");
        self.0.value(key, after)?;
        self.0.raw(b"}");
        Ok(())
    }

    fn redacted_changed(&mut self, key: &'static str) -> Result<(), SnapshotError> {
        self.0.key(key)?;
        self.0.raw(b"{\"from\":\"***\",\"to\":\"***\"}");
        Ok(())
    }
}
