//! What logging did: [`LogOutcome`] for one change, [`BatchOutcome`] for
//! many, and the one mapping from where a transport put the rows to them.

/// What `log_change` did.
///
/// Serialised in snake case (`"written"`, `"not_audited"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[must_use = "a LogOutcome says whether the row was written, queued, skipped or dropped"]
pub enum LogOutcome {
    /// The row was written.
    Written,
    /// An update that changed no stored field: no row (see `LOG_UNCHANGED_UPDATES`).
    Unchanged,
    /// Auditing is off (`ENABLED`) or the model is not audited (`AUDIT_MODELS` / `NOT_AUDIT_MODELS`).
    NotAudited,
    /// The audit database was missing or unavailable and RAISE_ERROR_IF_DB_UNAVAILABLE
    /// is false: a warning was logged and the skip counted in [`crate::AuditStats`].
    Skipped,
    /// Logged in an [`AuditTransaction`](crate::AuditTransaction) whose audit
    /// database is another one: the row is written when the transaction commits.
    Deferred,
    /// ASYNC: the row is queued for the background writer.
    Queued,
    /// ASYNC with `ASYNC_QUEUE_FULL = "drop"`: the queue was full and the row
    /// was dropped (warned and counted in [`crate::AuditStats::dropped`]).
    Dropped,
}

/// What `log_changes` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[must_use = "a BatchOutcome says how many rows were written, queued, skipped or dropped"]
pub struct BatchOutcome {
    /// Rows written.
    pub written: usize,
    /// Updates that changed no stored field (no row).
    pub unchanged: usize,
    /// Changes not audited (`ENABLED` off or the model excluded).
    pub not_audited: usize,
    /// Rows skipped because the audit database was unavailable (warned and counted).
    pub skipped: usize,
    /// Rows waiting for their transaction to commit (audit database elsewhere).
    pub deferred: usize,
    /// ASYNC: rows queued for the background writer.
    pub queued: usize,
    /// ASYNC: rows dropped because the queue was full (policy `drop`).
    pub dropped: usize,
}

/// Where a transport put some rows: written into the log tables, queued
/// (the in-process writer, the outbox, a broker), skipped (the audit
/// database was unavailable and RAISE is off) or dropped (a full queue with
/// the `drop` policy). Each row is counted in exactly one field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Delivered {
    pub written: usize,
    pub queued: usize,
    pub skipped: usize,
    pub dropped: usize,
}

impl Delivered {
    /// What one change's delivery means to the caller.
    pub(crate) fn outcome(self) -> LogOutcome {
        if self.written > 0 {
            LogOutcome::Written
        } else if self.queued > 0 {
            LogOutcome::Queued
        } else if self.dropped > 0 {
            LogOutcome::Dropped
        } else {
            LogOutcome::Skipped
        }
    }
}

impl BatchOutcome {
    /// Adds the rows of one delivery.
    pub(crate) fn add(&mut self, delivered: Delivered) {
        self.written += delivered.written;
        self.queued += delivered.queued;
        self.skipped += delivered.skipped;
        self.dropped += delivered.dropped;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_change_maps_to_one_outcome() {
        let one = |f: fn(&mut Delivered)| {
            let mut delivered = Delivered::default();
            f(&mut delivered);
            delivered.outcome()
        };
        assert_eq!(one(|d| d.written = 1), LogOutcome::Written);
        assert_eq!(one(|d| d.queued = 1), LogOutcome::Queued);
        assert_eq!(one(|d| d.dropped = 1), LogOutcome::Dropped);
        assert_eq!(one(|d| d.skipped = 1), LogOutcome::Skipped);
        let mut batch = BatchOutcome::default();
        batch.add(Delivered {
            written: 2,
            skipped: 1,
            ..Delivered::default()
        });
        batch.add(Delivered {
            queued: 3,
            ..Delivered::default()
        });
        assert_eq!(
            (batch.written, batch.skipped, batch.queued, batch.dropped),
            (2, 1, 3, 0)
        );
    }

    #[test]
    fn outcomes_serialise_in_snake_case_and_back() {
        let json = serde_json::to_string(&[LogOutcome::Written, LogOutcome::NotAudited]).unwrap();
        assert_eq!(json, r#"["written","not_audited"]"#);
        let back: Vec<LogOutcome> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [LogOutcome::Written, LogOutcome::NotAudited]);

        let batch = BatchOutcome {
            written: 2,
            skipped: 1,
            ..BatchOutcome::default()
        };
        let json = serde_json::to_value(batch).unwrap();
        assert_eq!(json["written"], 2);
        assert_eq!(json["skipped"], 1);
        assert_eq!(json["dropped"], 0);
        assert_eq!(serde_json::from_value::<BatchOutcome>(json).unwrap(), batch);
    }
}
