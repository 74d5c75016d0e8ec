//! One object's history: a builder of filters that all run in SQL, read
//! as one page, in keyset pages, or as a stream.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt, stream};

use crate::backend::{Order, Param, Position, Select};
use crate::context::EntryPoint;
use crate::{Action, AuditField, Audited, Auditor, Dialect, Error, LogRecord, LogRow};

/// Rows a stream reads per statement.
const STREAM_PAGE: u64 = 500;

/// Where a page of history ended: pass it to [`History::after`] to read
/// the next page. Keyset pagination by `(created_at, id)`: rows logged
/// while a client pages never shift the pages it has not read yet.
///
/// A cursor travels as text (`Display` / `FromStr`, also its serde form),
/// e.g. in an HTTP query string; text that is not a cursor is an error.
///
/// ```
/// use awesome_audit_log::history::Cursor;
///
/// let cursor: Cursor = "1764400000123456.42".parse().unwrap();
/// assert_eq!(cursor.id(), 42);
/// assert_eq!(cursor.to_string(), "1764400000123456.42");
/// assert!("42".parse::<Cursor>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cursor {
    created_at: DateTime<Utc>,
    id: i64,
}

impl Cursor {
    /// The cursor just after `row`.
    pub fn of(row: &impl LogRow) -> Self {
        Self {
            created_at: row.created_at(),
            id: row.id(),
        }
    }

    /// The `created_at` of the row the page ended with.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }

    /// The id of the row the page ended with.
    pub fn id(&self) -> i64 {
        self.id
    }

    pub(crate) fn position(self) -> Position {
        Position {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.created_at.timestamp_micros(), self.id)
    }
}

/// Text that is not a [`Cursor`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a history cursor: {0:?} (expected `<microseconds>.<row id>`)")]
pub struct InvalidCursor(pub String);

impl FromStr for Cursor {
    type Err = InvalidCursor;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCursor(text.chars().take(64).collect());
        let (micros, id) = text.split_once('.').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        Ok(Self {
            created_at: DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?,
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

impl serde::Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One page of history and where the next one starts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Page<R> {
    /// The rows, in the order asked for.
    pub rows: Vec<R>,
    /// Where the next page starts; `None` when this page is the last one
    /// (no row follows it, or there is no limit).
    pub next: Option<Cursor>,
}

/// The history of one object of `M`: every row of its log table for that
/// primary key, filtered in SQL. Made by the generated
/// `Struct::history(&auditor, &pk)`; nothing is read until
/// [`fetch`](Self::fetch), [`all`](Self::all) or [`stream`](Self::stream).
///
/// Filters of different kinds must all hold; filters of one kind
/// (`action`, `changed`) match any of their values. Rows come oldest
/// first unless [`newest_first`](Self::newest_first) is called.
///
/// ```
/// # use awesome_audit_log::{Action, AuditConfig, Auditor, Database, audited};
/// # #[audited(table = "widget")]
/// # #[derive(Clone)]
/// # struct Widget { id: i64, name: String, qty: i32 }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let auditor = Auditor::builder(AuditConfig::default()).database("default", Database::connect("sqlite::memory:").await?).build()?;
/// let old = Widget { id: 7, name: "bolt".into(), qty: 1 };
/// let new = Widget { qty: 2, ..old.clone() };
/// let _ = Widget::log_change(&auditor, None, Some(&old)).await?;
/// let _ = Widget::log_change(&auditor, Some(&old), Some(&new)).await?;
///
/// let page = Widget::history(&auditor, &7)
///     .changed(WidgetField::Qty)
///     .action(Action::Update)
///     .newest_first()
///     .limit(10)
///     .fetch()
///     .await?;
/// assert_eq!(page.rows.len(), 1);
/// assert_eq!(page.rows[0].changes.as_ref().unwrap()["qty"]["to"], 2);
/// assert!(page.next.is_none());
/// # Ok(()) }
/// ```
#[must_use = "a history reads nothing until it is fetched or streamed"]
pub struct History<'a, M: Audited> {
    auditor: &'a Auditor,
    select: Select,
    model: PhantomData<fn() -> M>,
}

impl<M: Audited> fmt::Debug for History<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("History")
            .field("model", &M::MODEL.label())
            .field("select", &self.select)
            .finish()
    }
}

impl<M: Audited> Clone for History<'_, M> {
    fn clone(&self) -> Self {
        Self {
            auditor: self.auditor,
            select: self.select.clone(),
            model: PhantomData,
        }
    }
}

impl<'a, M: Audited> History<'a, M> {
    /// The history of the object whose primary key is `pk`.
    pub fn new(auditor: &'a Auditor, pk: &(impl fmt::Display + ?Sized)) -> Self {
        Self::with(
            auditor,
            Select {
                object_pk: Some(pk.to_string()),
                ..Select::default()
            },
        )
    }

    pub(crate) fn with(auditor: &'a Auditor, select: Select) -> Self {
        Self {
            auditor,
            select,
            model: PhantomData,
        }
    }

    /// Only rows of `action` (call again to allow several).
    pub fn action(mut self, action: Action) -> Self {
        self.select.actions.push(action);
        self
    }

    /// Only rows of the user with this id.
    pub fn user(mut self, user_id: i64) -> Self {
        self.select.user_id = Some(user_id);
        self
    }

    /// Only rows logged at or after `at`.
    pub fn since(mut self, at: DateTime<Utc>) -> Self {
        self.select.since = Some(at);
        self
    }

    /// Only rows logged before `at`.
    pub fn until(mut self, at: DateTime<Utc>) -> Self {
        self.select.until = Some(at);
        self
    }

    /// Only rows of this entry point (HTTP, command, job, shell).
    pub fn entry_point(mut self, entry_point: EntryPoint) -> Self {
        self.select.entry_point = Some(entry_point.as_str().to_owned());
        self
    }

    /// Only rows of one request, command or job (its correlation id). A
    /// table without the column (made by the Django original or an older
    /// version) has none.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.select.correlation_id = Some(id.into());
        self
    }

    /// Only rows whose `changes` name `field` (call again to allow
    /// several). Inserts and deletes name every field.
    pub fn changed(mut self, field: M::Field) -> Self {
        self.select.changed.push(field.key().to_owned());
        self
    }

    /// Newest first.
    pub fn newest_first(mut self) -> Self {
        self.select.order = Order::Newest;
        self
    }

    /// Oldest first (the default).
    pub fn oldest_first(mut self) -> Self {
        self.select.order = Order::Oldest;
        self
    }

    /// At most `rows` rows (a page).
    pub fn limit(mut self, rows: u64) -> Self {
        self.select.limit = Some(rows);
        self
    }

    /// Only rows after `cursor` in the order asked for: the next page.
    pub fn after(mut self, cursor: Cursor) -> Self {
        self.select.after = Some(cursor.position());
        self
    }

    /// One page: the rows, and a cursor to the next page when another row
    /// follows (read as one row more than the limit).
    pub async fn fetch(self) -> Result<Page<M::Log>, Error> {
        let Some(limit) = self.select.limit else {
            let rows = read(self.auditor, M::MODEL.log_table(), &self.select).await?;
            return Ok(Page {
                rows: rows.into_iter().map(M::Log::from).collect(),
                next: None,
            });
        };
        // One row more than the page tells whether another page follows.
        let mut select = self.select;
        select.limit = Some(limit.saturating_add(1));
        let mut rows = read(self.auditor, M::MODEL.log_table(), &select).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = rows.last().filter(|_| more).map(Cursor::of);
        Ok(Page {
            rows: rows.into_iter().map(M::Log::from).collect(),
            next,
        })
    }

    /// The statement [`fetch`](Self::fetch) runs on `dialect` and its bind
    /// values, on the model's log table as this version creates it (no
    /// schema). What the benchmark EXPLAINs; not public API.
    #[doc(hidden)]
    pub fn statement(&self, dialect: Dialect) -> Option<(String, Vec<Param>)> {
        let table = dialect.quote(M::MODEL.log_table());
        self.select.sql(dialect, &table, true)
    }

    /// Every row that matches, in one read.
    pub async fn all(self) -> Result<Vec<M::Log>, Error> {
        Ok(self.fetch().await?.rows)
    }

    /// Every row that matches, read in keyset pages of 500 rows (each page
    /// its own statement, so no connection is held between pages); the
    /// limit, if set, caps the total. An error ends the stream.
    pub fn stream(self) -> impl Stream<Item = Result<M::Log, Error>> + Send + 'a {
        let auditor = self.auditor;
        let total = self.select.limit;
        let state = (self.select, 0u64, false);
        stream::try_unfold(state, move |(mut select, read_so_far, done)| async move {
            let left = total.map_or(STREAM_PAGE, |total| total.saturating_sub(read_so_far));
            if done || left == 0 {
                return Ok::<_, Error>(None);
            }
            let page = left.min(STREAM_PAGE);
            select.limit = Some(page);
            let rows = read(auditor, M::MODEL.log_table(), &select).await?;
            let last_page = (rows.len() as u64) < page;
            if let Some(last) = rows.last() {
                select.after = Some(Cursor::of(last).position());
            }
            let read_now = read_so_far + rows.len() as u64;
            let rows: Vec<Result<M::Log, Error>> =
                rows.into_iter().map(|row| Ok(M::Log::from(row))).collect();
            Ok(Some((stream::iter(rows), (select, read_now, last_page))))
        })
        .try_flatten()
        .boxed()
    }
}

/// The rows of `log_table` that `select` asks for.
pub(crate) async fn read(
    auditor: &Auditor,
    log_table: &str,
    select: &Select,
) -> Result<Vec<LogRecord>, Error> {
    auditor.sink.select(log_table, select).await
}
