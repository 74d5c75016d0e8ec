//! The background writer of ASYNC mode: `log_change` takes the timestamp and
//! the context, hands the row to a bounded queue and returns; one tokio task
//! drains the queue, gathers rows into batches (by count and a short linger
//! time), writes each log table's rows with one multi-row INSERT per chunk,
//! and retries with exponential backoff and jitter while the database is
//! down. Rows are written in the order they were queued, so the rows of one
//! object are never reordered.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::backend::is_unavailable;
use crate::config::{AuditConfig, QueueFull};
use crate::event::LogEvent;
use crate::{Auditor, Error, ModelInfo};

enum Message {
    Rows(&'static ModelInfo, Vec<LogEvent>),
    Flush(oneshot::Sender<()>),
    Stop(oneshot::Sender<()>),
}

/// The queue and the handle of the writer task.
pub(crate) struct Writer {
    sender: mpsc::Sender<Message>,
    /// Taken by the task when it starts (on the first queued row).
    receiver: Mutex<Option<mpsc::Receiver<Message>>>,
    policy: QueueFull,
    stopped: AtomicBool,
}

/// What a queued write did.
pub(crate) enum Enqueued {
    /// The rows are in the queue.
    Accepted,
    /// The queue was full and the policy is `drop`: the rows were dropped (counted, warned).
    Dropped,
    /// The writer was shut down: the caller writes inline.
    Stopped(Vec<LogEvent>),
}

impl Writer {
    pub(crate) fn new(config: &AuditConfig) -> Self {
        let (sender, receiver) = mpsc::channel(config.async_queue_size);
        Self {
            sender,
            receiver: Mutex::new(Some(receiver)),
            policy: config.async_queue_full,
            stopped: AtomicBool::new(false),
        }
    }

    /// Queues `rows`; `auditor` is the inline auditor the task writes with,
    /// started on first use (there is a runtime then: we are in async code).
    pub(crate) async fn enqueue(
        &self,
        auditor: &Auditor,
        model: &'static ModelInfo,
        rows: Vec<LogEvent>,
    ) -> Enqueued {
        if self.stopped.load(Ordering::Acquire) {
            return Enqueued::Stopped(rows);
        }
        self.start(auditor);
        let message = Message::Rows(model, rows);
        let returned = match self.policy {
            QueueFull::Wait => match self.sender.send(message).await {
                Ok(()) => return Enqueued::Accepted,
                Err(mpsc::error::SendError(returned)) => returned,
            },
            QueueFull::Drop => match self.sender.try_send(message) {
                Ok(()) => return Enqueued::Accepted,
                Err(mpsc::error::TrySendError::Full(Message::Rows(model, rows))) => {
                    let total = auditor.count_dropped(rows.len());
                    tracing::warn!(
                        table = model.log_table(),
                        rows = rows.len(),
                        dropped_total = total,
                        "audit writer queue is full; rows dropped (ASYNC_QUEUE_FULL = \"drop\")"
                    );
                    return Enqueued::Dropped;
                }
                Err(
                    mpsc::error::TrySendError::Full(returned)
                    | mpsc::error::TrySendError::Closed(returned),
                ) => returned,
            },
        };
        match returned {
            Message::Rows(_, rows) => Enqueued::Stopped(rows),
            Message::Flush(_) | Message::Stop(_) => Enqueued::Stopped(Vec::new()),
        }
    }

    fn start(&self, auditor: &Auditor) {
        let Some(receiver) = self
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return;
        };
        let settings = Settings::from(auditor.config());
        tokio::spawn(run(receiver, auditor.clone(), settings));
    }

    /// Waits until every row queued before this call is written (or given up).
    pub(crate) async fn flush(&self, auditor: &Auditor) {
        if self.stopped.load(Ordering::Acquire) {
            return;
        }
        self.start(auditor);
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Flushes and stops the task; later rows are written inline.
    pub(crate) async fn shutdown(&self, auditor: &Auditor) {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return;
        }
        self.start(auditor);
        let (done, wait) = oneshot::channel();
        if self.sender.send(Message::Stop(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Rows still queued (approximately).
    pub(crate) fn queued_messages(&self) -> usize {
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

#[derive(Clone, Copy)]
struct Settings {
    batch_size: usize,
    linger: Duration,
    retry_base: Duration,
    retry_max: Duration,
    max_retries: Option<u32>,
}

impl From<&AuditConfig> for Settings {
    fn from(config: &AuditConfig) -> Self {
        Self {
            batch_size: config.async_batch_size,
            linger: Duration::from_millis(config.async_linger_ms),
            retry_base: Duration::from_millis(config.async_retry_base_ms.max(1)),
            retry_max: Duration::from_millis(
                config
                    .async_retry_max_ms
                    .max(config.async_retry_base_ms.max(1)),
            ),
            max_retries: config.async_max_retries,
        }
    }
}

/// The writer task. `auditor` writes inline (it has no writer of its own).
async fn run(mut receiver: mpsc::Receiver<Message>, auditor: Auditor, settings: Settings) {
    let auditor = auditor.inline();
    let mut batch: Vec<(&'static ModelInfo, Vec<LogEvent>)> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut stop = None;
    while stop.is_none() {
        let Some(first) = receiver.recv().await else {
            break;
        };
        let mut rows = 0;
        let mut take = |message: Message, rows: &mut usize| -> bool {
            match message {
                Message::Rows(model, events) => {
                    *rows += events.len();
                    match batch.iter_mut().find(|(m, _)| std::ptr::eq(*m, model)) {
                        Some((_, queued)) => queued.extend(events),
                        None => batch.push((model, events)),
                    }
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
        for (model, events) in batch.drain(..) {
            write_with_retry(&auditor, model, &events, settings).await;
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
    // Stopped (or every auditor is gone): write what is left, then report.
    receiver.close();
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Rows(model, events) => {
                write_with_retry(&auditor, model, &events, settings).await
            }
            Message::Flush(done) | Message::Stop(done) => {
                let _ = done.send(());
            }
        }
    }
    if let Some(done) = stop {
        let _ = done.send(());
    }
}

/// Writes one log table's rows, retrying while the audit database is down.
async fn write_with_retry(
    auditor: &Auditor,
    model: &'static ModelInfo,
    rows: &[LogEvent],
    settings: Settings,
) {
    let mut attempt: u32 = 0;
    loop {
        let error = match auditor.try_write(model, rows).await {
            Ok(()) => return,
            Err(error) => error,
        };
        let retry = matches!(&error, Error::Unavailable { source, .. } if is_unavailable(source))
            && settings.max_retries.is_none_or(|max| attempt < max);
        if !retry {
            // Given up (or not a transient error): RAISE / FALLBACK decide.
            let result = match error {
                Error::Unavailable { source, .. } => {
                    auditor.unavailable_for(model, rows, Some(source)).await
                }
                Error::UnknownAlias { .. } => auditor.unavailable_for(model, rows, None).await,
                other => Err(other),
            };
            if let Err(error) = result {
                auditor.count_failed(rows.len());
                tracing::error!(
                    table = model.log_table(),
                    rows = rows.len(),
                    "audit writer could not write log rows: {error}"
                );
            }
            return;
        }
        auditor.count_retried(rows.len());
        let backoff = backoff(settings, attempt);
        tracing::warn!(
            table = model.log_table(),
            rows = rows.len(),
            attempt = attempt + 1,
            retry_in_ms = backoff.as_millis() as u64,
            "audit database unavailable; the writer retries: {error}"
        );
        tokio::time::sleep(backoff).await;
        attempt = attempt.saturating_add(1);
    }
}

/// Exponential backoff with "equal jitter": half the delay fixed, half random.
fn backoff(settings: Settings, attempt: u32) -> Duration {
    let exp = settings.retry_base.saturating_mul(1u32 << attempt.min(20));
    let delay = exp.min(settings.retry_max);
    let half = delay / 2;
    half + half.mul_f64(jitter())
}

/// A number in [0, 1) from the clock; jitter needs spread, not secrecy.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut x = u64::from(nanos) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x % 1_000_000) as f64 / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let settings = Settings {
            batch_size: 1,
            linger: Duration::ZERO,
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_millis(1_000),
            max_retries: None,
        };
        for (attempt, full) in [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1_000),
            (30, 1_000),
        ] {
            let delay = backoff(settings, attempt).as_millis() as u64;
            assert!(
                delay >= full / 2 && delay <= full,
                "attempt {attempt}: {delay} ms"
            );
        }
    }
}
