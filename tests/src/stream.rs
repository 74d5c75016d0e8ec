//! A Redis stream of a test's own, for the broker transport's tests and
//! the tool's: a unique name, the configuration that uses it, and its
//! deletion (with its dead-letter stream) when dropped.

use std::sync::atomic::{AtomicU32, Ordering};

use awesome_audit_log::AuditConfig;
use awesome_audit_log::config::AsyncTransport;
use redis::aio::MultiplexedConnection;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A stream of the test's own (and its dead-letter stream), deleted on drop.
pub struct TestStream {
    /// The Redis server.
    pub url: String,
    /// The stream's name, unique in this process and among processes.
    pub name: String,
}

impl TestStream {
    /// A new stream name on the server at `url`.
    pub fn new(url: &str) -> TestStream {
        TestStream {
            url: url.to_owned(),
            name: format!(
                "aal_test_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }

    /// The dead-letter stream's name.
    pub fn dead(&self) -> String {
        format!("{}:dead", self.name)
    }

    /// ASYNC with the broker transport on this stream, with short retries.
    pub fn config(&self) -> AuditConfig {
        let mut config = AuditConfig::default();
        config.async_ = true;
        config.async_transport = AsyncTransport::Redis;
        config.redis_url = Some(self.url.clone());
        config.redis_stream = self.name.clone();
        config.async_retry_base_ms = 20;
        config.async_retry_max_ms = 200;
        config
    }

    /// A connection to the server.
    pub async fn connection(&self) -> MultiplexedConnection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// The length of `stream`.
    pub async fn len(&self, stream: &str) -> usize {
        redis::cmd("XLEN")
            .arg(stream)
            .query_async(&mut self.connection().await)
            .await
            .unwrap()
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        let deleted = redis::Client::open(self.url.as_str()).and_then(|client| {
            let mut connection = client.get_connection()?;
            redis::cmd("DEL")
                .arg(&self.name)
                .arg(self.dead())
                .query::<()>(&mut connection)
        });
        if let Err(e) = deleted {
            eprintln!("could not delete test stream {}: {e}", self.name);
        }
    }
}
