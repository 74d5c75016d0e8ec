//! The producer side: `log_change` publishes each call's rows to the stream
//! in one `MULTI` / `EXEC`, and the connection helpers the worker shares.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError};
use tokio::sync::Mutex;

use super::wire::{FORMAT, encode};
use crate::Error;
use crate::config::{AuditConfig, ConfigError, RedactedUrl};
use crate::event::LogEvent;
use crate::outcome::Delivered;
use crate::sink::{Counters, Sink};

/// Publishes events to the stream (held by the auditor's transport).
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

    /// Publishes `rows`; a failure is an error with
    /// RAISE_ERROR_IF_DB_UNAVAILABLE, else a counted warning.
    pub(crate) async fn deliver(
        &self,
        sink: &Arc<Sink>,
        log_table: &str,
        rows: Vec<LogEvent>,
    ) -> Result<Delivered, Error> {
        let count = rows.len();
        let broker_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Broker {
            stream: self.stream.clone(),
            source,
        };
        let entries = rows
            .iter()
            .map(encode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| broker_error(Box::new(e)))?;
        match self.publish(log_table, &rows, &entries).await {
            Ok(()) => {
                Counters::add(&sink.stats().queued, count);
                Ok(Delivered {
                    queued: count,
                    ..Delivered::default()
                })
            }
            Err(source) if sink.config().raise_error_if_db_unavailable => {
                Counters::add(&sink.stats().failed, count);
                Err(broker_error(Box::new(source)))
            }
            Err(source) => {
                sink.skip(
                    log_table,
                    count,
                    &format!(
                        "audit broker stream `{}` is unavailable: {source}",
                        self.stream
                    ),
                );
                Ok(Delivered {
                    skipped: count,
                    ..Delivered::default()
                })
            }
        }
    }

    /// Adds one entry per row, all or none (`MULTI` / `EXEC`).
    async fn publish(
        &self,
        log_table: &str,
        rows: &[LogEvent],
        events: &[String],
    ) -> Result<(), RedisError> {
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
        for (row, event) in rows.iter().zip(events) {
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
                .arg(event)
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

/// The client for REDIS_URL.
pub(super) fn open_client(config: &AuditConfig) -> Result<redis::Client, ConfigError> {
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
        value: RedactedUrl(url).to_string(),
        reason: e.to_string(),
    })
}

/// A multiplexed connection with the given timeouts.
pub(super) async fn connect(
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
