//! Backing off and running until shutdown: the one retry policy of the
//! in-process writer, the outbox worker and the broker worker.
//! Exponential backoff from ASYNC_RETRY_BASE_MS up to ASYNC_RETRY_MAX_MS,
//! with "equal jitter" (half the delay fixed, half random), so workers that
//! failed together do not retry together.

use std::future::Future;
use std::time::Duration;

use crate::Error;
use crate::config::AuditConfig;

/// The delays between the attempts of one piece of work.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// ASYNC_RETRY_BASE_MS doubling up to ASYNC_RETRY_MAX_MS.
    pub(crate) fn from_config(config: &AuditConfig) -> Self {
        let base = Duration::from_millis(config.async_retry_base_ms.max(1));
        Self::new(
            base,
            Duration::from_millis(config.async_retry_max_ms).max(base),
        )
    }

    pub(crate) fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// Failed attempts since the last success.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The pause before the next attempt; counts this failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(20));
        let delay = exp.min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let half = delay / 2;
        half + half.mul_f64(jitter())
    }

    /// Starts over after a success.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
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

/// Runs `step` until `shutdown` completes: again at once after it did some
/// work, after `idle` when there was none, after the backoff when it
/// failed (each failure logged as a warning by `worker`). A step cut short
/// by the shutdown leaves its work for the next run: the workers only
/// acknowledge what they committed.
pub(crate) async fn run_until<F, Fut>(
    worker: &str,
    shutdown: impl Future<Output = ()>,
    mut backoff: Backoff,
    idle: Duration,
    mut step: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<usize, Error>>,
{
    tokio::pin!(shutdown);
    loop {
        let pause = tokio::select! {
            () = &mut shutdown => return,
            result = step() => match result {
                Ok(0) => idle,
                Ok(_) => {
                    backoff.reset();
                    Duration::ZERO
                }
                Err(error) => {
                    let pause = backoff.next_delay();
                    tracing::warn!(
                        retry_in_ms = pause.as_millis() as u64,
                        "{worker}: {error}"
                    );
                    pause
                }
            },
        };
        if !pause.is_zero() {
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1_000));
        for (attempt, full) in [
            (0, 100),
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1_000),
            (5, 1_000),
        ] {
            assert_eq!(backoff.attempts(), attempt);
            let delay = backoff.next_delay().as_millis() as u64;
            assert!(
                delay >= full / 2 && delay <= full,
                "attempt {attempt}: {delay} ms"
            );
        }
        for _ in 0..40 {
            backoff.next_delay();
        }
        assert!(backoff.next_delay() <= Duration::from_millis(1_000));
        backoff.reset();
        assert_eq!(backoff.attempts(), 0);
        assert!(backoff.next_delay() <= Duration::from_millis(100));
    }
}
