//! The consumer side: [`BrokerWorker`] takes batches from the stream,
//! writes them through the sink and acknowledges them after the commit.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use redis::{RedisError, Value};
use tokio::sync::Mutex;

use super::producer::{connect, open_client};
use super::wire::decode;
use crate::Error;
use crate::config::ConfigError;
use crate::error::classify::{Fault, fault};
use crate::event::LogEvent;
use crate::sink::{Counters, OnRefused, Sink, Target, group_by_key};
use crate::transport::retry::{Backoff, run_until};

/// One consumer of the stream: takes batches, writes them into the log
/// tables, acknowledges them after the commit. See the [module docs](crate::broker).
pub struct BrokerWorker {
    sink: Arc<Sink>,
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
    stats: WorkerCounters,
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
struct WorkerCounters {
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
    /// A consumer named `consumer` writing through `sink` (see
    /// `Auditor::broker_worker`).
    pub(crate) fn new(sink: Arc<Sink>, consumer: String) -> Result<Self, Error> {
        if consumer.is_empty() {
            return Err(ConfigError::Invalid {
                key: "consumer",
                value: consumer,
                reason: "a consumer name must not be empty".to_owned(),
            }
            .into());
        }
        let config = sink.config();
        Ok(BrokerWorker {
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
            stats: WorkerCounters::default(),
            sink,
        })
    }

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
        let backoff = Backoff::from_config(self.sink.config());
        let worker = format!("audit broker worker `{}`", self.consumer);
        run_until(&worker, shutdown, backoff, Duration::ZERO, || {
            self.step(Some(self.block))
        })
        .await;
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
        let sink = &*self.sink;
        let audit = sink.audit_index().ok_or_else(|| Error::UnknownAlias {
            alias: sink.config().database_alias.clone(),
        })?;
        let mut decoded: Vec<(String, (usize, LogEvent))> = Vec::new();
        let mut dead: Vec<(usize, String)> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            match decode(entry) {
                Ok((log_table, event)) => decoded.push((log_table, (index, event))),
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
        for (log_table, events) in group_by_key(decoded) {
            let (indexes, rows): (Vec<usize>, Vec<LogEvent>) = events.into_iter().unzip();
            // Rows the database refuses are isolated; a transient error
            // (the database down, a lock timeout) leaves the whole batch
            // unacknowledged, to be retried (the event ids make rows
            // already written no-ops); any other error too, and is surfaced.
            let refused = match sink
                .write_to(audit, Target::Log, &log_table, &rows, OnRefused::Isolate)
                .await
            {
                Ok(refused) => refused,
                Err(error) => {
                    if fault(&error) == Fault::Transient {
                        Counters::add(&sink.stats().retried, entries.len());
                    }
                    return Err(Error::from_sqlx(
                        sink.database(audit).0,
                        Some(&log_table),
                        error,
                    ));
                }
            };
            written += rows.len() - refused.len();
            for refused in refused {
                let index = indexes[refused.index];
                let total = self.stats.rejected.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::error!(
                    stream = %self.stream,
                    entry = %entries[index].id,
                    table = %log_table,
                    rejected_total = total,
                    "audit database refused a log row; moved to `{}`: {}",
                    self.dead_stream,
                    refused.reason
                );
                dead.push((index, refused.reason));
            }
        }
        Counters::add(&sink.stats().written, written);
        Counters::add(&sink.stats().failed, dead.len());
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
