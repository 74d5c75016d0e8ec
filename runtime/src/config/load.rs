//! Loading a configuration: TOML files and text, `AWESOME_AUDIT_LOG_*`
//! environment variables, or any figment an application composes.

use std::path::Path;

use figment::providers::{Env, Format, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};

use super::{AuditConfig, ConfigError, redact_urls_in};

/// Prefix of the environment variables that override settings.
pub const ENV_PREFIX: &str = "AWESOME_AUDIT_LOG_";

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
            // A parser's message may quote the offending line, REDIS_URL's
            // password included.
            ConfigError::Load(
                errors
                    .into_iter()
                    .map(|e| redact_urls_in(&e.to_string()).into_owned())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        config.validate()?;
        Ok(config)
    }
}

fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX)
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

    #[test]
    fn load_errors_do_not_show_a_password() {
        for toml in [
            "REDIS_URL = \"redis://audit:s3cr3t-pw@cache:6379/0\" oops",
            "REDIS_URL = \"redis://audit:s3cr3t-pw@cache:6379/0\"\nENABLED = \"maybe\"",
            "REDIS_URL = [\"redis://audit:s3cr3t-pw@cache:6379/0\"]",
        ] {
            let err = AuditConfig::from_toml_str(toml).unwrap_err();
            for shown in [err.to_string(), format!("{err:?}")] {
                assert!(!shown.contains("s3cr3t-pw"), "{shown}");
            }
        }
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type
    fn absurd_and_empty_values_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            // 2^62: more than the in-process queue can hold.
            jail.set_env("AWESOME_AUDIT_LOG_ASYNC_QUEUE_SIZE", "4611686018427387904");
            let err = AuditConfig::from_env().unwrap_err().to_string();
            assert!(
                err.contains("ASYNC_QUEUE_SIZE") && err.contains("4611686018427387904"),
                "{err}"
            );
            jail.set_env("AWESOME_AUDIT_LOG_ASYNC_QUEUE_SIZE", "100");
            jail.set_env("AWESOME_AUDIT_LOG_ASYNC_LINGER_MS", "18446744073709551615");
            let err = AuditConfig::from_env().unwrap_err().to_string();
            assert!(err.contains("ASYNC_LINGER_MS"), "{err}");
            jail.set_env("AWESOME_AUDIT_LOG_ASYNC_LINGER_MS", "5");
            assert!(AuditConfig::from_env().is_ok());

            jail.set_env("AWESOME_AUDIT_LOG_AUDIT_MODELS", "");
            let err = AuditConfig::from_env().unwrap_err().to_string();
            assert!(
                err.contains("AUDIT_MODELS") && err.contains("empty"),
                "{err}"
            );
            jail.set_env("AWESOME_AUDIT_LOG_AUDIT_MODELS", "all");
            assert!(AuditConfig::from_env().is_ok());

            jail.set_env("AWESOME_AUDIT_LOG_PG_SCHEMA", "pg_audit");
            let err = AuditConfig::from_env().unwrap_err().to_string();
            assert!(
                err.contains("PG_SCHEMA") && err.contains("pg_audit"),
                "{err}"
            );
            Ok(())
        });
    }
}
