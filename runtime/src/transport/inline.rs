//! The inline transport: rows are written through the sink during the
//! call (into the log tables, or into the outbox for the outbox transport).

use crate::Error;
use crate::event::LogEvent;
use crate::outcome::Delivered;
use crate::sink::{Sink, Target};

/// Writes `rows` to `target` now; rows stored in the outbox are `queued`
/// (a worker moves them later), rows in the log tables `written`.
pub(super) async fn write(
    sink: &Sink,
    target: Target,
    log_table: &str,
    rows: &[LogEvent],
) -> Result<Delivered, Error> {
    let stored = sink.write(target, log_table, rows).await?;
    let skipped = rows.len() - stored;
    Ok(match target {
        Target::Log => Delivered {
            written: stored,
            skipped,
            ..Delivered::default()
        },
        Target::Outbox => Delivered {
            queued: stored,
            skipped,
            ..Delivered::default()
        },
    })
}
