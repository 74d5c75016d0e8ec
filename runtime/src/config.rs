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
//! | `RAISE_ERROR_IF_DB_UNAVAILABLE` | `false` | a missing or unreachable audit database is an error (else: warn, count, skip) |
//! | `FALLBACK_TO_DEFAULT` | `false` | with RAISE off: write to `default` when the audit alias is missing or down |
//! | `BULK_CHUNK_SIZE` | none | rows per multi-row INSERT; none = from the backend's bind limit |
//! | `LOG_UNCHANGED_UPDATES` | `false` | also log updates that changed no stored field (the original always does) |
//!
//! In a TOML file keys may be written in upper or lower case; environment
//! variables are named `AWESOME_AUDIT_LOG_<KEY>` and override the file.
//! Lists are TOML arrays or, in variables, comma-separated.
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
use std::path::Path;

use awesome_audit_log_codegen::ident::{MAX_IDENTIFIER_LEN, is_model_label, is_plain_identifier};
use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
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
            raise_error_if_db_unavailable: false,
            fallback_to_default: false,
            bulk_chunk_size: None,
            log_unchanged_updates: false,
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
