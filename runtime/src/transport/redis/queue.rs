//! [`BrokerQueue`]: the stream, its consumer group and its dead-letter
//! stream seen from outside the workers, for a health endpoint, a
//! dashboard or the `awesome-audit-log broker` commands.

use std::fmt;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamInfoConsumersReply, StreamInfoGroupsReply};
use redis::{RedisError, Value};

use super::producer::{connect, open_client};
use crate::Error;
use crate::config::AuditConfig;

/// The broker transport's stream (REDIS_STREAM), its consumer group
/// (REDIS_GROUP) and its dead-letter stream (`<REDIS_STREAM>:dead`), for
/// reading their status and handling the dead letters. Each call opens
/// its own connection (REDIS_TIMEOUT_MS applies); nothing is kept open.
///
/// ```no_run
/// use awesome_audit_log::AuditConfig;
/// use awesome_audit_log::broker::BrokerQueue;
///
/// # async fn example() -> Result<(), awesome_audit_log::Error> {
/// let mut config = AuditConfig::default();
/// config.redis_url = Some("redis://127.0.0.1:6379".to_owned());
/// let queue = BrokerQueue::new(&config)?;
/// let status = queue.status().await?;
/// println!("{} entries waiting, {} dead letters", status.length, status.dead_letters);
/// if let Some(group) = &status.group {
///     for consumer in &group.consumers {
///         println!("{}: {} pending, idle {:?}", consumer.name, consumer.pending, consumer.idle);
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct BrokerQueue {
    pub(super) client: redis::Client,
    pub(super) stream: String,
    pub(super) dead_stream: String,
    pub(super) group: String,
    timeout: Duration,
}

impl fmt::Debug for BrokerQueue {
    // Not the client: its connection info may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrokerQueue")
            .field("stream", &self.stream)
            .field("dead_stream", &self.dead_stream)
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

/// The stream, its group and its dead letters, read by [`BrokerQueue::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrokerStatus {
    /// The stream (REDIS_STREAM).
    pub stream: String,
    /// Whether the stream exists (the first producer or worker makes it).
    pub exists: bool,
    /// Its entries: workers delete what they wrote, so this is the backlog
    /// (entries not yet written, those taken and not yet acknowledged
    /// included).
    pub length: u64,
    /// The consumer group, `None` while no worker has made it.
    pub group: Option<GroupStatus>,
    /// The dead-letter stream (`<REDIS_STREAM>:dead`).
    pub dead_stream: String,
    /// Its entries: events set aside as malformed or refused by the database.
    pub dead_letters: u64,
}

/// The consumer group (REDIS_GROUP), as `XINFO GROUPS` and `XINFO
/// CONSUMERS` give it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupStatus {
    /// The group's name.
    pub name: String,
    /// Entries delivered to a consumer and not yet acknowledged.
    pub pending: u64,
    /// The last entry delivered to the group.
    pub last_delivered_id: String,
    /// Entries the group read so far (Redis 7 and later).
    pub entries_read: Option<u64>,
    /// Entries not yet delivered to the group (Redis 7 and later; `None`
    /// when Redis cannot tell, as after deletions, which workers make).
    pub lag: Option<u64>,
    /// The consumers, by name.
    pub consumers: Vec<ConsumerStatus>,
}

/// One consumer of the group (a worker's name).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerStatus {
    /// The consumer's name.
    pub name: String,
    /// Entries it took and has not acknowledged yet.
    pub pending: u64,
    /// How long since it last read or acknowledged.
    pub idle: Duration,
}

impl BrokerQueue {
    /// The queue of `config`'s REDIS_URL, REDIS_STREAM and REDIS_GROUP;
    /// a missing or invalid REDIS_URL is a configuration error (its
    /// password never shown). Connects on each call, not here.
    pub fn new(config: &AuditConfig) -> Result<Self, Error> {
        Ok(Self {
            client: open_client(config)?,
            stream: config.redis_stream.clone(),
            dead_stream: format!("{}:dead", config.redis_stream),
            group: config.redis_group.clone(),
            timeout: Duration::from_millis(config.redis_timeout_ms.max(1)),
        })
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The dead-letter stream's name.
    pub fn dead_stream(&self) -> &str {
        &self.dead_stream
    }

    /// The consumer group's name.
    pub fn group(&self) -> &str {
        &self.group
    }

    pub(super) fn error(
        &self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Broker {
            stream: self.stream.clone(),
            source: source.into(),
        }
    }

    pub(super) async fn connection(&self) -> Result<MultiplexedConnection, Error> {
        connect(&self.client, self.timeout, self.timeout)
            .await
            .map_err(|e| self.error(e))
    }

    /// Reads the stream's length, its group's pending entries and
    /// consumers, and the dead-letter stream's length. A stream or group
    /// that does not exist yet is reported as such, not as an error; a
    /// key of the stream's name that is not a stream is one.
    pub async fn status(&self) -> Result<BrokerStatus, Error> {
        let mut connection = self.connection().await?;
        let exists = self.is_stream(&mut connection, &self.stream).await?;
        let mut status = BrokerStatus {
            stream: self.stream.clone(),
            exists,
            length: 0,
            group: None,
            dead_stream: self.dead_stream.clone(),
            dead_letters: 0,
        };
        if self.is_stream(&mut connection, &self.dead_stream).await? {
            status.dead_letters = self.length(&mut connection, &self.dead_stream).await?;
        }
        if !exists {
            return Ok(status);
        }
        status.length = self.length(&mut connection, &self.stream).await?;
        let groups: StreamInfoGroupsReply = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&self.stream)
            .query_async(&mut connection)
            .await
            .map_err(|e| self.error(e))?;
        let Some(group) = groups.groups.into_iter().find(|g| g.name == self.group) else {
            return Ok(status);
        };
        let consumers: StreamInfoConsumersReply = redis::cmd("XINFO")
            .arg("CONSUMERS")
            .arg(&self.stream)
            .arg(&self.group)
            .query_async(&mut connection)
            .await
            .map_err(|e| self.error(e))?;
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let mut consumers: Vec<ConsumerStatus> = consumers
            .consumers
            .into_iter()
            .map(|consumer| ConsumerStatus {
                name: consumer.name,
                pending: count(consumer.pending),
                idle: Duration::from_millis(count(consumer.idle)),
            })
            .collect();
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        status.group = Some(GroupStatus {
            name: group.name,
            pending: count(group.pending),
            last_delivered_id: group.last_delivered_id,
            entries_read: group.entries_read.map(count),
            lag: group.lag.map(count),
            consumers,
        });
        Ok(status)
    }

    /// Whether `key` holds a stream: `false` when there is no such key, an
    /// error when it holds something else.
    async fn is_stream(
        &self,
        connection: &mut MultiplexedConnection,
        key: &str,
    ) -> Result<bool, Error> {
        let kind: Value = redis::cmd("TYPE")
            .arg(key)
            .query_async(connection)
            .await
            .map_err(|e| self.error(e))?;
        let kind = match &kind {
            Value::SimpleString(text) => text.as_str(),
            Value::BulkString(bytes) => std::str::from_utf8(bytes).unwrap_or("?"),
            _ => "?",
        };
        match kind {
            "none" => Ok(false),
            "stream" => Ok(true),
            other => Err(self.error(format!("the key `{key}` holds a {other}, not a stream"))),
        }
    }

    async fn length(
        &self,
        connection: &mut MultiplexedConnection,
        key: &str,
    ) -> Result<u64, Error> {
        redis::cmd("XLEN")
            .arg(key)
            .query_async(connection)
            .await
            .map_err(|e: RedisError| self.error(e))
    }
}
