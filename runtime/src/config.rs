//! The audit configuration: the Django original's settings, with the same
//! keys and defaults, built in code or loaded from TOML and the environment.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `ENABLED` | `true` | master switch; off means nothing is logged |
//! | `DATABASE_ALIAS` | `"default"` | which configured database receives the log tables |
//! | `PG_SCHEMA` | none (`public`) | PostgreSQL schema of the log tables |
//! | `ASYNC` | `false` | write logs in the background instead of inline |
//! | `AUDIT_MODELS` | `"all"` | `"all"`, or the labels (`app.model`) to audit |
//! | `NOT_AUDIT_MODELS` | none | labels never to audit; wins over `AUDIT_MODELS` |
//! | `CAPTURE_HTTP` | `true` | fill the context from HTTP requests |
//! | `CAPTURE_COMMANDS` | `true` | fill the context in command-line commands |
//! | `CAPTURE_CELERY` (alias `CAPTURE_JOBS`) | `true` | fill the context in background jobs |
//! | `TRUSTED_PROXIES` | none | ours: addresses or CIDR networks of reverse proxies whose `X-Forwarded-For` / `Forwarded` headers the HTTP layer believes |
//! | `RAISE_ERROR_IF_DB_UNAVAILABLE` | `false` | a missing or unreachable audit database is an error (else: warn, count, skip) |
//! | `FALLBACK_TO_DEFAULT` | `false` | with RAISE off: write to `default` when the audit alias is missing or down |
//! | `BULK_CHUNK_SIZE` | none | rows per multi-row INSERT; none = from the backend's bind limit |
//! | `LOG_UNCHANGED_UPDATES` | `false` | also log updates that changed no stored field (the original always does) |
//! | `ASYNC_TRANSPORT` | `"memory"` | `"memory"`: an in-process queue and writer task; `"outbox"`: a durable outbox table in the changed data's database, drained by workers; `"redis"`: a Redis stream drained by broker workers (cargo feature `redis`) |
//! | `ASYNC_QUEUE_SIZE` | `10000` | changes the background writer's queue holds |
//! | `ASYNC_QUEUE_FULL` | `"wait"` | `"wait"` for room (nothing lost) or `"drop"` the newest row (warned, counted) |
//! | `ASYNC_BATCH_SIZE` | `500` | rows the writer gathers into one batch |
//! | `ASYNC_LINGER_MS` | `5` | how long the writer waits for more rows before writing |
//! | `ASYNC_RETRY_BASE_MS` | `100` | first backoff while the database is down; doubles, with jitter |
//! | `ASYNC_RETRY_MAX_MS` | `30000` | longest backoff |
//! | `ASYNC_MAX_RETRIES` | none | tries before a batch goes to RAISE / FALLBACK handling; none = until the database is back |
//! | `REDIS_URL` | none | the Redis server of the `"redis"` transport (`redis://127.0.0.1:6379/0`); required with it |
//! | `REDIS_STREAM` | `"awesome_audit_log"` | the stream the events are added to; rows that cannot be written go to `<REDIS_STREAM>:dead` |
//! | `REDIS_GROUP` | `"awesome_audit_log_writers"` | the consumer group the broker workers share |
//! | `REDIS_CLAIM_IDLE_MS` | `60000` | how long an event stays unacknowledged with a consumer before another one reclaims it |
//! | `REDIS_TIMEOUT_MS` | `5000` | connect and reply timeout of the Redis commands `log_change` waits for |
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

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

use crate::context::EntryPoint;
use awesome_audit_log_codegen::ident::{MAX_IDENTIFIER_LEN, is_model_label, is_plain_identifier};
use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use ipnet::IpNet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "AWESOME_AUDIT_LOG_";

/// The audit settings. Every key is optional; see the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The alias FALLBACK_TO_DEFAULT falls back to.
pub const DEFAULT_ALIAS: &str = "default";

/// A configuration that could not be loaded or is invalid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A file or variable could not be read or parsed; the message names the
    /// key, the value and where it came from.
    #[error("invalid audit configuration: {0}")]
    Load(String),
    /// A key holds a value that is not allowed.
    #[error("invalid audit configuration: {key} = {value:?}: {reason}")]
    Invalid {
        /// The key, as the original names it (`PG_SCHEMA`).
        key: &'static str,
        /// The offending value.
        value: String,
        /// Why it is rejected.
        reason: String,
    },
}

impl AuditConfig {
    /// The defaults overridden by `AWESOME_AUDIT_LOG_*` environment variables.
    ///
    /// ```
    /// // With AWESOME_AUDIT_LOG_ENABLED=false in the environment, `enabled` is false.
    /// let config = awesome_audit_log::AuditConfig::from_env().unwrap();
    /// # let _ = config;
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_figment(Figment::new().merge(env_provider()))
    }

    /// The defaults, overridden by the TOML file at `path`, overridden by
    /// `AWESOME_AUDIT_LOG_*` environment variables. A missing file is an error.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(ConfigError::Load(format!(
                "configuration file {} does not exist",
                path.display()
            )));
        }
        Self::from_figment(
            Figment::new()
                .merge(LowercaseKeys(Toml::file_exact(path)))
                .merge(env_provider()),
        )
    }

    /// The defaults overridden by TOML text (no environment variables).
    pub fn from_toml_str(toml: &str) -> Result<Self, ConfigError> {
        Self::from_figment(Figment::new().merge(LowercaseKeys(Toml::string(toml))))
    }

    /// Extracts and validates a configuration from any figment, for
    /// applications that compose their own sources.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: AuditConfig = figment.extract().map_err(|errors| {
            ConfigError::Load(
                errors
                    .into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that parse but are not allowed. Called by every loader
    /// and by [`crate::Auditor::builder`]'s `build`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(schema) = &self.pg_schema
            && (!is_plain_identifier(schema) || schema.len() > MAX_IDENTIFIER_LEN)
        {
            return Err(ConfigError::Invalid {
                key: "PG_SCHEMA",
                value: schema.clone(),
                reason: format!(
                    "a schema must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most {MAX_IDENTIFIER_LEN} characters)"
                ),
            });
        }

        if self.database_alias.is_empty() {
            return Err(ConfigError::Invalid {
                key: "DATABASE_ALIAS",
                value: String::new(),
                reason: "the alias must not be empty".to_owned(),
            });
        }
        for (key, value) in [
            ("ASYNC_QUEUE_SIZE", self.async_queue_size),
            ("ASYNC_BATCH_SIZE", self.async_batch_size),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    value: "0".to_owned(),
                    reason: "must be at least 1".to_owned(),
                });
            }
        }
        if self.async_ && self.async_transport == AsyncTransport::Redis && self.redis_url.is_none()
        {
            return Err(ConfigError::Invalid {
                key: "REDIS_URL",
                value: String::new(),
                reason: "ASYNC_TRANSPORT = \"redis\" needs the URL of the Redis server".to_owned(),
            });
        }
        for (key, value) in [
            ("REDIS_STREAM", &self.redis_stream),
            ("REDIS_GROUP", &self.redis_group),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::Invalid {
                    key,
                    value: value.clone(),
                    reason: "must not be empty".to_owned(),
                });
            }
        }
        if self.bulk_chunk_size == Some(0) {
            return Err(ConfigError::Invalid {
                key: "BULK_CHUNK_SIZE",
                value: "0".to_owned(),
                reason: "a chunk holds at least one row".to_owned(),
            });
        }
        let lists = [
            ("AUDIT_MODELS", self.audit_models.labels()),
            ("NOT_AUDIT_MODELS", Some(&self.not_audit_models.0)),
        ];
        for (key, labels) in lists {
            for label in labels.into_iter().flatten() {
                if !is_model_label(label) {
                    return Err(ConfigError::Invalid {
                        key,
                        value: label.clone(),
                        reason: "a model label has the form \"app.model\"".to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

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

fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX)
}

/// Which models AUDIT_MODELS selects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModelSelection {
    /// Every audited model (`"all"`).
    #[default]
    All,
    /// Only these labels (`app.model`, lower case).
    Only(BTreeSet<String>),
}

impl ModelSelection {
    /// The listed labels, `None` for `All`.
    pub fn labels(&self) -> Option<&BTreeSet<String>> {
        match self {
            ModelSelection::All => None,
            ModelSelection::Only(labels) => Some(labels),
        }
    }
}

/// A set of model labels (NOT_AUDIT_MODELS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelList(pub BTreeSet<String>);

impl Serialize for ModelSelection {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ModelSelection::All => serializer.serialize_str("all"),
            ModelSelection::Only(labels) => labels.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ModelSelection {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LabelsVisitor { allow_all: true })
    }
}

impl Serialize for ModelList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ModelList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match deserializer.deserialize_any(LabelsVisitor { allow_all: false })? {
            ModelSelection::Only(labels) => Ok(ModelList(labels)),
            ModelSelection::All => Ok(ModelList::default()),
        }
    }
}

/// Accepts `"all"`, a comma-separated string, or a list of strings; labels
/// are trimmed and lower-cased.
struct LabelsVisitor {
    allow_all: bool,
}

impl<'de> Visitor<'de> for LabelsVisitor {
    type Value = ModelSelection;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.allow_all {
            f.write_str("\"all\", a list of model labels, or a comma-separated string of them")
        } else {
            f.write_str("a list of model labels, or a comma-separated string of them")
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if self.allow_all && value.trim().eq_ignore_ascii_case("all") {
            return Ok(ModelSelection::All);
        }
        Ok(ModelSelection::Only(
            value
                .split(',')
                .map(str::trim)
                .filter(|label| !label.is_empty())
                .map(str::to_lowercase)
                .collect(),
        ))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(if self.allow_all {
            ModelSelection::All
        } else {
            ModelSelection::Only(BTreeSet::new())
        })
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut labels = BTreeSet::new();
        while let Some(label) = seq.next_element::<String>()? {
            labels.insert(label.trim().to_lowercase());
        }
        Ok(ModelSelection::Only(labels))
    }
}

/// TRUSTED_PROXIES: the reverse proxies whose `X-Forwarded-For` /
/// `Forwarded` headers are believed, as IP addresses or CIDR networks.
/// Written as a list or a comma-separated string; an entry that is neither
/// an address nor a network is an error naming it.
///
/// ```
/// use awesome_audit_log::config::TrustedProxies;
///
/// let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.7, ::1".parse().unwrap();
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(proxies.contains("192.0.2.7".parse().unwrap()));
/// assert!(!proxies.contains("192.0.2.8".parse().unwrap()));
/// // An IPv4 peer seen on a dual-stack socket matches its IPv4 entry.
/// assert!(proxies.contains("::ffff:10.0.0.1".parse().unwrap()));
///
/// let err = "10.0.0.0/8, proxy.local".parse::<TrustedProxies>().unwrap_err();
/// assert!(err.to_string().contains("TRUSTED_PROXIES") && err.to_string().contains("proxy.local"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// The given networks (use `IpNet::from(addr)` for one address).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        TrustedProxies(networks.into_iter().collect())
    }

    /// Whether `addr` is one of the proxies. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) are compared as the IPv4 address they carry.
    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.0.iter().any(|net| net.contains(&addr))
    }

    /// Whether no proxy is trusted (the default).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The networks, in the order given.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    fn parse_entry(entry: &str) -> Result<IpNet, ConfigError> {
        let entry = entry.trim();
        IpNet::from_str(entry)
            .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
            .map_err(|_| ConfigError::Invalid {
                key: "TRUSTED_PROXIES",
                value: entry.to_owned(),
                reason: "not an IP address or CIDR network (such as 10.0.0.0/8)".to_owned(),
            })
    }
}

impl FromStr for TrustedProxies {
    type Err = ConfigError;

    /// Parses a comma-separated list; empty entries are ignored.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(TrustedProxies::parse_entry)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }
}

impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TrustedProxiesVisitor)
    }
}

struct TrustedProxiesVisitor;

impl<'de> Visitor<'de> for TrustedProxiesVisitor {
    type Value = TrustedProxies;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of IP addresses or CIDR networks, or a comma-separated string of them")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        value.parse().map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(TrustedProxies::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut networks = Vec::new();
        while let Some(entry) = seq.next_element::<String>()? {
            networks.push(TrustedProxies::parse_entry(&entry).map_err(de::Error::custom)?);
        }
        Ok(TrustedProxies(networks))
    }
}

/// Lower-cases the top-level keys of a provider, so `ENABLED` and `enabled`
/// name the same setting in a file.
struct LowercaseKeys<P>(P);

impl<P: Provider> Provider for LowercaseKeys<P> {
    fn metadata(&self) -> Metadata {
        self.0.metadata()
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(self
            .0
            .data()?
            .into_iter()
            .map(|(profile, dict)| {
                let dict = dict
                    .into_iter()
                    .map(|(key, value)| (key.to_lowercase(), value))
                    .collect();
                (profile, dict)
            })
            .collect())
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

    #[test]
    fn upper_and_lower_case_keys_and_both_list_forms() {
        let config = AuditConfig::from_toml_str(
            "ENABLED = false\npg_schema = \"audit\"\nAUDIT_MODELS = \"Shop.Widget, shop.order\"\nCAPTURE_JOBS = false\nBULK_CHUNK_SIZE = 100",
        )
        .unwrap();
        assert!(!config.enabled);
        assert_eq!(config.pg_schema.as_deref(), Some("audit"));
        assert_eq!(
            config
                .audit_models
                .labels()
                .unwrap()
                .iter()
                .collect::<Vec<_>>(),
            ["shop.order", "shop.widget"]
        );
        assert!(!config.capture_celery);
        assert_eq!(config.bulk_chunk_size, Some(100));
    }

    #[test]
    fn invalid_values_name_the_key_and_value() {
        let err = AuditConfig::from_toml_str("ENABLED = \"maybe\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("enabled") && err.contains("maybe"), "{err}");

        let err = AuditConfig::from_toml_str("PG_SCHEMA = \"audit; drop\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PG_SCHEMA") && err.contains("audit; drop"),
            "{err}"
        );

        let err = AuditConfig::from_toml_str("AUDIT_MODELS = [\"widget\"]")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AUDIT_MODELS") && err.contains("widget"),
            "{err}"
        );

        let err = AuditConfig::from_toml_str("BULK_CHUNK_SIZE = 0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("BULK_CHUNK_SIZE"), "{err}");

        let err = AuditConfig::from_toml_str("ENABELD = true")
            .unwrap_err()
            .to_string();
        assert!(err.contains("enabeld"), "{err}");
    }

    #[test]
    fn trusted_proxies_from_a_list_or_a_string() {
        let config = AuditConfig::from_toml_str(
            "TRUSTED_PROXIES = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]",
        )
        .unwrap();
        let proxies = &config.trusted_proxies;
        assert_eq!(proxies.networks().len(), 3);
        assert!(proxies.contains("127.0.0.1".parse().unwrap()));
        assert!(!proxies.contains("127.0.0.2".parse().unwrap()));
        assert!(proxies.contains("10.200.0.1".parse().unwrap()));
        assert!(proxies.contains("::1".parse().unwrap()));
        assert!(proxies.contains("::ffff:127.0.0.1".parse().unwrap()));

        let config =
            AuditConfig::from_toml_str("trusted_proxies = \"192.0.2.0/24, 2001:db8::/32,\"")
                .unwrap();
        assert_eq!(
            config
                .trusted_proxies
                .networks()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["192.0.2.0/24", "2001:db8::/32"]
        );
        // Round trip through serde.
        let json = serde_json::to_string(&config.trusted_proxies).unwrap();
        assert_eq!(json, r#"["192.0.2.0/24","2001:db8::/32"]"#);

        for bad in [
            "TRUSTED_PROXIES = \"10.0.0.0/33\"",
            "TRUSTED_PROXIES = [\"proxy.local\"]",
        ] {
            let err = AuditConfig::from_toml_str(bad).unwrap_err().to_string();
            assert!(err.contains("TRUSTED_PROXIES"), "{err}");
            assert!(
                err.contains("10.0.0.0/33") || err.contains("proxy.local"),
                "{err}"
            );
        }
    }

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

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
    fn environment_overrides_the_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("audit.toml", "DATABASE_ALIAS = \"file\"\nASYNC = true")?;
            jail.set_env("AWESOME_AUDIT_LOG_DATABASE_ALIAS", "audit");
            jail.set_env(
                "AWESOME_AUDIT_LOG_AUDIT_MODELS",
                "shop.widget,shop.category",
            );
            jail.set_env("AWESOME_AUDIT_LOG_ENABLED", "false");
            let config = AuditConfig::from_toml_file("audit.toml").unwrap();
            assert_eq!(config.database_alias, "audit");
            assert!(config.async_);
            assert!(!config.enabled);
            assert_eq!(config.audit_models.labels().unwrap().len(), 2);

            jail.set_env("AWESOME_AUDIT_LOG_TRUSTED_PROXIES", "127.0.0.1,10.0.0.0/8");
            let config = AuditConfig::from_env().unwrap();
            assert!(config.trusted_proxies.contains("10.9.8.7".parse().unwrap()));
            assert_eq!(config.trusted_proxies.networks().len(), 2);
            jail.set_env("AWESOME_AUDIT_LOG_TRUSTED_PROXIES", "127.0.0.1,not-an-ip");
            let err = AuditConfig::from_env().unwrap_err().to_string();
            assert!(
                err.contains("TRUSTED_PROXIES") && err.contains("not-an-ip"),
                "{err}"
            );
            jail.set_env("AWESOME_AUDIT_LOG_TRUSTED_PROXIES", "");

            jail.set_env("AWESOME_AUDIT_LOG_BULK_CHUNK_SIZE", "lots");
            let err = AuditConfig::from_env().unwrap_err().to_string();
            assert!(
                err.contains("lots")
                    && err.contains("BULK_CHUNK_SIZE")
                    && err.contains("AWESOME_AUDIT_LOG_"),
                "{err}"
            );
            Ok(())
        });
    }
}
