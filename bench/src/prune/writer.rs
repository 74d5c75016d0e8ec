//! The writer beside the prune: one task logging a new object's insert
//! through `Widget::log_change`, one after another, recording when each
//! began and how long it waited.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use awesome_audit_log::chrono::Utc;
use awesome_audit_log::{Auditor, LogOutcome};
use tokio::task::JoinHandle;

use crate::Result;
use crate::model::Widget;

/// The running writer.
pub(crate) struct Writer {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Result<Vec<(Instant, Duration)>>>,
}

impl Writer {
    /// Starts logging inserts of objects `first_id`, `first_id + 1`, ...
    pub(crate) fn start(auditor: Auditor, first_id: i64) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut waits = Vec::new();
            let mut id = first_id;
            while !stopped.load(Ordering::Relaxed) {
                let widget = Widget {
                    id,
                    name: format!("widget {id}"),
                    qty: 1,
                    price: 150,
                    active: true,
                    updated_at: Utc::now(),
                };
                let began = Instant::now();
                let outcome = Widget::log_change(&auditor, None, Some(&widget)).await?;
                waits.push((began, began.elapsed()));
                if outcome != LogOutcome::Written {
                    return Err(format!("the writer's change {id} was {outcome:?}").into());
                }
                id += 1;
            }
            Ok(waits)
        });
        Writer { stop, task }
    }

    /// Stops the writer and sorts its waits into those that began before
    /// `prune_started` and those that began while the prune ran.
    pub(crate) async fn stop(self, prune_started: Instant, prune_ended: Instant) -> Result<Waits> {
        self.stop.store(true, Ordering::Relaxed);
        let all = self
            .task
            .await
            .map_err(|e| format!("the writer failed: {e}"))??;
        let mut waits = Waits::default();
        for (began, wait) in all {
            if began < prune_started {
                waits.alone.push(wait);
            } else if began < prune_ended {
                waits.during.push(wait);
            } else {
                waits.after += 1;
            }
        }
        if waits.alone.is_empty() || waits.during.is_empty() {
            return Err("the writer logged nothing before or during the prune".into());
        }
        Ok(waits)
    }
}

/// How long each of the writer's changes took.
#[derive(Debug, Default)]
pub(crate) struct Waits {
    /// Before the prune began.
    pub(crate) alone: Vec<Duration>,
    /// While it ran.
    pub(crate) during: Vec<Duration>,
    /// Changes begun after it ended.
    pub(crate) after: usize,
}

impl Waits {
    /// Changes the writer logged in all.
    pub(crate) fn logged(&self) -> u64 {
        (self.alone.len() + self.during.len() + self.after) as u64
    }
}
