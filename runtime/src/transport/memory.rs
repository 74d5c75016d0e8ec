//! The in-process writer of ASYNC mode (`ASYNC_TRANSPORT = "memory"`):
//! `log_change` takes the timestamp and the context, hands the row to a
//! bounded queue and returns; one tokio task drains the queue, gathers rows
//! into batches (by count and a short linger time), writes each log table's
//! rows with one multi-row INSERT per chunk, and retries with backoff while
//! the database is down. Rows are written in the order they were queued, so
//! the rows of one object are never reordered.
//!
//! The task holds the [`Sink`] and the queue's receiver, not the auditor:
//! when the last auditor is dropped the queue closes, the task writes what
//! is left and ends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use std::borrow::Cow;

use awesome_audit_log_codegen::ddl::DEAD_LETTER_TABLE;

use super::inline;
use super::retry::Backoff;
use crate::Error;
use crate::backend::DeadLetter;
use crate::config::{AuditConfig, QueueFull};
use crate::error::classify::{Fault, fault};
use crate::event::LogEvent;
use crate::outcome::Delivered;
use crate::sink::{Counters, Refused, Sink, Target, group_by_key};

enum Message {
    Rows(&'static str, Vec<LogEvent>),
    Flush(oneshot::Sender<()>),
    Stop(oneshot::Sender<()>),
}

/// The queue and the handle of the writer task.
pub(crate) struct Writer {
    sender: mpsc::Sender<Message>,
    /// Taken by the task when it starts (on the first queued row).
    receiver: Mutex<Option<mpsc::Receiver<Message>>>,
    policy: QueueFull,
    settings: Settings,
    stopped: AtomicBool,
    /// Set by the task once it has written everything after a stop (or
    /// after every auditor is gone).
    finished: Arc<watch::Sender<bool>>,
}

impl Writer {
    pub(crate) fn new(config: &AuditConfig) -> Self {
        let (sender, receiver) = mpsc::channel(config.async_queue_size);
        Self {
            sender,
            receiver: Mutex::new(Some(receiver)),
            policy: config.async_queue_full,
            settings: Settings::from(config),
            stopped: AtomicBool::new(false),
            finished: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Queues `rows` for the task, started on first use (there is a runtime
    /// then: we are in async code). After a shutdown they are written inline.
    pub(crate) async fn enqueue(
        &self,
        sink: &Arc<Sink>,
        log_table: &'static str,
        rows: Vec<LogEvent>,
    ) -> Result<Delivered, Error> {
        let count = rows.len();
        let accepted = || {
            Counters::add(&sink.stats().queued, count);
            Ok(Delivered {
                queued: count,
                ..Delivered::default()
            })
        };
        if self.stopped.load(Ordering::Acquire) {
            return inline::write(sink, Target::Log, log_table, &rows).await;
        }
        self.start(sink);
        let message = Message::Rows(log_table, rows);
        let returned = match self.policy {
            QueueFull::Wait => match self.sender.send(message).await {
                Ok(()) => return accepted(),
                Err(mpsc::error::SendError(returned)) => returned,
            },
            QueueFull::Drop => match self.sender.try_send(message) {
                Ok(()) => return accepted(),
                Err(mpsc::error::TrySendError::Full(Message::Rows(log_table, rows))) => {
                    let total = Counters::add(&sink.stats().dropped, rows.len());
                    tracing::warn!(
                        table = log_table,
                        rows = rows.len(),
                        dropped_total = total,
                        "audit writer queue is full; rows dropped (ASYNC_QUEUE_FULL = \"drop\")"
                    );
                    return Ok(Delivered {
                        dropped: count,
                        ..Delivered::default()
                    });
                }
                Err(
                    mpsc::error::TrySendError::Full(returned)
                    | mpsc::error::TrySendError::Closed(returned),
                ) => returned,
            },
        };
        match returned {
            Message::Rows(log_table, rows) => {
                inline::write(sink, Target::Log, log_table, &rows).await
            }
            Message::Flush(_) | Message::Stop(_) => Ok(Delivered::default()),
        }
    }

    fn start(&self, sink: &Arc<Sink>) {
        let Some(receiver) = self
            .receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return;
        };
        tokio::spawn(run(
            receiver,
            Arc::clone(sink),
            self.settings.clone(),
            Arc::clone(&self.finished),
        ));
    }

    /// Waits until every row queued before this call is written (or given up).
    pub(crate) async fn flush(&self, sink: &Arc<Sink>) {
        if self.stopped.load(Ordering::Acquire) {
            return;
        }
        self.start(sink);
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Flushes and stops the task; later rows are written inline. Every
    /// caller, the first or a concurrent one, returns once the task has
    /// written what was queued.
    pub(crate) async fn shutdown(&self, sink: &Arc<Sink>) {
        let mut finished = self.finished.subscribe();
        if !self.stopped.swap(true, Ordering::AcqRel) {
            self.start(sink);
            let (done, _) = oneshot::channel();
            // A closed queue means the task is ending already.
            let _ = self.sender.send(Message::Stop(done)).await;
        }
        let _ = finished.wait_for(|finished| *finished).await;
    }

    /// Messages still queued (approximately).
    fn queued_messages(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if !self.stopped.load(Ordering::Acquire) && self.queued_messages() > 0 {
            tracing::warn!(
                queued = self.queued_messages(),
                "audit auditor dropped without shutdown(): the background writer still writes what is queued, but only while the runtime runs; call `auditor.shutdown().await` before exiting"
            );
        }
    }
}

#[derive(Clone)]
struct Settings {
    batch_size: usize,
    linger: Duration,
    backoff: Backoff,
    max_retries: Option<u32>,
}

impl From<&AuditConfig> for Settings {
    fn from(config: &AuditConfig) -> Self {
        Self {
            batch_size: config.async_batch_size,
            linger: Duration::from_millis(config.async_linger_ms),
            backoff: Backoff::from_config(config),
            max_retries: config.async_max_retries,
        }
    }
}

/// The writer task; says `finished` when it has written everything.
async fn run(
    mut receiver: mpsc::Receiver<Message>,
    sink: Arc<Sink>,
    settings: Settings,
    finished: Arc<watch::Sender<bool>>,
) {
    let mut batch: Vec<(&'static str, LogEvent)> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut stop = None;
    while stop.is_none() {
        let Some(first) = receiver.recv().await else {
            break;
        };
        let mut rows = 0;
        let mut take = |message: Message, rows: &mut usize| -> bool {
            match message {
                Message::Rows(log_table, events) => {
                    *rows += events.len();
                    batch.extend(events.into_iter().map(|event| (log_table, event)));
                    true
                }
                Message::Flush(done) => {
                    waiting.push(done);
                    false
                }
                Message::Stop(done) => {
                    stop = Some(done);
                    false
                }
            }
        };
        let mut more = take(first, &mut rows);
        let deadline = Instant::now() + settings.linger;
        while more && rows < settings.batch_size {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(message)) => more = take(message, &mut rows),
                Ok(None) | Err(_) => break,
            }
        }
        for (log_table, events) in group_by_key(batch.drain(..)) {
            write_with_retry(&sink, log_table, &events, &settings).await;
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
    // Stopped (or every auditor is gone): write what is left, then report.
    receiver.close();
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Rows(log_table, events) => {
                write_with_retry(&sink, log_table, &events, &settings).await;
            }
            Message::Flush(done) | Message::Stop(done) => {
                let _ = done.send(());
            }
        }
    }
    if let Some(done) = stop {
        let _ = done.send(());
    }
    finished.send_replace(true);
}

/// Writes one log table's rows: retries with backoff while the error is
/// transient (the database down, a lock or statement timeout, busy); rows
/// the database refuses are isolated and kept in the dead-letter table;
/// anything else is given up, counted and logged as an error. Every row
/// carries an event id, so a retry after a lost answer writes nothing twice.
async fn write_with_retry(sink: &Sink, log_table: &str, rows: &[LogEvent], settings: &Settings) {
    let mut backoff = settings.backoff.clone();
    loop {
        let error = match sink.try_write(Target::Log, log_table, rows).await {
            Ok(refused) => {
                dead_letter(sink, log_table, rows, refused).await;
                return;
            }
            Err(error) => error,
        };
        let transient = match &error {
            Error::Unavailable { .. } => true,
            Error::Database { source, .. } => fault(source) == Fault::Transient,
            _ => false,
        };
        let retry = transient
            && settings
                .max_retries
                .is_none_or(|max| backoff.attempts() < max);
        if !retry {
            // Given up (or not a transient error): RAISE / FALLBACK decide.
            let result = match error {
                Error::Unavailable { source, .. } => {
                    sink.unavailable(Target::Log, log_table, rows, Some(source))
                        .await
                }
                Error::UnknownAlias { .. } => {
                    sink.unavailable(Target::Log, log_table, rows, None).await
                }
                other => Err(other),
            };
            match result {
                Ok(stored) => sink.count_stored(Target::Log, stored),
                Err(error) => {
                    Counters::add(&sink.stats().failed, rows.len());
                    tracing::error!(
                        table = log_table,
                        rows = rows.len(),
                        "audit writer could not write log rows: {error}"
                    );
                }
            }
            return;
        }
        Counters::add(&sink.stats().retried, rows.len());
        let delay = backoff.next_delay();
        tracing::warn!(
            table = log_table,
            rows = rows.len(),
            attempt = backoff.attempts(),
            retry_in_ms = delay.as_millis() as u64,
            "audit log rows not written yet; the writer retries: {error}"
        );
        tokio::time::sleep(delay).await;
    }
}

/// Keeps the rows the database refused in its dead-letter table, each
/// counted and logged as an error with the reason.
async fn dead_letter(sink: &Sink, log_table: &str, rows: &[LogEvent], refused: Vec<Refused>) {
    if refused.is_empty() {
        return;
    }
    for refused in &refused {
        tracing::error!(
            table = log_table,
            object_pk = %rows[refused.index].object_pk,
            "audit log row refused by the database; kept in `{DEAD_LETTER_TABLE}`: {}",
            refused.reason
        );
    }
    let count = refused.len();
    let letters: Vec<DeadLetter<'_>> = refused
        .into_iter()
        .map(|refused| DeadLetter {
            log_table,
            event: Cow::Borrowed(&rows[refused.index]),
            reason: refused.reason,
        })
        .collect();
    let Some(index) = sink.audit_index() else {
        return;
    };
    match sink.dead_letter(index, letters).await {
        Ok(()) => {
            Counters::add(&sink.stats().dead_lettered, count);
        }
        Err(error) => {
            Counters::add(&sink.stats().failed, count);
            tracing::error!(
                table = log_table,
                rows = count,
                "audit log rows refused by the database could not be kept in `{DEAD_LETTER_TABLE}` either: {error}"
            );
        }
    }
}
