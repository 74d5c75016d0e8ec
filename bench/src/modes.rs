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
    /// The writes alone, in transactions of `--per-tx` writes each: the
    /// baseline of the transactional trigger modes.
    #[value(name = "none_tx")]
    NoneTx,
    /// The writes alone, with a hand-written AFTER trigger (generic
    /// PL/pgSQL on PostgreSQL, one `INSERT` per event on MySQL/MariaDB
    /// and SQLite) writing the log row: the in-database reference.
    #[value(name = "trigger")]
    Trigger,
    /// The hand-written reference trigger, the writes in transactions of
    /// `--per-tx` writes.
    #[value(name = "trigger_tx")]
    TriggerTx,
    /// The hand-written reference trigger extended to record the audit
    /// context (read as the generated triggers read it), the writes in an
    /// audit scope in the auditor's transactions of `--per-tx` writes,
    /// which hand the context over as in `trigger_capture`: the reference
    /// that does the same job.
    #[value(name = "trigger_tx_context")]
    TriggerTxContext,
    /// The generated triggers (`Widget::install_triggers`), each write
    /// autocommitted outside any audit scope (context NULL).
    #[value(name = "trigger_capture_autocommit")]
    TriggerCaptureAutocommit,
    /// The generated triggers, the writes in an audit scope, in the
    /// auditor's transactions of `--per-tx` writes: the context is handed
    /// to the database once per transaction.
    #[value(name = "trigger_capture")]
    TriggerCapture,
}

impl Mode {
    pub(crate) const ALL: [Mode; 13] = [
        Mode::None,
        Mode::Sync,
        Mode::SyncTx,
        Mode::Async,
        Mode::AsyncWriter,
        Mode::BatchNone,
        Mode::Batch,
        Mode::NoneTx,
        Mode::Trigger,
        Mode::TriggerTx,
        Mode::TriggerTxContext,
        Mode::TriggerCaptureAutocommit,
        Mode::TriggerCapture,
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
            Mode::NoneTx => "none_tx",
            Mode::Trigger => "trigger",
            Mode::TriggerTx => "trigger_tx",
            Mode::TriggerTxContext => "trigger_tx_context",
            Mode::TriggerCaptureAutocommit => "trigger_capture_autocommit",
            Mode::TriggerCapture => "trigger_capture",
        }
    }

    /// Log rows `widget_log` must hold after the mode ran.
    pub(crate) fn expected_log_rows(self, n: usize) -> usize {
        match self {
            Mode::None | Mode::BatchNone | Mode::NoneTx => 0,
            Mode::Sync
            | Mode::SyncTx
            | Mode::Async
            | Mode::AsyncWriter
            | Mode::Batch
            | Mode::Trigger
            | Mode::TriggerTx
            | Mode::TriggerTxContext
            | Mode::TriggerCaptureAutocommit
            | Mode::TriggerCapture => 3 * n,
        }
    }

    pub(crate) fn is_async(self) -> bool {
        matches!(self, Mode::Async | Mode::AsyncWriter)
    }

    pub(crate) fn is_batch(self) -> bool {
        matches!(self, Mode::BatchNone | Mode::Batch)
    }

    /// Whether the writes are grouped in transactions of `--per-tx`.
    pub(crate) fn is_grouped(self) -> bool {
        matches!(
            self,
            Mode::NoneTx | Mode::TriggerTx | Mode::TriggerTxContext | Mode::TriggerCapture
        )
    }

    /// Whether the writes run in an audit scope whose context the log rows
    /// must carry.
    pub(crate) fn in_scope(self) -> bool {
        matches!(self, Mode::TriggerTxContext | Mode::TriggerCapture)
    }

    /// Whether the generated triggers log the writes.
    pub(crate) fn captures(self) -> bool {
        matches!(self, Mode::TriggerCaptureAutocommit | Mode::TriggerCapture)
    }

    /// Whether the hand-written reference trigger logs the writes.
    pub(crate) fn hand_written(self) -> bool {
        matches!(self, Mode::Trigger | Mode::TriggerTx)
    }
}

/// A result label: its baseline (the writes alone, as the mode groups
/// them) and, for the generated triggers, the hand-written reference
/// trigger of the same grouping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Label {
    pub(crate) name: &'static str,
    pub(crate) baseline: &'static str,
    pub(crate) reference: Option<&'static str>,
}

const fn label(name: &'static str, baseline: &'static str) -> Label {
    Label {
        name,
        baseline,
        reference: None,
    }
}

/// Result labels in display order.
pub(crate) const LABELS: [Label; 14] = [
    label("none", "none"),
    label("sync", "none"),
    label("sync_tx", "none"),
    label("async", "none"),
    label("async_flushed", "none"),
    label("async_writer", "none"),
    label("trigger", "none"),
    Label {
        reference: Some("trigger"),
        ..label("trigger_capture_autocommit", "none")
    },
    label("none_tx", "none_tx"),
    label("trigger_tx", "none_tx"),
    Label {
        reference: Some("trigger_tx"),
        ..label("trigger_tx_context", "none_tx")
    },
    Label {
        reference: Some("trigger_tx"),
        ..label("trigger_capture", "none_tx")
    },
    label("batch_none", "batch_none"),
    label("batch", "batch_none"),
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
