//! Statements that lose a race with a lock, a busy database or a deadlock
//! are tried again a few times (reads, retention batches): the one retry
//! policy of the statements a caller waits for.

use std::future::Future;
use std::time::Duration;

use crate::error::classify::{Fault, fault, is_unavailable};

/// How many times a statement that lost a race is tried again (after 40,
/// 160 and 640 ms).
const RETRIES: u32 = 3;

/// Runs `attempt` until it succeeds, fails otherwise than by losing a race
/// (see [`lost_a_race`]), or has lost [`RETRIES`] + 1 times.
pub(super) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, sqlx::Error>>,
{
    let mut retries = 0;
    loop {
        match attempt().await {
            // A lock or a busy database (a table being created in another
            // transaction, rows being written): the statement can win
            // shortly.
            Err(e) if retries < RETRIES && lost_a_race(&e) => {
                retries += 1;
                tokio::time::sleep(Duration::from_millis(10 << (2 * retries))).await;
            }
            other => return other,
        }
    }
}

/// A lock, a busy database, a timeout or a deadlock: not an outage.
fn lost_a_race(error: &sqlx::Error) -> bool {
    fault(error) == Fault::Transient && !is_unavailable(error)
}
