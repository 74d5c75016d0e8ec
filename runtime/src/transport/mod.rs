//! Transports: how a logged change reaches the log tables. One is chosen
//! when the auditor is built (ASYNC, ASYNC_TRANSPORT) and every change goes
//! through its one [`Transport::dispatch`]:
//!
//! | transport | `log_change` | rows reach the log tables |
//! |---|---|---|
//! | [`Inline`](Transport::Inline) (ASYNC off) | writes through the sink | at once |
//! | [`Memory`](Transport::Memory) (`"memory"`) | queues in the process | by the background writer ([`memory`]) |
//! | [`Outbox`](Transport::Outbox) (`"outbox"`) | writes to the outbox table | by [`outbox::OutboxWorker`]s |
//! | `Redis` (`"redis"`, feature `redis`) | publishes to a stream | by [`broker::BrokerWorker`](crate::broker::BrokerWorker)s |
//!
//! Transports write through the [`Sink`] and know nothing of the auditor.

use std::sync::Arc;

use crate::config::{AsyncTransport, AuditConfig};
use crate::event::LogEvent;
use crate::outcome::Delivered;
use crate::sink::{Sink, Target};
use crate::{ConfigError, Error};

mod inline;
pub(crate) mod memory;
pub mod outbox;
#[cfg(feature = "redis")]
pub mod redis;
pub(crate) mod retry;

/// Where `log_change` sends rows; decided once, when the auditor is built.
pub(crate) enum Transport {
    /// ASYNC off: written at once.
    Inline,
    /// ASYNC with `"memory"`: the in-process writer.
    Memory(memory::Writer),
    /// ASYNC with `"outbox"`: the outbox table, in the same transaction.
    Outbox,
    /// ASYNC with `"redis"`: a Redis stream.
    #[cfg(feature = "redis")]
    Redis(redis::Producer),
}

impl Transport {
    /// The transport `config` asks for.
    pub(crate) fn from_config(config: &AuditConfig) -> Result<Self, ConfigError> {
        if !config.async_ {
            return Ok(Transport::Inline);
        }
        Ok(match config.async_transport {
            AsyncTransport::Memory => Transport::Memory(memory::Writer::new(config)),
            AsyncTransport::Outbox => Transport::Outbox,
            #[cfg(feature = "redis")]
            AsyncTransport::Redis => Transport::Redis(redis::Producer::new(config)?),
            #[cfg(not(feature = "redis"))]
            AsyncTransport::Redis => {
                return Err(ConfigError::Invalid {
                    key: "ASYNC_TRANSPORT",
                    value: "redis".to_owned(),
                    reason:
                        "the `redis` transport needs the cargo feature `redis` of awesome-audit-log"
                            .to_owned(),
                });
            }
        })
    }

    /// The table kind rows are written to where they are written in a
    /// database: the outbox for the outbox transport, else the log table.
    pub(crate) fn target(&self) -> Target {
        match self {
            Transport::Outbox => Target::Outbox,
            _ => Target::Log,
        }
    }

    /// Whether rows carry event ids: transports that deliver them later
    /// (and may retry), exactly once by their id.
    pub(crate) fn event_ids(&self) -> bool {
        match self {
            Transport::Inline => false,
            Transport::Memory(_) | Transport::Outbox => true,
            #[cfg(feature = "redis")]
            Transport::Redis(_) => true,
        }
    }

    /// Sends the rows of `log_table` on their way.
    pub(crate) async fn dispatch(
        &self,
        sink: &Arc<Sink>,
        log_table: &'static str,
        rows: Vec<LogEvent>,
    ) -> Result<Delivered, Error> {
        match self {
            Transport::Inline => inline::write(sink, Target::Log, log_table, &rows).await,
            Transport::Outbox => inline::write(sink, Target::Outbox, log_table, &rows).await,
            Transport::Memory(writer) => writer.enqueue(sink, log_table, rows).await,
            #[cfg(feature = "redis")]
            Transport::Redis(producer) => producer.deliver(sink, log_table, rows).await,
        }
    }

    /// Waits until every row queued so far is written (the in-process
    /// writer; the other transports keep nothing in the process).
    pub(crate) async fn flush(&self, sink: &Arc<Sink>) {
        if let Transport::Memory(writer) = self {
            writer.flush(sink).await;
        }
    }

    /// Flushes and stops the in-process writer; later rows are written inline.
    pub(crate) async fn shutdown(&self, sink: &Arc<Sink>) {
        if let Transport::Memory(writer) = self {
            writer.shutdown(sink).await;
        }
    }

    /// The transport's name, as ASYNC_TRANSPORT says it (`inline` when
    /// ASYNC is off).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Transport::Inline => "inline",
            Transport::Memory(_) => "memory",
            Transport::Outbox => "outbox",
            #[cfg(feature = "redis")]
            Transport::Redis(_) => "redis",
        }
    }
}
