//! The audit configuration: the Django original's settings, with the same
//! keys and defaults, built in code or loaded from TOML and the environment.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `ENABLED` | `true` | master switch; off means nothing is logged |
//! | `DATABASE_ALIAS` | `"default"` | which configured database receives the log tables |
//! | `PG_SCHEMA` | none (`public`) | PostgreSQL schema of the log tables; a plain identifier not starting with `pg_` (PostgreSQL reserves those) |
//! | `ASYNC` | `false` | write logs in the background instead of inline |
//! | `AUDIT_MODELS` | `"all"` | `"all"`, or the labels (`app.model`) to audit; an empty list is an error |
//! | `NOT_AUDIT_MODELS` | none | labels never to audit; wins over `AUDIT_MODELS` |
//! | `CAPTURE_HTTP` | `true` | fill the context from HTTP requests |
//! | `CAPTURE_COMMANDS` | `true` | fill the context in command-line commands |
//! | `CAPTURE_CELERY` (alias `CAPTURE_JOBS`) | `true` | fill the context in background jobs |
//! | `TRUSTED_PROXIES` | none | ours: addresses or CIDR networks of reverse proxies whose `X-Forwarded-For` / `Forwarded` headers the HTTP layer believes |
//! | `RAISE_ERROR_IF_DB_UNAVAILABLE` | `false` | a missing or unreachable audit database is an error (else: warn, count, skip) |
//! | `FALLBACK_TO_DEFAULT` | `false` | with RAISE off: write to `default` when the audit alias is missing or down |
//! | `BULK_CHUNK_SIZE` | none | rows per multi-row INSERT, 1 to 3855 (1927 when a database is SQLite); none = from the backend's bind limit |
//! | `LOG_UNCHANGED_UPDATES` | `false` | also log updates that changed no stored field (the original always does) |
//! | `ASYNC_TRANSPORT` | `"memory"` | `"memory"`: an in-process queue and writer task; `"outbox"`: a durable outbox table in the changed data's database, drained by workers; `"redis"`: a Redis stream drained by broker workers (cargo feature `redis`) |
//! | `ASYNC_QUEUE_SIZE` | `10000` | changes the background writer's queue holds, 1 to 2^61 − 1 |
//! | `ASYNC_QUEUE_FULL` | `"wait"` | `"wait"` for room (nothing lost) or `"drop"` the newest row (warned, counted) |
//! | `ASYNC_BATCH_SIZE` | `500` | rows the writer gathers into one batch, at least 1 |
//! | `ASYNC_LINGER_MS` | `5` | how long the writer waits for more rows before writing, 0 to one day |
//! | `ASYNC_RETRY_BASE_MS` | `100` | first backoff while the database is down; doubles, with jitter; 1 ms to ASYNC_RETRY_MAX_MS |
//! | `ASYNC_RETRY_MAX_MS` | `30000` | longest backoff, 1 ms to one day |
//! | `ASYNC_MAX_RETRIES` | none | tries before a batch goes to RAISE / FALLBACK handling (0: at the first failure); none = until the database is back |
//! | `REDIS_URL` | none | the Redis server of the `"redis"` transport (`redis://127.0.0.1:6379/0`); required with it; its password is masked wherever it is shown ([`RedactedUrl`]) |
//! | `REDIS_STREAM` | `"awesome_audit_log"` | the stream the events are added to; rows that cannot be written go to `<REDIS_STREAM>:dead` |
//! | `REDIS_GROUP` | `"awesome_audit_log_writers"` | the consumer group the broker workers share |
//! | `REDIS_CLAIM_IDLE_MS` | `60000` | how long an event stays unacknowledged with a consumer before another one reclaims it, 1 ms to one day |
//! | `REDIS_TIMEOUT_MS` | `5000` | connect and reply timeout of the Redis commands `log_change` waits for, 1 ms to one day |
//!
//! Every number is range-checked when a configuration is loaded or
//! validated, so no setting can make the auditor panic or overflow: a
//! duration (`*_MS`) is at most one day (86 400 000 ms), and a value out of
//! range is a [`ConfigError::Invalid`] naming the key, the value and the
//! bounds. BULK_CHUNK_SIZE is also checked against each database when the
//! auditor is built: a row binds up to 16 parameters, SQLite takes 32766 in
//! one statement, MySQL / MariaDB 65535.
//!
//! In a TOML file keys may be written in upper or lower case; environment
//! variables are named `AWESOME_AUDIT_LOG_<KEY>` and override the file.
//! Lists are TOML arrays or, in variables, comma-separated
//! (`AWESOME_AUDIT_LOG_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7`).
//!
//! ```
//! use awesome_audit_log::AuditConfig;
//!
//! let config = AuditConfig::from_toml_str(r#"
//!     DATABASE_ALIAS = "audit"
//!     AUDIT_MODELS = ["shop.widget", "shop.order"]
//!     not_audit_models = "shop.order"
//! "#).unwrap();
//! assert_eq!(config.database_alias, "audit");
//! assert!(config.is_audited("shop.widget"));
//! assert!(!config.is_audited("shop.order"));
//! assert!(!config.is_audited("shop.customer"));
//! ```

mod load;
mod model_lists;
mod redact;
mod transport;
mod trusted_proxies;
mod validate;

pub use self::load::ENV_PREFIX;
pub use self::model_lists::{ModelList, ModelSelection};
pub use self::redact::RedactedUrl;
pub(crate) use self::redact::redact_urls_in;
pub use self::transport::{AsyncTransport, QueueFull};
pub use self::trusted_proxies::TrustedProxies;
pub use self::validate::ConfigError;
pub(crate) use self::validate::{bind_limit, binds_per_row, max_chunk_size};

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::context::EntryPoint;

/// The audit settings. Every key is optional; see the [module docs](self).
///
/// Its `Debug` output masks the password of REDIS_URL (see [`RedactedUrl`]),
/// so a configuration can be logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditConfig {
    /// `ENABLED`: master switch.
    pub enabled: bool,
    /// `DATABASE_ALIAS`: the alias whose database holds the log tables.
    pub database_alias: String,
    /// `PG_SCHEMA`: PostgreSQL schema of the log tables (`None`: `public`).
    pub pg_schema: Option<String>,
    /// `ASYNC`: write log rows in the background.
    #[serde(rename = "async")]
    pub async_: bool,
    /// `AUDIT_MODELS`: which models are audited.
    pub audit_models: ModelSelection,
    /// `NOT_AUDIT_MODELS`: models never audited; wins over `audit_models`.
    pub not_audit_models: ModelList,
    /// `CAPTURE_HTTP`: fill the context from HTTP requests.
    pub capture_http: bool,
    /// `CAPTURE_COMMANDS`: fill the context in command-line commands.
    pub capture_commands: bool,
    /// `CAPTURE_CELERY` (or `CAPTURE_JOBS`): fill the context in background jobs.
    #[serde(alias = "capture_jobs")]
    pub capture_celery: bool,
    /// `TRUSTED_PROXIES`: reverse proxies whose forwarded-for headers the
    /// HTTP layer believes; from anyone else they are ignored.
    pub trusted_proxies: TrustedProxies,
    /// `RAISE_ERROR_IF_DB_UNAVAILABLE`: a missing or unreachable audit database is
    /// an error for the caller instead of a counted warning.
    pub raise_error_if_db_unavailable: bool,
    /// `FALLBACK_TO_DEFAULT`: with RAISE off, write to the `default` alias
    /// when the audit alias is missing or down.
    pub fallback_to_default: bool,
    /// `BULK_CHUNK_SIZE`: rows per multi-row INSERT (`None`: from the backend's bind limit).
    pub bulk_chunk_size: Option<usize>,
    /// `LOG_UNCHANGED_UPDATES`: log updates whose diff is empty too.
    pub log_unchanged_updates: bool,
    /// `ASYNC_TRANSPORT`: how ASYNC rows travel: an in-process queue, or a
    /// durable outbox table drained by workers.
    pub async_transport: AsyncTransport,
    /// `ASYNC_QUEUE_SIZE`: changes the background writer's queue holds.
    pub async_queue_size: usize,
    /// `ASYNC_QUEUE_FULL`: what a full queue does to the caller.
    pub async_queue_full: QueueFull,
    /// `ASYNC_BATCH_SIZE`: rows the writer gathers into one write.
    pub async_batch_size: usize,
    /// `ASYNC_LINGER_MS`: how long the writer waits for more rows before writing a batch.
    pub async_linger_ms: u64,
    /// `ASYNC_RETRY_BASE_MS`: first backoff while the audit database is down (doubles, with jitter).
    pub async_retry_base_ms: u64,
    /// `ASYNC_RETRY_MAX_MS`: longest backoff between two tries.
    pub async_retry_max_ms: u64,
    /// `ASYNC_MAX_RETRIES`: tries before a batch is given up to RAISE / FALLBACK
    /// handling (`None`: keep trying until the database is back).
    pub async_max_retries: Option<u32>,
    /// `REDIS_URL`: the Redis server of the `"redis"` transport.
    pub redis_url: Option<String>,
    /// `REDIS_STREAM`: the stream events are added to.
    pub redis_stream: String,
    /// `REDIS_GROUP`: the consumer group of the broker workers.
    pub redis_group: String,
    /// `REDIS_CLAIM_IDLE_MS`: how long an event may stay unacknowledged with
    /// one consumer before another reclaims it.
    pub redis_claim_idle_ms: u64,
    /// `REDIS_TIMEOUT_MS`: connect and reply timeout of the Redis commands.
    pub redis_timeout_ms: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            database_alias: DEFAULT_ALIAS.to_owned(),
            pg_schema: None,
            async_: false,
            audit_models: ModelSelection::All,
            not_audit_models: ModelList::default(),
            capture_http: true,
            capture_commands: true,
            capture_celery: true,
            trusted_proxies: TrustedProxies::default(),
            raise_error_if_db_unavailable: false,
            fallback_to_default: false,
            bulk_chunk_size: None,
            log_unchanged_updates: false,
            async_transport: AsyncTransport::Memory,
            async_queue_size: 10_000,
            async_queue_full: QueueFull::Wait,
            async_batch_size: 500,
            async_linger_ms: 5,
            async_retry_base_ms: 100,
            async_retry_max_ms: 30_000,
            async_max_retries: None,
            redis_url: None,
            redis_stream: "awesome_audit_log".to_owned(),
            redis_group: "awesome_audit_log_writers".to_owned(),
            redis_claim_idle_ms: 60_000,
            redis_timeout_ms: 5_000,
        }
    }
}

impl fmt::Debug for AuditConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured, so a new setting cannot be left out of the output.
        let AuditConfig {
            enabled,
            database_alias,
            pg_schema,
            async_,
            audit_models,
            not_audit_models,
            capture_http,
            capture_commands,
            capture_celery,
            trusted_proxies,
            raise_error_if_db_unavailable,
            fallback_to_default,
            bulk_chunk_size,
            log_unchanged_updates,
            async_transport,
            async_queue_size,
            async_queue_full,
            async_batch_size,
            async_linger_ms,
            async_retry_base_ms,
            async_retry_max_ms,
            async_max_retries,
            redis_url,
            redis_stream,
            redis_group,
            redis_claim_idle_ms,
            redis_timeout_ms,
        } = self;
        f.debug_struct("AuditConfig")
            .field("enabled", enabled)
            .field("database_alias", database_alias)
            .field("pg_schema", pg_schema)
            .field("async_", async_)
            .field("audit_models", audit_models)
            .field("not_audit_models", not_audit_models)
            .field("capture_http", capture_http)
            .field("capture_commands", capture_commands)
            .field("capture_celery", capture_celery)
            .field("trusted_proxies", trusted_proxies)
            .field(
                "raise_error_if_db_unavailable",
                raise_error_if_db_unavailable,
            )
            .field("fallback_to_default", fallback_to_default)
            .field("bulk_chunk_size", bulk_chunk_size)
            .field("log_unchanged_updates", log_unchanged_updates)
            .field("async_transport", async_transport)
            .field("async_queue_size", async_queue_size)
            .field("async_queue_full", async_queue_full)
            .field("async_batch_size", async_batch_size)
            .field("async_linger_ms", async_linger_ms)
            .field("async_retry_base_ms", async_retry_base_ms)
            .field("async_retry_max_ms", async_retry_max_ms)
            .field("async_max_retries", async_max_retries)
            .field("redis_url", &redis_url.as_deref().map(RedactedUrl))
            .field("redis_stream", redis_stream)
            .field("redis_group", redis_group)
            .field("redis_claim_idle_ms", redis_claim_idle_ms)
            .field("redis_timeout_ms", redis_timeout_ms)
            .finish()
    }
}

/// The alias FALLBACK_TO_DEFAULT falls back to.
pub const DEFAULT_ALIAS: &str = "default";

impl AuditConfig {
    /// Whether a scope of `entry_point` is filled: ENABLED and, per entry
    /// point, CAPTURE_HTTP, CAPTURE_COMMANDS or CAPTURE_CELERY (`shell`
    /// needs only ENABLED).
    ///
    /// ```
    /// use awesome_audit_log::AuditConfig;
    /// use awesome_audit_log::context::EntryPoint;
    ///
    /// let mut config = AuditConfig::default();
    /// config.capture_http = false;
    /// assert!(!config.captures(EntryPoint::Http));
    /// assert!(config.captures(EntryPoint::CeleryTask));
    /// ```
    pub fn captures(&self, entry_point: EntryPoint) -> bool {
        self.enabled
            && match entry_point {
                EntryPoint::Http => self.capture_http,
                EntryPoint::ManagementCommand => self.capture_commands,
                EntryPoint::CeleryTask => self.capture_celery,
                EntryPoint::Shell => true,
            }
    }

    /// Whether changes of the model labelled `label` are logged: ENABLED, in
    /// AUDIT_MODELS, and not in NOT_AUDIT_MODELS (which wins). Allocates nothing.
    pub fn is_audited(&self, label: &str) -> bool {
        self.enabled
            && !self.not_audit_models.0.contains(label)
            && match &self.audit_models {
                ModelSelection::All => true,
                ModelSelection::Only(labels) => labels.contains(label),
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_originals() {
        let config = AuditConfig::default();
        assert!(config.enabled);
        assert_eq!(config.database_alias, "default");
        assert_eq!(config.pg_schema, None);
        assert!(!config.async_);
        assert_eq!(config.audit_models, ModelSelection::All);
        assert!(config.not_audit_models.0.is_empty());
        assert!(config.capture_http && config.capture_commands && config.capture_celery);
        assert!(!config.raise_error_if_db_unavailable);
        assert!(!config.fallback_to_default);
        assert_eq!(config.bulk_chunk_size, None);
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(AuditConfig::from_toml_str("").unwrap(), config);
    }
}
