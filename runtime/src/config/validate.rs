//! Checking a configuration: [`AuditConfig::validate`] and the
//! [`ConfigError`] that loading or checking reports.

use std::collections::BTreeSet;

use awesome_audit_log_codegen::ddl::Dialect;
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

/// The longest duration a `*_MS` setting may hold: one day.
pub(crate) const MAX_DURATION_MS: u64 = 24 * 60 * 60 * 1000;

/// The most changes ASYNC_QUEUE_SIZE may hold: the limit of tokio's
/// bounded channel, which the in-process queue is.
pub(crate) const MAX_QUEUE_SIZE: usize = usize::MAX >> 3;

/// Bind parameters of one row in the widest insert: a log row's columns
/// with the event id and the correlation id, plus the outbox's `log_table`
/// (17).
pub(crate) fn binds_per_row() -> usize {
    awesome_audit_log_codegen::ddl::all_insert_columns().len() + 1
}

/// The most bind parameters one statement may carry on `dialect`: 32766 on
/// SQLite (`SQLITE_MAX_VARIABLE_NUMBER`), 65535 on MySQL / MariaDB.
/// PostgreSQL binds one array per column whatever the number of rows, and
/// is held to MySQL's bound (its protocol's own limit) so a chunk stays sane.
pub(crate) const fn bind_limit(dialect: Dialect) -> usize {
    match dialect {
        Dialect::Sqlite => 32_766,
        Dialect::Postgres | Dialect::MySql => 65_535,
    }
}

/// The largest BULK_CHUNK_SIZE `dialect` takes.
pub(crate) fn max_chunk_size(dialect: Dialect) -> usize {
    bind_limit(dialect) / binds_per_row()
}

impl AuditConfig {
    /// Checks values that parse but are not allowed. Called by every loader
    /// and by [`crate::Auditor::builder`]'s `build`.
    ///
    /// Every number is range-checked (see the [module docs](super) for the
    /// limits), so a setting can never make the auditor panic or overflow.
    ///
    /// ```
    /// use awesome_audit_log::{AuditConfig, ConfigError};
    ///
    /// let mut config = AuditConfig::default();
    /// config.async_linger_ms = u64::MAX;
    /// let Err(ConfigError::Invalid { key, .. }) = config.validate() else { panic!() };
    /// assert_eq!(key, "ASYNC_LINGER_MS");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_schema()?;
        if self.database_alias.is_empty() {
            return Err(ConfigError::Invalid {
                key: "DATABASE_ALIAS",
                value: String::new(),
                reason: "the alias must not be empty".to_owned(),
            });
        }
        self.check_numbers()?;
        self.check_redis()?;
        self.check_model_lists()
    }

    fn check_schema(&self) -> Result<(), ConfigError> {
        let Some(schema) = &self.pg_schema else {
            return Ok(());
        };
        let invalid = |reason: String| ConfigError::Invalid {
            key: "PG_SCHEMA",
            value: schema.clone(),
            reason,
        };
        if !is_plain_identifier(schema) || schema.len() > MAX_IDENTIFIER_LEN {
            return Err(invalid(format!(
                "a schema must be a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most {MAX_IDENTIFIER_LEN} characters)"
            )));
        }
        if schema
            .get(..3)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("pg_"))
        {
            return Err(invalid(
                "PostgreSQL reserves schema names starting with `pg_` for the system (creating one fails with error 42939); choose another name".to_owned(),
            ));
        }
        Ok(())
    }

    fn check_numbers(&self) -> Result<(), ConfigError> {
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        // The bound of the most permissive backend; the auditor's builder
        // holds the chunk to each configured database's own.
        let max_chunk = Dialect::ALL
            .into_iter()
            .map(max_chunk_size)
            .max()
            .unwrap_or(1);
        let counts = [
            (
                "ASYNC_QUEUE_SIZE",
                Some(self.async_queue_size),
                1,
                MAX_QUEUE_SIZE,
            ),
            (
                "ASYNC_BATCH_SIZE",
                Some(self.async_batch_size),
                1,
                usize::MAX,
            ),
            ("BULK_CHUNK_SIZE", self.bulk_chunk_size, 1, max_chunk),
        ];
        for (key, value, min, max) in counts {
            if let Some(value) = value {
                in_range(key, as_u64(value), as_u64(min), as_u64(max))?;
            }
        }
        let durations = [
            ("ASYNC_LINGER_MS", self.async_linger_ms, 0),
            ("ASYNC_RETRY_BASE_MS", self.async_retry_base_ms, 1),
            ("ASYNC_RETRY_MAX_MS", self.async_retry_max_ms, 1),
            ("REDIS_CLAIM_IDLE_MS", self.redis_claim_idle_ms, 1),
            ("REDIS_TIMEOUT_MS", self.redis_timeout_ms, 1),
        ];
        for (key, value, min) in durations {
            in_range(key, value, min, MAX_DURATION_MS)?;
        }
        if self.async_retry_base_ms > self.async_retry_max_ms {
            return Err(ConfigError::Invalid {
                key: "ASYNC_RETRY_BASE_MS",
                value: self.async_retry_base_ms.to_string(),
                reason: format!(
                    "the first backoff must not be longer than the longest, ASYNC_RETRY_MAX_MS = {}",
                    self.async_retry_max_ms
                ),
            });
        }
        Ok(())
    }

    fn check_redis(&self) -> Result<(), ConfigError> {
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
        Ok(())
    }

    fn check_model_lists(&self) -> Result<(), ConfigError> {
        if self.audit_models.labels().is_some_and(BTreeSet::is_empty) {
            return Err(ConfigError::Invalid {
                key: "AUDIT_MODELS",
                value: "[]".to_owned(),
                reason: "AUDIT_MODELS is an empty list, which would audit nothing: use \"all\" or name the models".to_owned(),
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

/// `value` of `key` lies in `min..=max`.
fn in_range(key: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    let reason = if max == MAX_DURATION_MS {
        format!("must be between {min} and {max} milliseconds (one day)")
    } else if max == u64::MAX {
        format!("must be at least {min}")
    } else {
        format!("must be between {min} and {max}")
    };
    Err(ConfigError::Invalid {
        key,
        value: value.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelSelection;

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

    /// The key an invalid configuration is reported for.
    fn rejected_key(config: &AuditConfig) -> Option<&'static str> {
        match config.validate() {
            Ok(()) => None,
            Err(ConfigError::Invalid { key, .. }) => Some(key),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }

    #[test]
    fn pg_schema_must_not_use_the_reserved_prefix() {
        for schema in ["pg_audit", "PG_AUDIT", "Pg_x", "pg_"] {
            let config = AuditConfig {
                pg_schema: Some(schema.to_owned()),
                ..AuditConfig::default()
            };
            let err = config.validate().unwrap_err().to_string();
            assert!(
                err.contains("PG_SCHEMA") && err.contains(schema) && err.contains("reserve"),
                "{err}"
            );
        }
        for schema in ["audit", "pgaudit", "my_pg_audit", "p_g"] {
            let config = AuditConfig {
                pg_schema: Some(schema.to_owned()),
                ..AuditConfig::default()
            };
            assert_eq!(rejected_key(&config), None, "{schema}");
        }
    }

    #[test]
    fn an_empty_audit_models_list_is_an_error() {
        let config = AuditConfig {
            audit_models: ModelSelection::Only(Default::default()),
            ..AuditConfig::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("AUDIT_MODELS") && err.contains("empty") && err.contains("\"all\""),
            "{err}"
        );
        for toml in [
            "AUDIT_MODELS = []",
            "AUDIT_MODELS = \"\"",
            "AUDIT_MODELS = \" , \"",
        ] {
            let err = AuditConfig::from_toml_str(toml).unwrap_err().to_string();
            assert!(
                err.contains("AUDIT_MODELS") && err.contains("empty"),
                "{toml}: {err}"
            );
        }
        // An empty opt-out list is the default, and fine.
        assert!(AuditConfig::from_toml_str("NOT_AUDIT_MODELS = []").is_ok());
    }

    /// Every numeric setting, its lowest and highest allowed values (`None`:
    /// no bound on that side beyond its type).
    #[test]
    fn every_numeric_setting_is_range_checked() {
        type Set = fn(&mut AuditConfig, u64);
        const DAY: u64 = 86_400_000;
        let max_queue = (usize::MAX >> 3) as u64;
        let cases: [(&str, Set, Option<u64>, Option<u64>); 9] = [
            (
                "ASYNC_QUEUE_SIZE",
                |c, v| c.async_queue_size = v as usize,
                Some(1),
                Some(max_queue),
            ),
            (
                "ASYNC_BATCH_SIZE",
                |c, v| c.async_batch_size = v as usize,
                Some(1),
                None,
            ),
            (
                "BULK_CHUNK_SIZE",
                |c, v| c.bulk_chunk_size = Some(v as usize),
                Some(1),
                Some(3855),
            ),
            (
                "ASYNC_LINGER_MS",
                |c, v| c.async_linger_ms = v,
                None,
                Some(DAY),
            ),
            (
                "ASYNC_RETRY_BASE_MS",
                |c, v| {
                    c.async_retry_base_ms = v;
                    c.async_retry_max_ms = DAY;
                },
                Some(1),
                Some(DAY),
            ),
            (
                "ASYNC_RETRY_MAX_MS",
                |c, v| {
                    c.async_retry_base_ms = 1;
                    c.async_retry_max_ms = v;
                },
                Some(1),
                Some(DAY),
            ),
            (
                "REDIS_CLAIM_IDLE_MS",
                |c, v| c.redis_claim_idle_ms = v,
                Some(1),
                Some(DAY),
            ),
            (
                "REDIS_TIMEOUT_MS",
                |c, v| c.redis_timeout_ms = v,
                Some(1),
                Some(DAY),
            ),
            (
                "ASYNC_MAX_RETRIES",
                |c, v| c.async_max_retries = Some(v as u32),
                None,
                None,
            ),
        ];
        for (key, set, min, max) in cases {
            let with = |value| {
                let mut config = AuditConfig::default();
                set(&mut config, value);
                config
            };
            match min {
                Some(min) => {
                    assert_eq!(rejected_key(&with(min)), None, "{key} = {min}");
                    assert_eq!(
                        rejected_key(&with(min - 1)),
                        Some(key),
                        "{key} = {}",
                        min - 1
                    );
                }
                None => assert_eq!(rejected_key(&with(0)), None, "{key} = 0"),
            }
            match max {
                Some(max) => {
                    assert_eq!(rejected_key(&with(max)), None, "{key} = {max}");
                    assert_eq!(
                        rejected_key(&with(max + 1)),
                        Some(key),
                        "{key} = {}",
                        max + 1
                    );
                    let err = with(u64::MAX).validate().unwrap_err().to_string();
                    assert!(err.contains(key) && err.contains(&max.to_string()), "{err}");
                }
                None => {
                    let top = if key == "ASYNC_MAX_RETRIES" {
                        u32::MAX.into()
                    } else {
                        u64::MAX
                    };
                    assert_eq!(rejected_key(&with(top)), None, "{key} = {top}");
                }
            }
        }
    }

    #[test]
    fn the_first_backoff_is_not_longer_than_the_longest() {
        let config = AuditConfig {
            async_retry_base_ms: 5_000,
            async_retry_max_ms: 1_000,
            ..AuditConfig::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(
            err.contains("ASYNC_RETRY_BASE_MS")
                && err.contains("5000")
                && err.contains("ASYNC_RETRY_MAX_MS"),
            "{err}"
        );
        let config = AuditConfig {
            async_retry_base_ms: 1_000,
            async_retry_max_ms: 1_000,
            ..AuditConfig::default()
        };
        assert_eq!(rejected_key(&config), None);
    }
}
