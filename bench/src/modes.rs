//! The modes of writing and logging the changes, the phases of each
//! mode, and the labels the results are reported under.

use clap::ValueEnum;

use crate::model::Widget;

/// One way of writing (and logging) the N changes of each phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub(crate) enum Mode {
    /// The writes alone: the baseline of the per-statement modes.
    #[value(name = "none")]
    None,
    /// Each write, then `Widget::log_change` (its own autocommitted INSERT).
    #[value(name = "sync")]
    Sync,
    /// Each write and `Widget::log_change_in` in one `AuditTransaction`, committed.
    #[value(name = "sync_tx")]
    SyncTx,
    /// Each write, then `Widget::log_change` with ASYNC on: the row goes to
    /// the background writer. Reported twice: `async` until the caller is
    /// done, `async_flushed` until `auditor.flush()` returns.
    #[value(name = "async")]
    Async,
    /// `Widget::log_change` with ASYNC on and no writes at all, then
    /// `flush()`: how many log rows per second the background writer drains.
    #[value(name = "async_writer")]
    AsyncWriter,
    // The place of the durable outbox transport (issue 5): a mode `outbox`,
    // each write and `log_change_in` in one transaction with
    // ASYNC_TRANSPORT = "outbox", reported like `async` (until the caller is
    // done) and like `async_flushed` (until an `OutboxWorker` has moved every
    // row into `widget_log`); `Bench::one_change` and `Bench::auditor` get
    // its arm next to `Mode::Async`.
    /// N changes written with one multi-row statement per chunk: the
    /// baseline of `batch`.
    #[value(name = "batch_none")]
    BatchNone,
    /// The same multi-row writes, then all N changes logged with one
    /// `Widget::log_changes` (one multi-row INSERT per chunk).
    #[value(name = "batch")]
    Batch,
    /// PostgreSQL only: the writes alone, with a PL/pgSQL AFTER trigger
    /// writing the same log row, the in-database reference.
    #[value(name = "trigger")]
    Trigger,
}

impl Mode {
    pub(crate) const ALL: [Mode; 8] = [
        Mode::None,
        Mode::Sync,
        Mode::SyncTx,
        Mode::Async,
        Mode::AsyncWriter,
        Mode::BatchNone,
        Mode::Batch,
        Mode::Trigger,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Mode::None => "none",
            Mode::Sync => "sync",
            Mode::SyncTx => "sync_tx",
            Mode::Async => "async",
            Mode::AsyncWriter => "async_writer",
            Mode::BatchNone => "batch_none",
            Mode::Batch => "batch",
            Mode::Trigger => "trigger",
        }
    }

    /// Log rows `widget_log` must hold after the mode ran.
    pub(crate) fn expected_log_rows(self, n: usize) -> usize {
        match self {
            Mode::None | Mode::BatchNone => 0,
            Mode::Sync
            | Mode::SyncTx
            | Mode::Async
            | Mode::AsyncWriter
            | Mode::Batch
            | Mode::Trigger => 3 * n,
        }
    }

    pub(crate) fn is_async(self) -> bool {
        matches!(self, Mode::Async | Mode::AsyncWriter)
    }

    pub(crate) fn is_batch(self) -> bool {
        matches!(self, Mode::BatchNone | Mode::Batch)
    }
}

/// Result labels in display order, each with the label of its baseline.
pub(crate) const LABELS: [(&str, &str); 9] = [
    ("none", "none"),
    ("sync", "none"),
    ("sync_tx", "none"),
    ("async", "none"),
    ("async_flushed", "none"),
    ("async_writer", "none"),
    ("trigger", "none"),
    ("batch_none", "batch_none"),
    ("batch", "batch_none"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Insert,
    Update,
    Delete,
}

impl Phase {
    pub(crate) const ALL: [Phase; 3] = [Phase::Insert, Phase::Update, Phase::Delete];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Phase::Insert => "insert",
            Phase::Update => "update",
            Phase::Delete => "delete",
        }
    }

    /// The `(before, after)` of the change to object `i` in this phase.
    pub(crate) fn pair<'a>(
        self,
        old: &'a Widget,
        new: &'a Widget,
    ) -> (Option<&'a Widget>, Option<&'a Widget>) {
        match self {
            Phase::Insert => (None, Some(old)),
            Phase::Update => (Some(old), Some(new)),
            Phase::Delete => (Some(new), None),
        }
    }
}
