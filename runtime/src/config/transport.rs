//! How ASYNC rows reach the log tables: the transport (`ASYNC_TRANSPORT`)
//! and what a full in-process queue does to the caller (`ASYNC_QUEUE_FULL`).

use serde::{Deserialize, Serialize};

/// How ASYNC log rows travel to the log tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AsyncTransport {
    /// A bounded in-process queue drained by a background task.
    #[default]
    Memory,
    /// An outbox table in the changed data's database, written in the
    /// caller's transaction and drained by [`crate::outbox::OutboxWorker`]s.
    Outbox,
    /// A Redis stream (REDIS_URL, REDIS_STREAM), consumed by broker workers
    /// in a consumer group (REDIS_GROUP); needs the cargo feature `redis`.
    Redis,
}

/// What `log_change` does when the background writer's queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueFull {
    /// Wait for room: nothing is lost, the caller slows down.
    #[default]
    Wait,
    /// Drop the newest row with a warning, counted in `AuditStats::dropped`.
    Drop,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuditConfig;

    #[test]
    fn redis_transport_keys() {
        let config = AuditConfig::default();
        assert_eq!(config.async_transport, AsyncTransport::Memory);
        assert_eq!(config.redis_url, None);
        assert_eq!(config.redis_stream, "awesome_audit_log");
        assert_eq!(config.redis_group, "awesome_audit_log_writers");
        assert_eq!(config.redis_claim_idle_ms, 60_000);

        let config = AuditConfig::from_toml_str(
            "ASYNC = true\nASYNC_TRANSPORT = \"redis\"\nREDIS_URL = \"redis://127.0.0.1:6379/2\"\nredis_stream = \"audit\"\nREDIS_CLAIM_IDLE_MS = 500",
        )
        .unwrap();
        assert_eq!(config.async_transport, AsyncTransport::Redis);
        assert_eq!(
            config.redis_url.as_deref(),
            Some("redis://127.0.0.1:6379/2")
        );
        assert_eq!(config.redis_stream, "audit");
        assert_eq!(config.redis_claim_idle_ms, 500);

        let err = AuditConfig::from_toml_str("ASYNC = true\nASYNC_TRANSPORT = \"redis\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("REDIS_URL"), "{err}");
        let err = AuditConfig::from_toml_str("REDIS_GROUP = \" \"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("REDIS_GROUP"), "{err}");
        let err = AuditConfig::from_toml_str("ASYNC_TRANSPORT = \"kafka\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("kafka"), "{err}");
    }
}
