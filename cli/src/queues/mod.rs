//! The queues' commands: `outbox status` on the database, `broker status`
//! and `broker dead-letters list|retry|drop` on the Redis stream. Each is
//! a thin layer over the runtime's own API (`awesome_audit_log::outbox::status`,
//! `awesome_audit_log::broker::BrokerQueue`), so an application reads the
//! same from code.

mod args;
mod broker;
mod outbox;
mod show;

use std::io::{self, BufRead, Write};

pub use args::{
    BrokerArgs, BrokerCommand, DeadLettersCommand, DropArgs, ListArgs, OutboxCommand, RedisArgs,
    RetryArgs,
};
pub(crate) use broker::run as broker;
pub(crate) use outbox::run as outbox;

use crate::error::Error;

/// Asks `question` on the terminal; only `y` or `yes` goes ahead.
fn confirmed(question: &str) -> Result<bool, Error> {
    let mut stderr = io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}
