//! The stream entry format (version 1): one entry per log row, with the
//! fields `v`, `log_table`, `event_id` and `event` (see the
//! [module docs](super)). The event is the serde form of the row: the
//! context serialises itself, and `before`, `after` and `changes`, already
//! JSON text, are embedded as they are. Entries are untrusted input: each
//! field is checked, and a malformed entry is an error saying why.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use redis::Value;
use redis::streams::StreamId;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use awesome_audit_log_codegen::ident::is_log_table_name;

use crate::Action;
use crate::context::AuditContext;
use crate::event::LogEvent;

/// The `v` field of the entries this version writes.
pub(super) const FORMAT: &str = "1";

/// The fields of an entry, in the order the producer writes them.
pub(super) const FIELDS: [&str; 4] = ["v", "log_table", "event_id", "event"];

/// The longest event id the `event_id` column holds.
const MAX_EVENT_ID_LEN: usize = 36;

/// The `event` field.
#[derive(Serialize, Deserialize)]
struct WireEvent<'a> {
    action: Action,
    #[serde(borrow)]
    object_pk: Cow<'a, str>,
    #[serde(borrow)]
    before: Option<&'a RawValue>,
    #[serde(borrow)]
    after: Option<&'a RawValue>,
    #[serde(borrow)]
    changes: Option<&'a RawValue>,
    /// RFC 3339, UTC, microseconds.
    #[serde(serialize_with = "micros")]
    created_at: DateTime<Utc>,
    context: Option<Cow<'a, AuditContext>>,
}

fn micros<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// The `event` field of `event`.
pub(super) fn encode(event: &LogEvent) -> Result<String, serde_json::Error> {
    fn raw(json: &Option<String>) -> Result<Option<&RawValue>, serde_json::Error> {
        json.as_deref().map(serde_json::from_str).transpose()
    }
    serde_json::to_string(&WireEvent {
        action: event.action,
        object_pk: Cow::Borrowed(&event.object_pk),
        before: raw(&event.before)?,
        after: raw(&event.after)?,
        changes: raw(&event.changes)?,
        created_at: event.created_at,
        context: event.context.as_deref().map(Cow::Borrowed),
    })
}

fn field<'a>(entry: &'a StreamId, name: &str) -> Result<&'a str, String> {
    let bytes = match entry.map.get(name) {
        Some(Value::BulkString(bytes)) => bytes.as_slice(),
        Some(Value::SimpleString(text)) => text.as_bytes(),
        Some(other) => return Err(format!("field `{name}` is not a string: {other:?}")),
        None => return Err(format!("field `{name}` is missing")),
    };
    std::str::from_utf8(bytes).map_err(|_| format!("field `{name}` is not UTF-8"))
}

/// The field `name` of `entry` as text, if it is there and UTF-8.
pub(super) fn text<'a>(entry: &'a StreamId, name: &str) -> Option<&'a str> {
    field(entry, name).ok()
}

/// The entries of an `XRANGE` / `XREVRANGE` reply, read without trusting
/// it: a field name that is not UTF-8 is kept (lossily) rather than
/// failing the whole reply, so one odd entry cannot hide the others.
pub(super) fn range_entries(reply: Value) -> Result<Vec<StreamId>, String> {
    let Value::Array(items) = reply else {
        return Err(format!("a stream range is not an array: {reply:?}"));
    };
    items
        .into_iter()
        .map(|item| {
            let Value::Array(mut parts) = item else {
                return Err(format!("a stream entry is not an array: {item:?}"));
            };
            if parts.len() != 2 {
                return Err(format!("a stream entry has {} parts, not 2", parts.len()));
            }
            let fields = parts.pop().unwrap_or(Value::Nil);
            let id = match parts.pop() {
                Some(Value::BulkString(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
                Some(Value::SimpleString(text)) => text,
                other => return Err(format!("a stream entry's id is not a string: {other:?}")),
            };
            let pairs: Vec<(Value, Value)> = match fields {
                Value::Array(values) => {
                    let mut values = values.into_iter();
                    let mut pairs = Vec::new();
                    while let (Some(name), Some(value)) = (values.next(), values.next()) {
                        pairs.push((name, value));
                    }
                    pairs
                }
                Value::Map(pairs) => pairs,
                other => return Err(format!("entry {id}: fields are not an array: {other:?}")),
            };
            let map = pairs
                .into_iter()
                .map(|(name, value)| {
                    let name = match name {
                        Value::BulkString(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                        Value::SimpleString(text) => text,
                        other => format!("{other:?}"),
                    };
                    (name, value)
                })
                .collect();
            Ok(StreamId {
                id,
                map,
                ..StreamId::default()
            })
        })
        .collect()
}

/// The log table and the event of one stream entry, or why it is malformed.
pub(super) fn decode(entry: &StreamId) -> Result<(String, LogEvent), String> {
    let version = field(entry, "v")?;
    if version != FORMAT {
        return Err(format!("unknown format version {version:?}"));
    }
    let log_table = field(entry, "log_table")?;
    if !is_log_table_name(log_table) {
        return Err(format!(
            "log_table {log_table:?} is not a plain SQL identifier ending in `_log`"
        ));
    }
    let event_id = field(entry, "event_id")?;
    if event_id.is_empty() || event_id.len() > MAX_EVENT_ID_LEN {
        return Err(format!(
            "event_id {event_id:?} is not 1 to {MAX_EVENT_ID_LEN} characters"
        ));
    }
    let wire: WireEvent<'_> = serde_json::from_str(field(entry, "event")?)
        .map_err(|e| format!("field `event` is not a valid event: {e}"))?;
    let text = |json: Option<&RawValue>| json.map(|json| json.get().to_owned());
    Ok((
        log_table.to_owned(),
        LogEvent {
            action: wire.action,
            object_pk: wire.object_pk.into_owned(),
            before: text(wire.before),
            after: text(wire.after),
            changes: text(wire.changes),
            context: wire
                .context
                .map(|context| std::sync::Arc::new(context.into_owned())),
            created_at: wire.created_at,
            event_id: Some(event_id.to_owned()),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn entry(fields: &[(&str, &str)]) -> StreamId {
        StreamId {
            id: "1-0".to_owned(),
            map: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Value::BulkString(v.as_bytes().to_vec())))
                .collect::<HashMap<_, _>>(),
            ..StreamId::default()
        }
    }

    fn sample() -> LogEvent {
        let mut context = AuditContext::new(crate::context::EntryPoint::Http)
            .with_correlation_id("0190f5b2-6a1c-7c3e-8f00-00000000000c");
        context.path = Some("/w/1?q=\"x\"".to_owned());
        context.user_id = Some(7);
        LogEvent {
            action: Action::Update,
            object_pk: "1".to_owned(),
            before: Some(r#"{"id":1,"qty":2}"#.to_owned()),
            after: Some(r#"{"id":1,"qty":5}"#.to_owned()),
            changes: Some(r#"{"qty":{"from":2,"to":5}}"#.to_owned()),
            context: Some(std::sync::Arc::new(context)),
            created_at: "2026-11-28T06:18:28.123456Z".parse().unwrap(),
            event_id: Some("0190f5b2-6a1c-7c3e-8f00-000000000001".to_owned()),
        }
    }

    #[test]
    fn events_round_trip() {
        let event = sample();
        let json = encode(&event).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["created_at"], "2026-11-28T06:18:28.123456Z");
        assert_eq!(value["changes"]["qty"]["to"], 5);
        assert_eq!(value["context"]["entry_point"], "http");
        assert_eq!(
            value["context"]["correlation_id"],
            "0190f5b2-6a1c-7c3e-8f00-00000000000c"
        );
        let (table, decoded) = decode(&entry(&[
            ("v", "1"),
            ("log_table", "widget_log"),
            ("event_id", event.event_id.as_deref().unwrap()),
            ("event", &json),
        ]))
        .unwrap();
        assert_eq!(table, "widget_log");
        assert_eq!(decoded.action, event.action);
        assert_eq!(decoded.before, event.before);
        assert_eq!(decoded.changes, event.changes);
        assert_eq!(decoded.created_at, event.created_at);
        assert_eq!(decoded.context, event.context);
        assert_eq!(decoded.event_id, event.event_id);

        let bare = LogEvent {
            before: None,
            context: None,
            ..sample()
        };
        let (_, decoded) = decode(&entry(&[
            ("v", "1"),
            ("log_table", "widget_log"),
            ("event_id", "x"),
            ("event", &encode(&bare).unwrap()),
        ]))
        .unwrap();
        assert_eq!(decoded.before, None);
        assert!(decoded.context.is_none());
    }

    /// An entry written before contexts had a correlation id decodes, with
    /// none.
    #[test]
    fn entries_without_a_correlation_id_decode() {
        let earlier = r#"{"action":"insert","object_pk":"1","before":null,"after":{"id":1},"changes":{"id":{"from":null,"to":1}},"created_at":"2026-11-28T06:18:28.123456Z","context":{"entry_point":"celery_task","route":"shop.jobs.recount","path":"recount","method":"run","ip":null,"user_id":null,"user_name":"ada","user_agent":"task=shop.jobs.recount"}}"#;
        let (table, event) = decode(&entry(&[
            ("v", "1"),
            ("log_table", "widget_log"),
            ("event_id", "0190f5b2-6a1c-7c3e-8f00-000000000001"),
            ("event", earlier),
        ]))
        .unwrap();
        assert_eq!(table, "widget_log");
        let context = event.context.unwrap();
        assert_eq!(context.user_name.as_deref(), Some("ada"));
        assert_eq!(context.correlation_id, None);
    }

    #[test]
    fn ranges_are_read_without_trusting_them() {
        let bulk = |text: &[u8]| Value::BulkString(text.to_vec());
        let reply = Value::Array(vec![
            Value::Array(vec![
                bulk(b"1-0"),
                Value::Array(vec![bulk(b"v"), bulk(b"1"), bulk(b"\xff"), bulk(b"x")]),
            ]),
            Value::Array(vec![bulk(b"2-0"), Value::Array(vec![bulk(b"odd")])]),
        ]);
        let entries = range_entries(reply).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(text(&entries[0], "v"), Some("1"));
        assert_eq!(
            entries[0].map.len(),
            2,
            "a field name that is not UTF-8 is kept"
        );
        assert!(
            entries[1].map.is_empty(),
            "a name without a value is left out"
        );
        for bad in [
            Value::Nil,
            Value::Array(vec![Value::Int(1)]),
            Value::Array(vec![Value::Array(vec![bulk(b"1-0")])]),
            Value::Array(vec![Value::Array(vec![Value::Int(1), Value::Nil])]),
            Value::Array(vec![Value::Array(vec![bulk(b"1-0"), Value::Int(3)])]),
        ] {
            assert!(range_entries(bad).is_err());
        }
    }

    #[test]
    fn malformed_entries_say_why() {
        let json = encode(&sample()).unwrap();
        let good = [
            ("v", "1"),
            ("log_table", "widget_log"),
            ("event_id", "id-1"),
            ("event", json.as_str()),
        ];
        for (name, value, why) in [
            ("v", "2", "version"),
            ("log_table", "widget; drop table x", "identifier"),
            ("log_table", "widget", "_log"),
            ("event_id", "", "event_id"),
            ("event", "{\"action\": \"upsert\"}", "event"),
            ("event", "not json", "event"),
        ] {
            let fields: Vec<(&str, &str)> = good
                .iter()
                .map(|&(k, v)| if k == name { (k, value) } else { (k, v) })
                .collect();
            let err = decode(&entry(&fields)).err().unwrap();
            assert!(err.contains(why), "{name}={value:?}: {err}");
        }
        let err = decode(&entry(&good[..2])).err().unwrap();
        assert!(err.contains("event_id") && err.contains("missing"), "{err}");
    }
}
