//! Building an [`Auditor`]: databases by alias, configuration checks.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::backend::Pool;
use crate::config::{
    AuditConfig, ConfigError, DEFAULT_ALIAS, bind_limit, binds_per_row, max_chunk_size,
};
use crate::sink::Sink;
use crate::transport::Transport;
use crate::{Database, Error};

use super::Auditor;

/// Builds an [`Auditor`]; see [`Auditor::builder`].
pub struct AuditorBuilder {
    config: AuditConfig,
    databases: Vec<(String, Database)>,
    allow_unknown_labels: bool,
    trigger_context: bool,
}

impl Auditor {
    /// Starts building an auditor from a configuration.
    pub fn builder(config: AuditConfig) -> AuditorBuilder {
        AuditorBuilder {
            config,
            databases: Vec::new(),
            allow_unknown_labels: false,
            trigger_context: false,
        }
    }
}

impl AuditorBuilder {
    /// Adds a database under `alias` (the one named `default` is the
    /// fallback target). A later database with the same alias replaces it.
    pub fn database(mut self, alias: impl Into<String>, database: impl Into<Database>) -> Self {
        let alias = alias.into();
        let database = database.into();
        self.databases.retain(|(existing, _)| *existing != alias);
        self.databases.push((alias, database));
        self
    }

    /// Accepts labels in AUDIT_MODELS / NOT_AUDIT_MODELS that name no model
    /// linked into this binary (by default that is a start-up error, since a
    /// misspelt opt-out would silently audit the model).
    pub fn allow_unknown_labels(mut self) -> Self {
        self.allow_unknown_labels = true;
        self
    }

    /// Makes the auditor's transactions ([`Auditor::begin`]) hand the
    /// context of the current audit scope to the database, so that the
    /// rows the model triggers write record it (see
    /// [`triggers`](crate::triggers#the-context-in-trigger-rows)). An
    /// auditor that installs triggers does so from then on; a process
    /// whose triggers were installed by another (a migration, the CLI)
    /// asks for it here. It costs one statement per transaction.
    ///
    /// ```
    /// use awesome_audit_log::{AuditConfig, Auditor, Database};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let auditor = Auditor::builder(AuditConfig::default())
    ///     .database("default", Database::connect("sqlite::memory:").await?)
    ///     .trigger_context()
    ///     .build()?;
    /// # let _ = auditor;
    /// # Ok(())
    /// # }
    /// ```
    pub fn trigger_context(mut self) -> Self {
        self.trigger_context = true;
        self
    }

    /// Validates the configuration against the databases and the audited
    /// models linked into the binary, and builds the auditor.
    ///
    /// Errors: an invalid setting; an unknown model label; a BULK_CHUNK_SIZE
    /// whose rows would carry more bind parameters than one of the databases
    /// takes in a statement; with RAISE_ERROR_IF_DB_UNAVAILABLE, a
    /// DATABASE_ALIAS that is not among the databases. Without RAISE, a
    /// missing alias is warned about here and each write then skips (or
    /// falls back) as configured.
    pub fn build(self) -> Result<Auditor, Error> {
        let config = self.config;
        config.validate()?;
        if !self.allow_unknown_labels {
            check_labels(&config)?;
        }
        let databases: Vec<(String, Pool)> = self
            .databases
            .into_iter()
            .map(|(alias, db)| (alias, db.0))
            .collect();
        check_chunk_size(&config, &databases)?;
        let index_of = |alias: &str| databases.iter().position(|(a, _)| a == alias);
        let audit = index_of(&config.database_alias);
        let default = index_of(DEFAULT_ALIAS);
        if audit.is_none() {
            if config.raise_error_if_db_unavailable {
                return Err(Error::UnknownAlias {
                    alias: config.database_alias.clone(),
                });
            }
            let then = if config.fallback_to_default && default.is_some() {
                "log rows will go to `default` (FALLBACK_TO_DEFAULT)"
            } else {
                "log rows will be skipped with a warning"
            };
            tracing::warn!(
                "audit DATABASE_ALIAS `{}` is not among the configured databases; {then}",
                config.database_alias
            );
        }
        if config.fallback_to_default && config.raise_error_if_db_unavailable {
            tracing::warn!(
                "FALLBACK_TO_DEFAULT has no effect while RAISE_ERROR_IF_DB_UNAVAILABLE is true"
            );
        }
        let transport = Transport::from_config(&config)?;
        let sink = Sink::new(config, databases);
        if self.trigger_context {
            sink.enable_trigger_context();
        }
        Ok(Auditor {
            sink: Arc::new(sink),
            transport: Arc::new(transport),
        })
    }
}

fn check_labels(config: &AuditConfig) -> Result<(), ConfigError> {
    let known: BTreeSet<&str> = crate::registry::models()
        .iter()
        .map(|m| m.label())
        .collect();
    let lists = [
        ("AUDIT_MODELS", config.audit_models.labels()),
        ("NOT_AUDIT_MODELS", Some(&config.not_audit_models.0)),
    ];
    for (key, labels) in lists {
        if let Some(unknown) = labels
            .into_iter()
            .flatten()
            .find(|l| !known.contains(l.as_str()))
        {
            return Err(ConfigError::Invalid {
                key,
                value: unknown.clone(),
                reason: format!(
                    "no audited model has this label; known labels: {}",
                    known.iter().copied().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// BULK_CHUNK_SIZE fits the bind-parameter limit of every database: log
/// rows go to the audit database (or `default`), outbox rows to the database
/// of the change, so each one may receive a full chunk.
fn check_chunk_size(config: &AuditConfig, databases: &[(String, Pool)]) -> Result<(), ConfigError> {
    let Some(rows) = config.bulk_chunk_size else {
        return Ok(());
    };
    for (alias, pool) in databases {
        let dialect = pool.dialect();
        let max_rows = max_chunk_size(dialect);
        if rows > max_rows {
            return Err(ConfigError::Invalid {
                key: "BULK_CHUNK_SIZE",
                value: rows.to_string(),
                reason: format!(
                    "database `{alias}` ({}) takes at most {} bind parameters in one statement, so at most {max_rows} rows of {} parameters",
                    dialect.name(),
                    bind_limit(dialect),
                    binds_per_row()
                ),
            });
        }
    }
    Ok(())
}
