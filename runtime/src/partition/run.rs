//! Starting a maintenance: the names are checked, and the run goes to
//! the database's own code (PostgreSQL) or is refused.

use awesome_audit_log_codegen::ident::{is_log_table_name, is_plain_identifier};

use super::Maintain;
use super::report::MaintainReport;
use crate::Error;
#[cfg(feature = "postgres")]
use crate::backend::Pool;

pub(super) async fn run(maintain: Maintain<'_>) -> Result<MaintainReport, Error> {
    let not_partitioned = |reason: &str| Error::NotPartitioned {
        table: maintain.log_table.chars().take(64).collect(),
        reason: reason.to_owned(),
    };
    if !is_log_table_name(&maintain.log_table) {
        return Err(not_partitioned(
            "a log table's name is a plain SQL identifier (ASCII letters, digits and `_`) of at most 63 characters ending in `_log`",
        ));
    }
    if let Some(schema) = &maintain.archive
        && !is_plain_identifier(schema)
    {
        return Err(not_partitioned(
            "the archive schema must be a plain SQL identifier (ASCII letters, digits and `_`)",
        ));
    }
    let sink = &maintain.auditor.sink;
    let index = sink.read_index()?;
    match sink.database(index) {
        #[cfg(feature = "postgres")]
        (alias, Pool::Postgres(pg)) => {
            let schema = sink.config().pg_schema.as_deref();
            super::postgres::run(&maintain, alias, pg, schema, not_partitioned).await
        }
        #[allow(unreachable_patterns)]
        (_, other) => Err(Error::PartitionsUnsupported {
            table: maintain.log_table.clone(),
            database: other.dialect().name(),
        }),
    }
}

/// Starts a conversion: the names are checked, and the run goes to
/// PostgreSQL's code or is refused.
pub(super) async fn convert(convert: super::Convert<'_>) -> Result<super::ConvertReport, Error> {
    if !is_log_table_name(&convert.log_table) {
        return Err(Error::NotPartitioned {
            table: convert.log_table.chars().take(64).collect(),
            reason: "a log table's name is a plain SQL identifier (ASCII letters, digits and `_`) of at most 63 characters ending in `_log`".to_owned(),
        });
    }
    let sink = &convert.auditor.sink;
    let index = sink.read_index()?;
    match sink.database(index) {
        #[cfg(feature = "postgres")]
        (alias, Pool::Postgres(pg)) => {
            let schema = sink.config().pg_schema.as_deref();
            super::convert::postgres::run(&convert, alias, pg, schema).await
        }
        #[allow(unreachable_patterns)]
        (_, other) => Err(Error::PartitionsUnsupported {
            table: convert.log_table.clone(),
            database: other.dialect().name(),
        }),
    }
}
