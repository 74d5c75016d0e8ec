//! The dead-letter stream (`<REDIS_STREAM>:dead`) handled from outside the
//! workers: list its entries, retry them (back to the stream, for a worker
//! to write) and drop them. Its entries are untrusted input: each is
//! decoded with the wire format's own decoder, and one that does not
//! decode is listed with the reason, never retried, and can be dropped.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use redis::Value;
use redis::streams::StreamId;

use super::queue::BrokerQueue;
use super::wire::{FIELDS, decode, range_entries, text};
use crate::{Action, Error};

/// The id of a stream entry, `<milliseconds>-<sequence>` (`1732860000000-0`).
///
/// ```
/// use awesome_audit_log::broker::EntryId;
///
/// let id: EntryId = "1732860000000-3".parse().unwrap();
/// assert_eq!(id.to_string(), "1732860000000-3");
/// assert!("17-x".parse::<EntryId>().is_err());
/// assert!("*".parse::<EntryId>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    millis: u64,
    sequence: u64,
}

/// Why a text is not an [`EntryId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a stream entry id (<milliseconds>-<sequence>, as in 1732860000000-0)")]
pub struct InvalidEntryId(String);

impl FromStr for EntryId {
    type Err = InvalidEntryId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidEntryId(text.chars().take(64).collect());
        let (millis, sequence) = text.split_once('-').ok_or_else(invalid)?;
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            part.parse::<u64>().map_err(|_| invalid())
        };
        Ok(Self {
            millis: number(millis)?,
            sequence: number(sequence)?,
        })
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.millis, self.sequence)
    }
}

impl EntryId {
    /// When the entry was added: the id's milliseconds.
    pub fn time(self) -> Option<DateTime<Utc>> {
        i64::try_from(self.millis)
            .ok()
            .and_then(DateTime::from_timestamp_millis)
    }

    /// The smallest id after this one.
    fn next(self) -> Option<Self> {
        match self.sequence.checked_add(1) {
            Some(sequence) => Some(Self { sequence, ..self }),
            None => Some(Self {
                millis: self.millis.checked_add(1)?,
                sequence: 0,
            }),
        }
    }
}

/// One entry of the dead-letter stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadEntry {
    /// Its id in the dead-letter stream (what retry and drop take).
    pub id: String,
    /// When it was set aside (the time in its id).
    pub failed_at: Option<DateTime<Utc>>,
    /// Why the worker set it aside (its `error` field), if it says.
    pub reason: Option<String>,
    /// Its id in the stream before (its `original_id` field), if it says.
    pub original_id: Option<String>,
    /// Its `log_table` field, if it is text (checked only by `event`).
    pub log_table: Option<String>,
    /// Its `event_id` field, if it is text.
    pub event_id: Option<String>,
    /// The bytes of its field names and values.
    pub bytes: usize,
    /// What it holds, or why it does not decode (then it cannot be retried).
    pub event: Result<DeadEvent, String>,
}

/// What a dead letter that decodes holds: the change it logs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadEvent {
    /// The log table it is meant for.
    pub log_table: String,
    /// The event id (the log table's `event_id`).
    pub event_id: String,
    /// Insert, update or delete.
    pub action: Action,
    /// The changed object's primary key.
    pub object_pk: String,
    /// When the change happened.
    pub created_at: DateTime<Utc>,
}

/// A page of dead letters, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeadLetterPage {
    /// The entries.
    pub entries: Vec<DeadEntry>,
    /// Where the next page starts (pass it as `after`), when this page is
    /// full: there may be more.
    pub next_after: Option<String>,
}

/// What became of one dead letter asked to be retried.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryOutcome {
    /// Added to the stream again under `new_id` and removed from the
    /// dead-letter stream, in one step.
    Retried {
        /// Its id in the stream.
        new_id: String,
    },
    /// It does not decode, so a worker would only set it aside again; left
    /// where it is (drop it, or fix and add it by hand).
    Malformed(String),
    /// No such entry in the dead-letter stream (dropped or retried already).
    NotFound,
}

/// Removes the dead letter `ARGV[1]` from `KEYS[1]` and, only if it was
/// there, adds the fields `ARGV[2..]` to `KEYS[2]`: both or neither, and a
/// second retry of the same entry adds nothing.
const RETRY: &str = "if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return false end \
                     return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))";

impl DeadEntry {
    fn read(entry: &StreamId) -> Self {
        let owned = |name| text(entry, name).map(str::to_owned);
        Self {
            id: entry.id.clone(),
            failed_at: entry.id.parse::<EntryId>().ok().and_then(EntryId::time),
            reason: owned("error"),
            original_id: owned("original_id"),
            log_table: owned("log_table"),
            event_id: owned("event_id"),
            bytes: entry
                .map
                .iter()
                .map(|(name, value)| name.len() + value_bytes(value))
                .sum(),
            event: decode(entry).map(|(log_table, event)| DeadEvent {
                log_table,
                event_id: event.event_id.unwrap_or_default(),
                action: event.action,
                object_pk: event.object_pk,
                created_at: event.created_at,
            }),
        }
    }
}

fn value_bytes(value: &Value) -> usize {
    match value {
        Value::BulkString(bytes) => bytes.len(),
        Value::SimpleString(text) => text.len(),
        _ => 0,
    }
}

impl BrokerQueue {
    /// Up to `limit` dead letters (at least one), oldest first, after the
    /// entry `after` if given.
    ///
    /// ```no_run
    /// # use awesome_audit_log::broker::BrokerQueue;
    /// # async fn example(queue: BrokerQueue) -> Result<(), awesome_audit_log::Error> {
    /// let mut after = None;
    /// loop {
    ///     let page = queue.dead_letters(100, after.as_ref()).await?;
    ///     for entry in &page.entries {
    ///         match &entry.event {
    ///             Ok(event) => println!("{} {} {}: {:?}", entry.id, event.log_table, event.object_pk, entry.reason),
    ///             Err(why) => println!("{} malformed: {why}", entry.id),
    ///         }
    ///     }
    ///     match page.next_after {
    ///         Some(next) => after = Some(next.parse().expect("an id Redis gave")),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn dead_letters(
        &self,
        limit: usize,
        after: Option<&EntryId>,
    ) -> Result<DeadLetterPage, Error> {
        let limit = limit.max(1);
        let start = after.map_or_else(|| "-".to_owned(), |after| format!("({after}"));
        let mut connection = self.connection().await?;
        let reply: Value = redis::cmd("XRANGE")
            .arg(&self.dead_stream)
            .arg(start)
            .arg("+")
            .arg("COUNT")
            .arg(limit)
            .query_async(&mut connection)
            .await
            .map_err(|e| self.error(e))?;
        let entries: Vec<DeadEntry> = range_entries(reply)
            .map_err(|e| self.error(e))?
            .iter()
            .map(DeadEntry::read)
            .collect();
        let next_after = (entries.len() == limit)
            .then(|| entries.last().map(|entry| entry.id.clone()))
            .flatten();
        Ok(DeadLetterPage {
            entries,
            next_after,
        })
    }

    /// Moves each of `ids` back to the stream, for a worker to write, and
    /// removes it from the dead-letter stream: per entry in one atomic
    /// step (a Lua script), so an entry is never in both nor lost, and
    /// retrying it twice adds it once. A retried event that was written
    /// after all is not written twice: the insert skips event ids the log
    /// table has. Entries that do not decode are left where they are.
    pub async fn retry(&self, ids: &[EntryId]) -> Result<Vec<(EntryId, RetryOutcome)>, Error> {
        let mut connection = self.connection().await?;
        let mut outcomes = Vec::with_capacity(ids.len());
        for &id in ids {
            let reply: Value = redis::cmd("XRANGE")
                .arg(&self.dead_stream)
                .arg(id.to_string())
                .arg(id.to_string())
                .query_async(&mut connection)
                .await
                .map_err(|e| self.error(e))?;
            let entries = range_entries(reply).map_err(|e| self.error(e))?;
            let Some(entry) = entries.first() else {
                outcomes.push((id, RetryOutcome::NotFound));
                continue;
            };
            if let Err(why) = decode(entry) {
                outcomes.push((id, RetryOutcome::Malformed(why)));
                continue;
            }
            let mut script = redis::cmd("EVAL");
            script
                .arg(RETRY)
                .arg(2)
                .arg(&self.dead_stream)
                .arg(&self.stream)
                .arg(id.to_string());
            for name in FIELDS {
                // `decode` read every one of them as text.
                script.arg(name).arg(text(entry, name).unwrap_or_default());
            }
            let added: Option<String> = script
                .query_async(&mut connection)
                .await
                .map_err(|e| self.error(e))?;
            outcomes.push((
                id,
                match added {
                    Some(new_id) => RetryOutcome::Retried { new_id },
                    None => RetryOutcome::NotFound,
                },
            ));
        }
        Ok(outcomes)
    }

    /// Deletes each of `ids` from the dead-letter stream; says for each
    /// whether it was there.
    pub async fn drop_dead_letters(&self, ids: &[EntryId]) -> Result<Vec<(EntryId, bool)>, Error> {
        let mut connection = self.connection().await?;
        let mut dropped = Vec::with_capacity(ids.len());
        for &id in ids {
            let deleted: u64 = redis::cmd("XDEL")
                .arg(&self.dead_stream)
                .arg(id.to_string())
                .query_async(&mut connection)
                .await
                .map_err(|e| self.error(e))?;
            dropped.push((id, deleted > 0));
        }
        Ok(dropped)
    }

    /// Deletes every dead letter there is now (entries set aside while it
    /// runs are kept); returns how many it deleted.
    pub async fn drop_all_dead_letters(&self) -> Result<u64, Error> {
        let mut connection = self.connection().await?;
        let reply: Value = redis::cmd("XREVRANGE")
            .arg(&self.dead_stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut connection)
            .await
            .map_err(|e| self.error(e))?;
        let entries = range_entries(reply).map_err(|e| self.error(e))?;
        let Some(last) = entries.first() else {
            return Ok(0);
        };
        let last: EntryId = last.id.parse().map_err(|e| self.error(e))?;
        let Some(threshold) = last.next() else {
            // The largest id there is: nothing comes after it.
            let deleted: u64 = redis::cmd("DEL")
                .arg(&self.dead_stream)
                .query_async(&mut connection)
                .await
                .map_err(|e| self.error(e))?;
            return Ok(deleted);
        };
        // Exactly (no `~`): every entry below the threshold goes.
        redis::cmd("XTRIM")
            .arg(&self.dead_stream)
            .arg("MINID")
            .arg(threshold.to_string())
            .query_async(&mut connection)
            .await
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_parse_strictly_and_step_forward() {
        let id: EntryId = "5-18446744073709551615".parse().unwrap();
        assert_eq!(id.next().unwrap().to_string(), "6-0");
        assert_eq!(
            "5-1"
                .parse::<EntryId>()
                .unwrap()
                .next()
                .unwrap()
                .to_string(),
            "5-2"
        );
        let last = EntryId {
            millis: u64::MAX,
            sequence: u64::MAX,
        };
        assert_eq!(last.next(), None);
        for bad in [
            "",
            "-",
            "5",
            "5-",
            "-5",
            "+5-1",
            "5-1-2",
            " 5-1",
            "5-99999999999999999999",
        ] {
            assert!(bad.parse::<EntryId>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "1732860000000-0"
                .parse::<EntryId>()
                .unwrap()
                .time()
                .unwrap()
                .to_rfc3339(),
            "2024-11-29T06:00:00+00:00"
        );
        assert_eq!(last.time(), None);
    }

    #[test]
    fn dead_entries_say_what_they_hold_and_why_not() {
        let bulk = |text: &str| Value::BulkString(text.as_bytes().to_vec());
        let entry = |fields: &[(&str, &str)]| StreamId {
            id: "1732860000000-1".to_owned(),
            map: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), bulk(v)))
                .collect(),
            ..StreamId::default()
        };
        let why = "malformed: field `v` is missing";
        let malformed = DeadEntry::read(&entry(&[("junk", "x"), ("error", why)]));
        assert_eq!(malformed.bytes, "junkx".len() + "error".len() + why.len());
        assert_eq!(malformed.reason.as_deref(), Some(why));
        assert!(malformed.event.unwrap_err().contains("missing"));
        assert!(malformed.failed_at.is_some());

        let event = r#"{"action":"insert","object_pk":"7","before":null,"after":{"id":7},"changes":null,"created_at":"2026-11-28T06:18:28.123456Z","context":null}"#;
        let good = DeadEntry::read(&entry(&[
            ("v", "1"),
            ("log_table", "widget_log"),
            ("event_id", "e-1"),
            ("event", event),
            ("original_id", "1-0"),
        ]));
        let decoded = good.event.unwrap();
        assert_eq!(
            (decoded.log_table.as_str(), decoded.object_pk.as_str()),
            ("widget_log", "7")
        );
        assert_eq!(decoded.event_id, "e-1");
        assert_eq!(good.original_id.as_deref(), Some("1-0"));
        assert_eq!(good.reason, None);
    }
}
