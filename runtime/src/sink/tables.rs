//! The table SQL cache: one [`TableSql`] per (database, target, log table),
//! built on first use and shared, so the hot path neither formats SQL nor
//! allocates a key.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::backend::TableSql;

/// Where rows are written: the log tables, or the outbox that outbox
/// workers move them from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    /// The log table of the rows' model.
    Log,
    /// The outbox of the database, for rows of that log table.
    Outbox,
}

type Tables = RwLock<HashMap<Box<str>, Arc<TableSql>>>;

/// Per database (by index), per target, the SQL of each log table.
#[derive(Debug)]
pub(crate) struct TableCache {
    databases: Vec<[Tables; 2]>,
}

impl TableCache {
    pub(crate) fn new(databases: usize) -> Self {
        Self {
            databases: (0..databases).map(|_| Default::default()).collect(),
        }
    }

    /// The cached SQL of `log_table` on database `index`, or the one
    /// `build` makes (kept for next time).
    pub(crate) fn get(
        &self,
        index: usize,
        target: Target,
        log_table: &str,
        build: impl FnOnce() -> TableSql,
    ) -> Arc<TableSql> {
        let tables = &self.databases[index][target as usize];
        if let Some(table) = tables
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(log_table)
        {
            return Arc::clone(table);
        }
        let table = Arc::new(build());
        let mut tables = tables.write().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(tables.entry(log_table.into()).or_insert(table))
    }
}
