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
//! [`Auditor::broker_worker`](crate::Auditor::broker_worker) gives a consumer of the group REDIS_GROUP
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
//! `_log`), or rows the database refuses (such as a NUL character in
//! PostgreSQL JSONB; the batch is halved until they are found, and the rest
//! is written) — would block the stream if left unacknowledged. Each is
//! logged as an error, counted (in [`BrokerStats`] and in
//! [`AuditStats::failed`](crate::AuditStats::failed)), copied with an
//! `error` and an `original_id` field to the stream `<REDIS_STREAM>:dead`
//! for inspection or replay, and acknowledged. A transient error (the
//! database down, a lock or statement timeout, a deadlock) is never the
//! rows' fault: the batch stays unacknowledged and is retried.
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

mod dead;
mod producer;
mod queue;
mod wire;
mod worker;

pub use dead::{DeadEntry, DeadEvent, DeadLetterPage, EntryId, InvalidEntryId, RetryOutcome};
pub(crate) use producer::Producer;
pub use queue::{BrokerQueue, BrokerStatus, ConsumerStatus, GroupStatus};
pub use worker::{BrokerStats, BrokerWorker};
