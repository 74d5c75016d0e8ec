//! An object's state at a moment, and every object's: one indexed read
//! for one object, one SQL pass (DISTINCT ON, or a window) for all.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::query::read;
use crate::backend::{Order, Param, Position, Select, UpTo};
use crate::restore::UnrestorableField;
use crate::{Action, Audited, Auditor, Dialect, Error, LogRecord, LogRow};

/// A moment in a log: a time, or a log row (the moment just after it was
/// logged, which tells apart two changes logged in the same microsecond).
///
/// ```
/// use awesome_audit_log::history::At;
/// use awesome_audit_log::chrono::{TimeZone, Utc};
///
/// let noon = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
/// assert_eq!(At::from(noon), At::Time(noon));
/// assert_eq!(At::row(42), At::Row(42));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// Everything logged at or before this time.
    Time(DateTime<Utc>),
    /// Everything logged up to and including the row with this id (in the
    /// log's order: `created_at`, then `id`).
    Row(i64),
}

impl At {
    /// Up to and including the log row `id`.
    pub const fn row(id: i64) -> Self {
        At::Row(id)
    }
}

impl From<DateTime<Utc>> for At {
    fn from(at: DateTime<Utc>) -> Self {
        At::Time(at)
    }
}

/// One object's state at a moment ([`as_of`]).
#[derive(Debug, Clone)]
pub enum AsOf<M: Audited> {
    /// Nothing was logged for the object by then.
    NotCreated,
    /// The object existed, and every field was rebuilt from the log.
    Existed {
        /// The object as it was.
        value: M,
        /// The row that left it so.
        row: M::Log,
    },
    /// The object existed, but some fields cannot be rebuilt from the log
    /// (skipped, redacted, or logged before they existed).
    Partial(Partial<M>),
    /// The object had been deleted by then.
    Deleted {
        /// The delete: when (`created_at`), who (`user_id`, `user_name`)
        /// and from where (the context columns), and the last state
        /// (`before`).
        row: M::Log,
    },
}

impl<M: Audited> AsOf<M> {
    /// The object's value, if it existed and could be fully rebuilt.
    pub fn value(&self) -> Option<&M> {
        match self {
            AsOf::Existed { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The row that decided the answer (none before creation).
    pub fn row(&self) -> Option<&M::Log> {
        match self {
            AsOf::NotCreated => None,
            AsOf::Existed { row, .. } | AsOf::Deleted { row } => Some(row),
            AsOf::Partial(partial) => Some(&partial.row),
        }
    }

    /// Whether the object existed then (fully rebuilt or not).
    pub fn existed(&self) -> bool {
        matches!(self, AsOf::Existed { .. } | AsOf::Partial(_))
    }
}

/// A past state some of whose fields the log cannot give.
#[derive(Debug, Clone)]
pub struct Partial<M: Audited> {
    /// The row that left the object in this state.
    pub row: M::Log,
    /// The fields that cannot be rebuilt, and why.
    pub unrestorable: Vec<UnrestorableField>,
    state: Map<String, Value>,
}

impl<M: Audited> Partial<M> {
    /// The logged state, as JSON (redacted fields as `"***"`).
    pub fn state(&self) -> &Map<String, Value> {
        &self.state
    }

    /// The value, with the fields the log cannot give taken from `base`
    /// (typically the object as it is now).
    pub fn fill(self, base: M) -> Result<M, Vec<UnrestorableField>> {
        M::restore(&self.state, Some(base))
    }
}

/// Every object's state at a moment ([`as_of_all`]).
#[derive(Debug, Clone)]
pub struct AsOfAll<M: Audited> {
    /// Each object with any row by then, by primary key (in the order of
    /// their last rows): existed, partial or deleted. Never `NotCreated`.
    pub objects: Vec<(String, AsOf<M>)>,
    /// Objects that existed then and have been deleted since: the last
    /// such delete of each, oldest first.
    pub deleted_since: Vec<M::Log>,
}

impl<M: Audited> AsOfAll<M> {
    /// The objects that existed then and were fully rebuilt.
    pub fn existing(&self) -> impl Iterator<Item = (&str, &M)> {
        self.objects
            .iter()
            .filter_map(|(pk, state)| state.value().map(|value| (pk.as_str(), value)))
    }
}

/// The state of the object `pk` of `M` at `at`: one indexed read (two when
/// `at` is a row id).
pub async fn as_of<M: Audited>(
    auditor: &Auditor,
    pk: &(impl std::fmt::Display + ?Sized),
    at: impl Into<At>,
) -> Result<AsOf<M>, Error> {
    let up_to = resolve::<M>(auditor, at.into()).await?;
    let rows = read(auditor, M::MODEL.log_table(), &last_row(pk, Some(up_to))).await?;
    match rows.into_iter().next() {
        None => Ok(AsOf::NotCreated),
        Some(row) => state_of::<M>(row),
    }
}

/// The read of [`as_of`]: the object's last row up to `up_to`.
pub(super) fn last_row(pk: &(impl std::fmt::Display + ?Sized), up_to: Option<UpTo>) -> Select {
    Select {
        object_pk: Some(pk.to_string()),
        up_to,
        order: Order::Newest,
        limit: Some(1),
        ..Select::default()
    }
}

/// The statement [`as_of`] runs on `dialect` for a time `at`, and its bind
/// values, on the model's log table as this version creates it (no
/// schema). What the benchmark EXPLAINs; not public API.
#[doc(hidden)]
pub fn as_of_statement<M: Audited>(
    dialect: Dialect,
    pk: &(impl std::fmt::Display + ?Sized),
    at: DateTime<Utc>,
) -> Option<(String, Vec<Param>)> {
    let table = dialect.quote(M::MODEL.log_table());
    last_row(pk, Some(UpTo::Time(at))).sql(dialect, &table, true)
}

/// The state of every object of `M` at `at`, computed in SQL: the last row
/// of each object by then (PostgreSQL's DISTINCT ON, a window function on
/// MySQL/MariaDB and SQLite), and the deletes logged since.
pub async fn as_of_all<M: Audited>(
    auditor: &Auditor,
    at: impl Into<At>,
) -> Result<AsOfAll<M>, Error> {
    let log_table = M::MODEL.log_table();
    let up_to = resolve::<M>(auditor, at.into()).await?;
    let latest = Select {
        up_to: Some(up_to),
        latest_per_object: true,
        ..Select::default()
    };
    let mut objects = Vec::new();
    let mut existed = HashSet::new();
    for row in read(auditor, log_table, &latest).await? {
        let pk = row.object_pk.clone();
        let state = state_of::<M>(row)?;
        if state.existed() {
            existed.insert(pk.clone());
        }
        objects.push((pk, state));
    }
    let after = match up_to {
        UpTo::Row(position) => position,
        UpTo::Time(at) => Position {
            created_at: at,
            id: i64::MAX,
        },
    };
    let deletes = Select {
        actions: vec![Action::Delete],
        after: Some(after),
        order: Order::Oldest,
        ..Select::default()
    };
    // The last delete of each object that existed then, oldest first.
    let mut seen = HashSet::new();
    let mut deleted_since: Vec<M::Log> = read(auditor, log_table, &deletes)
        .await?
        .into_iter()
        .rev()
        .filter(|row| existed.contains(&row.object_pk) && seen.insert(row.object_pk.clone()))
        .map(M::Log::from)
        .collect();
    deleted_since.reverse();
    Ok(AsOfAll {
        objects,
        deleted_since,
    })
}

/// Where `at` ends the log of `M`.
async fn resolve<M: Audited>(auditor: &Auditor, at: At) -> Result<UpTo, Error> {
    match at {
        At::Time(at) => Ok(UpTo::Time(at)),
        At::Row(id) => {
            let row = row_by_id::<M>(auditor, id).await?;
            Ok(UpTo::Row(Position {
                created_at: row.created_at,
                id: row.id,
            }))
        }
    }
}

/// The row `id` of the log of `M`.
pub(crate) async fn row_by_id<M: Audited>(auditor: &Auditor, id: i64) -> Result<LogRecord, Error> {
    let select = Select {
        id: Some(id),
        limit: Some(1),
        ..Select::default()
    };
    read(auditor, M::MODEL.log_table(), &select)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Error::UnknownLogRow {
            table: M::MODEL.log_table().to_owned(),
            id,
        })
}

/// What the last row of an object says of its state.
fn state_of<M: Audited>(row: LogRecord) -> Result<AsOf<M>, Error> {
    if row.action == Action::Delete {
        return Ok(AsOf::Deleted {
            row: M::Log::from(row),
        });
    }
    let state = state_map::<M>(&row, row.after.as_ref())?;
    Ok(match M::restore(&state, None) {
        Ok(value) => AsOf::Existed {
            value,
            row: M::Log::from(row),
        },
        Err(unrestorable) => AsOf::Partial(Partial {
            row: M::Log::from(row),
            unrestorable,
            state,
        }),
    })
}

/// A logged state as a JSON object; anything else is a row this library
/// cannot read (the log is untrusted input).
pub(crate) fn state_map<M: Audited>(
    row: &impl LogRow,
    state: Option<&Value>,
) -> Result<Map<String, Value>, Error> {
    match state {
        Some(Value::Object(map)) => Ok(map.clone()),
        other => Err(Error::Decode {
            table: M::MODEL.log_table().to_owned(),
            message: format!(
                "row {} ({}) holds no object state: {}",
                row.id(),
                row.action(),
                other.map_or_else(|| "NULL".to_owned(), |value| kind_of(value).to_owned())
            ),
        }),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
