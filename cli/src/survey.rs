//! What every command starts from: the options checked, the database
//! opened, the tables to work on found, each read from the catalog and
//! compared with this version's.

use awesome_audit_log::{AuditConfig, Database, Dialect, ModelInfo};

use crate::cli::GlobalArgs;
use crate::connect::Db;
use crate::drift::{Assessment, Drift, Status, assess};
use crate::error::Error;
use crate::inspect::{self, Found, Place};
use crate::tables::{self, Target};

/// One table, read and compared.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// Which table, and why it is taken.
    pub target: Target,
    /// What the catalog says of it (`None` for a registered name that is
    /// not a log table's name: it is never looked up).
    pub found: Option<Found>,
    /// How it compares with this version's.
    pub assessment: Assessment,
}

impl Checked {
    /// Whether it is as this version creates it.
    pub(crate) fn is_ok(&self) -> bool {
        self.assessment.status == Status::Ok
    }
}

/// The database and the tables a command works on.
#[derive(Debug)]
pub(crate) struct Survey {
    /// The database.
    pub db: Db,
    /// Where the log tables live.
    pub place: Place,
    /// Whether the table of managed log tables exists.
    pub registry_exists: bool,
    /// The registered names.
    managed: Vec<String>,
    /// The tables, by name.
    pub tables: Vec<Checked>,
}

impl Survey {
    /// Checks the options, opens the database at `url` and reads every
    /// table to work on: the managed ones, `models`' log tables and those
    /// named with `--table`. A named table that is not a log table ends it
    /// here, before anything is changed.
    pub(crate) async fn open(
        url: &str,
        global: &GlobalArgs,
        models: &[&ModelInfo],
    ) -> Result<Self, Error> {
        let dialect = Database::dialect_of(url)?;
        tables::check_named(&global.tables)?;
        // PG_SCHEMA means nothing elsewhere (the runtime ignores it too).
        let schema = global
            .schema
            .as_deref()
            .filter(|schema| dialect == Dialect::Postgres && !schema.is_empty());
        if let Some(schema) = schema {
            let mut config = AuditConfig::default();
            config.pg_schema = Some(schema.to_owned());
            config
                .validate()
                .map_err(|e| Error::Schema(e.to_string()))?;
        }
        let db = Db::connect(url).await?;
        let place = inspect::place(&db, schema).await?;
        let registered = inspect::managed_tables(&db, &place).await?;
        let registry_exists = registered.is_some();
        let managed = registered.unwrap_or_default();
        let targets = tables::collect(
            &managed,
            models.iter().map(|model| model.log_table()),
            &global.tables,
        );
        let mut survey = Survey {
            db,
            place,
            registry_exists,
            managed,
            tables: Vec::with_capacity(targets.len()),
        };
        for target in targets {
            let checked = survey.check(target).await?;
            survey.tables.push(checked);
        }
        let refused: Vec<(String, String)> = survey
            .tables
            .iter()
            .filter(|checked| checked.target.sources.named)
            .filter_map(|checked| match &checked.assessment.status {
                Status::NotALogTable(reason) => Some((checked.target.name.clone(), reason.clone())),
                _ => None,
            })
            .collect();
        if !refused.is_empty() {
            survey.db.close().await;
            return Err(Error::NotLogTables(refused));
        }
        Ok(survey)
    }

    /// The dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Reads `target` from the catalog and compares it with this version's.
    async fn check(&self, target: Target) -> Result<Checked, Error> {
        let registered = self.managed.contains(&target.name);
        self.check_as(target, registered).await
    }

    /// [`check`](Self::check) after a change: the registration is read
    /// again too.
    pub(crate) async fn recheck(&self, target: Target) -> Result<Checked, Error> {
        let managed = inspect::managed_tables(&self.db, &self.place).await?;
        let registered = managed.is_some_and(|names| names.contains(&target.name));
        self.check_as(target, registered).await
    }

    async fn check_as(&self, target: Target, registered: bool) -> Result<Checked, Error> {
        if !target.valid_name() {
            return Ok(Checked {
                target,
                found: None,
                assessment: Assessment {
                    status: Status::NotALogTable(
                        "its registered name is not a log table's name (never used in SQL)"
                            .to_owned(),
                    ),
                    drifts: Vec::new(),
                },
            });
        }
        let found = inspect::table(&self.db, &self.place, &target.name).await?;
        let mut assessment = assess(self.dialect(), &target.name, &found, registered);
        for drift in &mut assessment.drifts {
            if let Drift::Nullable { column, null_rows } = drift {
                *null_rows = Some(
                    inspect::count_nulls(&self.db, &self.place, &target.name, column.name).await?,
                );
            }
        }
        Ok(Checked {
            target,
            found: Some(found),
            assessment,
        })
    }
}
