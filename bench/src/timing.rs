//! Timing a phase: wall time and the process's CPU time, as samples.

use std::time::{Duration, Instant};

use crate::modes::Phase;

/// A timed phase of one mode in one repetition.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) rep: usize,
    pub(crate) label: &'static str,
    pub(crate) phase: &'static str,
    pub(crate) ops: usize,
    pub(crate) elapsed: Duration,
    pub(crate) cpu: Duration,
}

/// CPU time (user + system) of this process, all threads, so far.
fn process_cpu() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

/// A phase clock: wall time and process CPU time since `start`.
pub(crate) struct Clock {
    wall: Instant,
    cpu: Duration,
}

impl Clock {
    pub(crate) fn start() -> Self {
        Self {
            cpu: process_cpu(),
            wall: Instant::now(),
        }
    }

    pub(crate) fn sample(
        &self,
        rep: usize,
        label: &'static str,
        phase: Phase,
        ops: usize,
    ) -> Sample {
        let elapsed = self.wall.elapsed();
        Sample {
            rep,
            label,
            phase: phase.name(),
            ops,
            elapsed,
            cpu: process_cpu().saturating_sub(self.cpu),
        }
    }
}
