//! The broker transport (cargo feature `redis`): ASYNC log rows travel
//! through a Redis stream and [`BrokerWorker`]s, in any number of
//! processes, write them into the log tables.
//!
//! Turn it on with `ASYNC = true`, `ASYNC_TRANSPORT = "redis"` and
//! `REDIS_URL`. `log_change` then takes the event time and the context,
//! adds the event to the stream (`XADD`, one atomic `MULTI` per call) and
//! returns [`LogOutcome::Queued`](crate::LogOutcome::Queued). Rows logged in
//! an [`AuditTransaction`](crate::AuditTransaction) whose audit database is
//! another one are published only after the commit, so a rolled-back change
//! publishes nothing; in a transaction on the audit database itself the row
//! is written inside the transaction, as in every mode.
//!
//! # Why plain Redis Streams (and not apalis)
//! A stream with a consumer group already is the queue we need: `XADD` to
//! publish, `XREADGROUP` to take a batch (the entries stay in the group's
//! pending list until acknowledged), `XACK` once the rows are committed, and
//! `XAUTOCLAIM` to take over what a dead consumer left unacknowledged. That
//! is at-least-once delivery with reclaiming, and the event id makes the
//! redelivered rows no-ops. A job framework such as apalis adds its own job
//! records, retry counters and acknowledgement model on top, which we would
//! have to bend to "acknowledge a batch after one multi-row INSERT"; and the
//! plain entries can be read by any Redis client, in any language.
//!
//! # Message format (version 1)
//! One stream entry per log row, with the fields
//!
//! | field | value |
//! |---|---|
//! | `v` | `1`, the format version |
//! | `log_table` | the log table (`widget_log`) |
//! | `event_id` | the event id (a UUID v7), stored in the table's `event_id` column |
//! | `event` | JSON: `action`, `object_pk`, `before`, `after`, `changes` (JSON values or `null`), `created_at` (RFC 3339, UTC, microseconds), `context` (`null`, or `entry_point`, `route`, `path`, `method`, `ip`, `user_id`, `user_name`, `user_agent`) |
//!
//! # The worker
//! [`Auditor::broker_worker`] gives a consumer of the group REDIS_GROUP
//! (created when missing). Each batch it takes is, in this order: entries
//! this consumer name took before and did not acknowledge (after a restart,
//! or a batch whose write failed); entries that sat unacknowledged with any
//! consumer for longer than REDIS_CLAIM_IDLE_MS (`XAUTOCLAIM`: a consumer
//! that died mid-batch); new entries (`XREADGROUP ... >`). It writes the
//! rows grouped per log table with one multi-row INSERT per chunk, skipping
//! event ids already in the table, and only after those commits
//! acknowledges and deletes the entries (`XACK` and `XDEL` in one `MULTI`),
//! so the stream holds only events not yet written. A consumer killed at any
//! point loses nothing: its entries are reclaimed and written again, and
//! rows it had already written are skipped by their event id. While the
//! audit database is down the worker keeps the batch unacknowledged and
//! retries with backoff (ASYNC_RETRY_BASE_MS doubling up to
//! ASYNC_RETRY_MAX_MS). It sets no audit context of its own: rows carry the
//! context of the change.
//!
//! Give each worker its own stable consumer name (such as the host name of
//! its replica): a worker restarted under the same name picks up its own
//! unacknowledged entries at once, without waiting for REDIS_CLAIM_IDLE_MS.
//!
//! **Entries that cannot be written** — malformed ones (a missing field,
//! invalid JSON, a table name that is not a plain identifier ending in
//! `_log`), or rows the database rejects (such as a NUL character in
//! PostgreSQL JSONB) — would block the stream if left unacknowledged. Each is
//! logged as an error, counted (in [`BrokerStats`] and in
//! [`AuditStats::failed`](crate::AuditStats::failed)), copied with an
//! `error` and an `original_id` field to the stream `<REDIS_STREAM>:dead`
//! for inspection or replay, and acknowledged.
//!
//! ```no_run
//! use awesome_audit_log::config::AsyncTransport;
//! use awesome_audit_log::{AuditConfig, Auditor, Database};
//!
//! # async fn example(database: Database) -> Result<(), awesome_audit_log::Error> {
//! let mut config = AuditConfig::default();
//! config.async_ = true;
//! config.async_transport = AsyncTransport::Redis;
//! config.redis_url = Some("redis://127.0.0.1:6379".to_owned());
//! let auditor = Auditor::builder(config).database("default", database).build()?;
//!
//! // In the writer process (or a task of the application), until `stop` is sent:
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! # drop(stop);
//! let worker = auditor.broker_worker("writer-1")?;
//! worker.run(async { stopped.await.ok(); }).await;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use awesome_audit_log_codegen::ident::{MAX_IDENTIFIER_LEN, is_plain_identifier};
use chrono::{DateTime, SecondsFormat, Utc};
use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncConnectionConfig, RedisError, Value};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::Mutex;

use crate::backend::is_unavailable;
use crate::config::{AuditConfig, ConfigError};
use crate::context::StoredContext;
use crate::event::{Action, Dispatched, LogEvent};
use crate::{Auditor, Error, ModelInfo};

/// The `v` field of the entries this version writes.
const FORMAT: &str = "1";

/// The longest event id the `event_id` column holds.
const MAX_EVENT_ID_LEN: usize = 36;

/// Publishes events to the stream (the producer side, held by the auditor).
pub(crate) struct Producer {
    client: redis::Client,
    stream: String,
    timeout: Duration,
    /// One multiplexed connection, opened on first use and again after an error.
    connection: Mutex<Option<MultiplexedConnection>>,
}

impl Producer {
    pub(crate) fn new(config: &AuditConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            client: open_client(config)?,
            stream: config.redis_stream.clone(),
            timeout: Duration::from_millis(config.redis_timeout_ms.max(1)),
            connection: Mutex::new(None),
        })
    }

    /// Adds one entry per row, all or none (`MULTI` / `EXEC`).
    async fn publish(&self, log_table: &str, rows: &[LogEvent]) -> Result<(), RedisError> {
        let mut slot = self.connection.lock().await;
        let mut connection = match &*slot {
            Some(connection) => connection.clone(),
            None => {
                let connection = connect(&self.client, self.timeout, self.timeout).await?;
                *slot = Some(connection.clone());
                connection
            }
        };
        drop(slot);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for row in rows {
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg("v")
                .arg(FORMAT)
                .arg("log_table")
                .arg(log_table)
                .arg("event_id")
                .arg(row.event_id.as_deref().unwrap_or_default())
                .arg("event")
                .arg(encode(row))
                .ignore();
        }
        let result = pipe.query_async::<()>(&mut connection).await;
        if result.is_err() {
            // Reconnect next time: the connection may be broken.
            *self.connection.lock().await = None;
        }
        result
    }
}

impl Auditor {
    /// Publishes `rows` to the stream; a failure is an error with
    /// RAISE_ERROR_IF_DB_UNAVAILABLE, else a counted warning.
    pub(crate) async fn publish(
        &self,
        broker: &Producer,
        model: &'static ModelInfo,
        rows: Vec<LogEvent>,
    ) -> Result<Dispatched, Error> {
        let count = rows.len();
        match broker.publish(model.log_table(), &rows).await {
            Ok(()) => {
                self.count_queued(count);
                Ok(Dispatched::Queued(count))
            }
            Err(source) if self.config().raise_error_if_db_unavailable => {
                self.count_failed(count);
                Err(Error::Broker {
                    stream: broker.stream.clone(),
                    source: Box::new(source),
                })
            }
            Err(source) => {
                self.skip(
                    model,
                    &rows,
                    &format!(
                        "audit broker stream `{}` is unavailable: {source}",
                        broker.stream
                    ),
                );
                Ok(Dispatched::Written(0, count))
            }
        }
    }

    /// A consumer named `consumer` of the stream REDIS_STREAM in the group
    /// REDIS_GROUP, writing into the audit database (DATABASE_ALIAS). Needs
    /// REDIS_URL (ASYNC need not be on in the worker's process). Connects on
    /// first use.
    pub fn broker_worker(&self, consumer: impl Into<String>) -> Result<BrokerWorker, Error> {
        let config = self.config();
        let consumer = consumer.into();
        if consumer.is_empty() {
            return Err(ConfigError::Invalid {
                key: "consumer",
                value: consumer,
                reason: "a consumer name must not be empty".to_owned(),
            }
            .into());
        }
        Ok(BrokerWorker {
            auditor: self.inline(),
            client: open_client(config)?,
            dead_stream: format!("{}:dead", config.redis_stream),
            stream: config.redis_stream.clone(),
            group: config.redis_group.clone(),
            consumer,
            batch_size: config.async_batch_size,
            block: Duration::from_secs(1),
            claim_idle: Duration::from_millis(config.redis_claim_idle_ms),
            timeout: Duration::from_millis(config.redis_timeout_ms.max(1)),
            state: Mutex::new(State {
                connection: None,
                group_ready: false,
                backlog: true,
                cursor: "0-0".to_owned(),
                last_claim: None,
            }),
            stats: Counters::default(),
        })
    }
}

fn open_client(config: &AuditConfig) -> Result<redis::Client, ConfigError> {
    let url = config
        .redis_url
        .as_deref()
        .ok_or_else(|| ConfigError::Invalid {
            key: "REDIS_URL",
            value: String::new(),
            reason: "the broker transport needs the URL of the Redis server".to_owned(),
        })?;
    redis::Client::open(url).map_err(|e| ConfigError::Invalid {
        key: "REDIS_URL",
        // Not the URL itself: it may hold a password.
        value: url.split_once('@').map_or(url, |(_, host)| host).to_owned(),
        reason: e.to_string(),
    })
}

async fn connect(
    client: &redis::Client,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> Result<MultiplexedConnection, RedisError> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(response_timeout));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// The `event` field: JSON written by hand, so that `before`, `after` and
/// `changes` (already JSON text) are embedded without being parsed again.
fn encode(event: &LogEvent) -> String {
    fn push(out: &mut String, key: &str, value: impl serde::Serialize) {
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":");
        out.push_str(&serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned()));
    }
    fn push_raw(out: &mut String, key: &str, json: Option<&str>) {
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("\":");
        out.push_str(json.unwrap_or("null"));
    }
    let mut out = String::with_capacity(
        128 + [&event.before, &event.after, &event.changes]
            .iter()
            .map(|json| json.as_ref().map_or(4, String::len))
            .sum::<usize>(),
    );
    out.push_str("{\"action\":\"");
    out.push_str(event.action.as_str());
    out.push('"');
    push(&mut out, "object_pk", &event.object_pk);
    push_raw(&mut out, "before", event.before.as_deref());
    push_raw(&mut out, "after", event.after.as_deref());
    push_raw(&mut out, "changes", event.changes.as_deref());
    push(
        &mut out,
        "created_at",
        event
            .created_at
            .to_rfc3339_opts(SecondsFormat::Micros, true),
    );
    match event.context.as_deref() {
        None => push_raw(&mut out, "context", None),
        Some(ctx) => {
            out.push_str(",\"context\":{\"entry_point\":\"");
            out.push_str(ctx.entry_point.as_str());
            out.push('"');
            push(&mut out, "route", &ctx.route);
            push(&mut out, "path", &ctx.path);
            push(&mut out, "method", &ctx.method);
            push(&mut out, "ip", &ctx.ip);
            push(&mut out, "user_id", ctx.user_id);
            push(&mut out, "user_name", &ctx.user_name);
            push(&mut out, "user_agent", &ctx.user_agent);
            out.push('}');
        }
    }
    out.push('}');
    out
}

#[derive(Deserialize)]
struct WireEvent {
    action: Action,
    object_pk: String,
    before: Option<Box<RawValue>>,
    after: Option<Box<RawValue>>,
    changes: Option<Box<RawValue>>,
    created_at: DateTime<Utc>,
    context: Option<StoredContext>,
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

/// The log table and the event of one stream entry, or why it is malformed.
fn decode(entry: &StreamId) -> Result<(String, LogEvent), String> {
    let version = field(entry, "v")?;
    if version != FORMAT {
        return Err(format!("unknown format version {version:?}"));
    }
    let log_table = field(entry, "log_table")?;
    if !is_plain_identifier(log_table)
        || log_table.len() > MAX_IDENTIFIER_LEN
        || !log_table.ends_with("_log")
    {
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
    let wire: WireEvent = serde_json::from_str(field(entry, "event")?)
        .map_err(|e| format!("field `event` is not a valid event: {e}"))?;
    let context = wire.context.map(StoredContext::into_context).transpose()?;
    let raw = |json: Option<Box<RawValue>>| json.map(|json| json.get().to_owned());
    Ok((
        log_table.to_owned(),
        LogEvent {
            action: wire.action,
            object_pk: wire.object_pk,
            before: raw(wire.before),
            after: raw(wire.after),
            changes: raw(wire.changes),
            context,
            created_at: wire.created_at,
            event_id: Some(event_id.to_owned()),
        },
    ))
}

/// One consumer of the stream: takes batches, writes them into the log
/// tables, acknowledges them after the commit. See the [module docs](self).
pub struct BrokerWorker {
    auditor: Auditor,
    client: redis::Client,
    stream: String,
    dead_stream: String,
    group: String,
    consumer: String,
    batch_size: usize,
    block: Duration,
    claim_idle: Duration,
    timeout: Duration,
    state: Mutex<State>,
    stats: Counters,
}

struct State {
    connection: Option<MultiplexedConnection>,
    group_ready: bool,
    /// Whether entries delivered to this consumer name may still be unacknowledged.
    backlog: bool,
    /// Where the next `XAUTOCLAIM` continues.
    cursor: String,
    /// When the last full `XAUTOCLAIM` scan ended.
    last_claim: Option<Instant>,
}

#[derive(Default)]
struct Counters {
    acked: AtomicU64,
    written: AtomicU64,
    reclaimed: AtomicU64,
    malformed: AtomicU64,
    rejected: AtomicU64,
}

/// What a [`BrokerWorker`] did since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerStats {
    /// Entries acknowledged (written, or set aside to the dead-letter stream).
    pub acked: u64,
    /// Rows written into the log tables (redelivered rows that were already
    /// there included: the insert skips them).
    pub written: u64,
    /// Entries taken over from consumers that left them unacknowledged.
    pub reclaimed: u64,
    /// Malformed entries set aside to `<REDIS_STREAM>:dead`.
    pub malformed: u64,
    /// Rows the database rejected, set aside to `<REDIS_STREAM>:dead`.
    pub rejected: u64,
}

impl fmt::Debug for BrokerWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerWorker")
            .field("stream", &self.stream)
            .field("group", &self.group)
            .field("consumer", &self.consumer)
            .field("batch_size", &self.batch_size)
            .field("claim_idle", &self.claim_idle)
            .field("stats", &self.stats())
            .finish()
    }
}

impl BrokerWorker {
    /// Entries taken per batch (default: ASYNC_BATCH_SIZE).
    pub fn batch_size(mut self, entries: usize) -> Self {
        self.batch_size = entries.max(1);
        self
    }

    /// How long [`run`](Self::run) waits on Redis for new entries before it
    /// looks for entries to reclaim again (default 1 s).
    pub fn block(mut self, block: Duration) -> Self {
        self.block = block;
        self
    }

    /// How long an entry must sit unacknowledged with another consumer
    /// before this one takes it over (default: REDIS_CLAIM_IDLE_MS).
    pub fn claim_idle(mut self, idle: Duration) -> Self {
        self.claim_idle = idle;
        self
    }

    /// The consumer name.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// What the worker did so far.
    pub fn stats(&self) -> BrokerStats {
        let c = &self.stats;
        BrokerStats {
            acked: c.acked.load(Ordering::Relaxed),
            written: c.written.load(Ordering::Relaxed),
            reclaimed: c.reclaimed.load(Ordering::Relaxed),
            malformed: c.malformed.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
        }
    }

    /// Takes and writes one batch without waiting for new entries; returns
    /// how many entries it acknowledged (0: nothing to do now).
    pub async fn drain_once(&self) -> Result<usize, Error> {
        self.step(None).await
    }

    /// Takes batches until there is nothing to do now; returns the entries
    /// acknowledged. Entries of other consumers are taken only once they
    /// have been idle for the claim time.
    pub async fn drain(&self) -> Result<usize, Error> {
        let mut acked = 0;
        loop {
            match self.drain_once().await? {
                0 => return Ok(acked),
                n => acked += n,
            }
        }
    }

    /// Takes and writes batches until `shutdown` completes, waiting on Redis
    /// for new entries; backs off (ASYNC_RETRY_BASE_MS doubling up to
    /// ASYNC_RETRY_MAX_MS) while Redis or the audit database is unavailable.
    /// A batch interrupted by the shutdown stays unacknowledged and is
    /// picked up again by this consumer name or reclaimed by another.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        let config = self.auditor.config();
        let base = Duration::from_millis(config.async_retry_base_ms.max(1));
        let max = Duration::from_millis(config.async_retry_max_ms).max(base);
        let mut backoff = base;
        tokio::pin!(shutdown);
        loop {
            let pause = tokio::select! {
                () = &mut shutdown => return,
                result = self.step(Some(self.block)) => match result {
                    Ok(_) => {
                        backoff = base;
                        Duration::ZERO
                    }
                    Err(error) => {
                        tracing::warn!(
                            consumer = %self.consumer,
                            retry_in_ms = backoff.as_millis() as u64,
                            "audit broker worker: {error}"
                        );
                        let pause = backoff;
                        backoff = (backoff * 2).min(max);
                        pause
                    }
                },
            };
            if !pause.is_zero() {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }

    fn broker_error(&self, source: RedisError) -> Error {
        Error::Broker {
            stream: self.stream.clone(),
            source: Box::new(source),
        }
    }

    async fn step(&self, block: Option<Duration>) -> Result<usize, Error> {
        let mut state = self.state.lock().await;
        match self.take_and_write(&mut state, block).await {
            Err(Error::Broker { stream, source }) => {
                // Reconnect (and make sure the group exists) next time.
                state.connection = None;
                state.group_ready = false;
                state.backlog = true;
                Err(Error::Broker { stream, source })
            }
            Err(error) => {
                state.backlog = true;
                Err(error)
            }
            ok => ok,
        }
    }

    async fn take_and_write(
        &self,
        state: &mut State,
        block: Option<Duration>,
    ) -> Result<usize, Error> {
        let mut connection = match &state.connection {
            Some(connection) => connection.clone(),
            None => {
                // Long enough for a blocking read of `run`.
                let reply_timeout = self.timeout + self.block.max(block.unwrap_or_default());
                let connection = connect(&self.client, self.timeout, reply_timeout)
                    .await
                    .map_err(|e| self.broker_error(e))?;
                state.connection = Some(connection.clone());
                connection
            }
        };
        if !state.group_ready {
            let created: Result<(), RedisError> = redis::cmd("XGROUP")
                .arg("CREATE")
                .arg(&self.stream)
                .arg(&self.group)
                .arg("0")
                .arg("MKSTREAM")
                .query_async(&mut connection)
                .await;
            match created {
                Err(e) if e.code() != Some("BUSYGROUP") => return Err(self.broker_error(e)),
                _ => state.group_ready = true,
            }
        }

        // 1. What this consumer name took before and did not acknowledge.
        let mut entries = Vec::new();
        if state.backlog {
            entries = self.read(&mut connection, "0", None).await?;
            state.backlog = !entries.is_empty();
        }
        // 2. What others left unacknowledged for longer than the claim time.
        let claim_every =
            (self.claim_idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(5));
        if entries.is_empty()
            && state
                .last_claim
                .is_none_or(|at| at.elapsed() >= claim_every)
        {
            let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&self.stream)
                .arg(&self.group)
                .arg(&self.consumer)
                .arg(self.claim_idle.as_millis() as u64)
                .arg(&state.cursor)
                .arg(StreamAutoClaimOptions::default().count(self.batch_size))
                .query_async(&mut connection)
                .await
                .map_err(|e| self.broker_error(e))?;
            if reply.next_stream_id == "0-0" {
                state.last_claim = Some(Instant::now());
            }
            state.cursor = reply.next_stream_id;
            if !reply.claimed.is_empty() {
                self.stats
                    .reclaimed
                    .fetch_add(reply.claimed.len() as u64, Ordering::Relaxed);
                tracing::info!(
                    consumer = %self.consumer,
                    entries = reply.claimed.len(),
                    "audit broker worker reclaimed entries left unacknowledged by another consumer"
                );
                entries = reply.claimed;
            }
        }
        // 3. New entries.
        if entries.is_empty() {
            entries = self.read(&mut connection, ">", block).await?;
        }
        if entries.is_empty() {
            return Ok(0);
        }
        self.write_and_ack(&mut connection, entries).await
    }

    async fn read(
        &self,
        connection: &mut MultiplexedConnection,
        from: &str,
        block: Option<Duration>,
    ) -> Result<Vec<StreamId>, Error> {
        let mut options = StreamReadOptions::default()
            .group(&self.group, &self.consumer)
            .count(self.batch_size);
        if let Some(block) = block.filter(|block| !block.is_zero()) {
            options = options.block(block.as_millis().max(1) as usize);
        }
        let reply: Option<StreamReadReply> = redis::cmd("XREADGROUP")
            .arg(&options)
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(from)
            .query_async(connection)
            .await
            .map_err(|e| self.broker_error(e))?;
        Ok(reply
            .into_iter()
            .flat_map(|reply| reply.keys)
            .flat_map(|key| key.ids)
            .collect())
    }

    /// Writes the rows of `entries` grouped per log table, then sets aside
    /// what cannot be written and acknowledges everything in one `MULTI`.
    async fn write_and_ack(
        &self,
        connection: &mut MultiplexedConnection,
        entries: Vec<StreamId>,
    ) -> Result<usize, Error> {
        let auditor = &self.auditor;
        let audit = auditor.audit_index().ok_or_else(|| Error::UnknownAlias {
            alias: auditor.config().database_alias.clone(),
        })?;
        let mut groups: Vec<(String, Vec<(usize, LogEvent)>)> = Vec::new();
        let mut dead: Vec<(usize, String)> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match decode(entry) {
                Ok((log_table, event)) => {
                    match groups.iter_mut().find(|(table, _)| *table == log_table) {
                        Some((_, events)) => events.push((index, event)),
                        None => groups.push((log_table, vec![(index, event)])),
                    }
                }
                Err(reason) => {
                    let total = self.stats.malformed.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::error!(
                        stream = %self.stream,
                        entry = %entry.id,
                        malformed_total = total,
                        "audit broker entry is malformed; moved to `{}`: {reason}",
                        self.dead_stream
                    );
                    dead.push((index, format!("malformed: {reason}")));
                }
            }
        }

        let mut written = 0;
        for (log_table, events) in &groups {
            let table = auditor.log_table_sql(audit, log_table);
            let rows: Vec<LogEvent> = events.iter().map(|(_, event)| event.clone()).collect();
            let error = match auditor.write_table(audit, &table, &rows).await {
                Ok(()) => {
                    written += rows.len();
                    continue;
                }
                Err(error) => error,
            };
            if is_unavailable(&error) {
                auditor.count_retried(entries.len());
                return Err(Error::Unavailable {
                    alias: auditor.database_at(audit).0.to_owned(),
                    source: error,
                });
            }
            // The database rejected the batch: find the rows it rejects.
            for (index, row) in events
                .iter()
                .zip(&rows)
                .map(|((index, _), row)| (*index, row))
            {
                match auditor
                    .write_table(audit, &table, std::slice::from_ref(row))
                    .await
                {
                    Ok(()) => written += 1,
                    Err(error) if is_unavailable(&error) => {
                        auditor.count_retried(entries.len());
                        return Err(Error::Unavailable {
                            alias: auditor.database_at(audit).0.to_owned(),
                            source: error,
                        });
                    }
                    Err(error) => {
                        let total = self.stats.rejected.fetch_add(1, Ordering::Relaxed) + 1;
                        tracing::error!(
                            stream = %self.stream,
                            entry = %entries[index].id,
                            table = %log_table,
                            rejected_total = total,
                            "audit database rejected a log row; moved to `{}`: {error}",
                            self.dead_stream
                        );
                        dead.push((index, format!("rejected by the database: {error}")));
                    }
                }
            }
        }
        auditor.count_moved(written);
        auditor.count_failed(dead.len());
        self.stats
            .written
            .fetch_add(written as u64, Ordering::Relaxed);

        let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
        let mut pipe = redis::pipe();
        pipe.atomic();
        for (index, reason) in &dead {
            let entry = &entries[*index];
            let command = pipe.cmd("XADD").arg(&self.dead_stream).arg("*");
            for (name, value) in &entry.map {
                if let Value::BulkString(bytes) = value {
                    command.arg(name).arg(bytes.as_slice());
                }
            }
            command
                .arg("original_id")
                .arg(&entry.id)
                .arg("error")
                .arg(reason)
                .ignore();
        }
        pipe.cmd("XACK")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&ids)
            .ignore();
        pipe.cmd("XDEL").arg(&self.stream).arg(&ids).ignore();
        pipe.query_async::<()>(connection)
            .await
            .map_err(|e| self.broker_error(e))?;
        self.stats
            .acked
            .fetch_add(ids.len() as u64, Ordering::Relaxed);
        Ok(ids.len())
    }
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
        let mut context = crate::context::AuditContext::new(crate::context::EntryPoint::Http);
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
        let json = encode(&event);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["created_at"], "2026-11-28T06:18:28.123456Z");
        assert_eq!(value["changes"]["qty"]["to"], 5);
        assert_eq!(value["context"]["entry_point"], "http");
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
            ("event", &encode(&bare)),
        ]))
        .unwrap();
        assert_eq!(decoded.before, None);
        assert!(decoded.context.is_none());
    }

    #[test]
    fn malformed_entries_say_why() {
        let json = encode(&sample());
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
