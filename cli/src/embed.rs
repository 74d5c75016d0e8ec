//! What an application that embeds the tool hands it: the audited models
//! its binary links and its databases by alias.

use std::collections::BTreeMap;

use awesome_audit_log::{AuditConfig, ModelInfo};

use crate::cli::GlobalArgs;

/// The embedding binary's models and database aliases, for
/// [`run_with`](crate::run_with).
///
/// The models' log tables are taken without `--table` (and `prune` runs
/// each model's `retention(...)` policy when given no rule). The aliases
/// are what `--database ALIAS` chooses from, `default` when it is not
/// given; with none, the tool reads them from the environment as the
/// standalone tool does (`DATABASE_URL`, `DATABASE_URL_X`).
///
/// ```
/// use awesome_audit_log::{audited, registry};
/// use awesome_audit_log_cli::{Command, Exit, GlobalArgs, Setup, run_with};
///
/// #[audited(table = "widget")]
/// struct Widget { id: i64 }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let models = registry::models();
/// let setup = Setup::new()
///     .models(&models)
///     .database("default", "sqlite::memory:")
///     .database("archive", "sqlite::memory:");
///
/// let archive = GlobalArgs { database: Some("archive".into()), ..GlobalArgs::default() };
/// assert_eq!(run_with(&archive, &Command::Tables, &setup).await, Exit::Success);
///
/// // An alias the application does not have: bad usage, the known ones listed.
/// let unknown = GlobalArgs { database: Some("reports".into()), ..GlobalArgs::default() };
/// assert_eq!(run_with(&unknown, &Command::Tables, &setup).await, Exit::Usage);
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Setup<'a> {
    pub(crate) models: Vec<&'a ModelInfo>,
    pub(crate) databases: BTreeMap<String, String>,
    pub(crate) config: Option<AuditConfig>,
}

impl<'a> Setup<'a> {
    /// No models, no aliases: the standalone tool's setup.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `models` (usually [`awesome_audit_log::registry::models`]).
    pub fn models(mut self, models: &[&'a ModelInfo]) -> Self {
        self.models.extend_from_slice(models);
        self
    }

    /// Names the database at `url` `alias` (a later URL for the same alias
    /// replaces it).
    pub fn database(mut self, alias: impl Into<String>, url: impl Into<String>) -> Self {
        self.databases.insert(alias.into(), url.into());
        self
    }

    /// The application's configuration, for what the tool does as the
    /// library would: its PG_SCHEMA is the default of `--schema`, and
    /// `triggers` installs and compares the triggers with its
    /// LOG_UNCHANGED_UPDATES and follows its ENABLED, AUDIT_MODELS and
    /// NOT_AUDIT_MODELS. Without it, the defaults.
    ///
    /// ```
    /// use awesome_audit_log::AuditConfig;
    /// use awesome_audit_log_cli::Setup;
    ///
    /// let config = AuditConfig::from_toml_str("LOG_UNCHANGED_UPDATES = true").unwrap();
    /// let setup = Setup::new().config(config);
    /// # let _ = setup;
    /// ```
    pub fn config(mut self, config: AuditConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// `global` with the configuration's PG_SCHEMA as the default of
    /// `--schema`.
    pub(crate) fn defaults(&self, global: &GlobalArgs) -> GlobalArgs {
        let mut global = global.clone();
        if global.schema.is_none() {
            global.schema = self
                .config
                .as_ref()
                .and_then(|config| config.pg_schema.clone());
        }
        global
    }
}
