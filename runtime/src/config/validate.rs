//! Checking a configuration: [`AuditConfig::validate`] and the
//! [`ConfigError`] that loading or checking reports.

use awesome_audit_log_codegen::ident::{MAX_IDENTIFIER_LEN, is_model_label, is_plain_identifier};

use super::{AsyncTransport, AuditConfig};

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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
