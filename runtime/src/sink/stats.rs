//! What the auditor did: one set of counters, shared by every transport
//! and worker, and the [`AuditStats`] snapshot users read.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of what the auditor did since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Log rows written.
    pub written: u64,
    /// Log rows dropped because the audit database was missing or unavailable
    /// and RAISE_ERROR_IF_DB_UNAVAILABLE is false (each one also warned).
    pub skipped: u64,
    /// Log rows written to `default` instead (FALLBACK_TO_DEFAULT).
    pub fallback: u64,
    /// Log rows whose write failed: returned as an error to the caller, or,
    /// in ASYNC mode, given up by the writer (each one also logged as an error).
    pub failed: u64,
    /// Log rows handed to the background writer, the outbox or the broker (ASYNC).
    pub queued: u64,
    /// Row writes the background writer retried while the database was down.
    pub retried: u64,
    /// Log rows dropped because the writer's queue was full and
    /// ASYNC_QUEUE_FULL is `drop` (each one also warned).
    pub dropped: u64,
    /// Log rows the database refused, kept in the dead-letter table
    /// `awesome_audit_log_dead_letter` with the reason (ASYNC; each one
    /// also logged as an error).
    pub dead_lettered: u64,
}

/// The live counters behind [`AuditStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub written: AtomicU64,
    pub skipped: AtomicU64,
    pub fallback: AtomicU64,
    pub failed: AtomicU64,
    pub queued: AtomicU64,
    pub retried: AtomicU64,
    pub dropped: AtomicU64,
    pub dead_lettered: AtomicU64,
}

impl Counters {
    /// Adds `rows` to `counter`; returns the new total.
    pub(crate) fn add(counter: &AtomicU64, rows: usize) -> u64 {
        counter.fetch_add(rows as u64, Ordering::Relaxed) + rows as u64
    }

    /// The counts now.
    pub(crate) fn snapshot(&self) -> AuditStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        AuditStats {
            written: load(&self.written),
            skipped: load(&self.skipped),
            fallback: load(&self.fallback),
            failed: load(&self.failed),
            queued: load(&self.queued),
            retried: load(&self.retried),
            dropped: load(&self.dropped),
            dead_lettered: load(&self.dead_lettered),
        }
    }
}
