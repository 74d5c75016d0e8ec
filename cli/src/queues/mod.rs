//! The queues' commands: `outbox status` on the database, `broker status`
//! and `broker dead-letters list|retry|drop` on the Redis stream. Each is
//! a thin layer over the runtime's own API (`awesome_audit_log::outbox::status`,
//! `awesome_audit_log::broker::BrokerQueue`), so an application reads the
//! same from code.

mod args;
mod broker;
mod outbox;
mod show;

use std::fmt::Display;
use std::io::{self, BufRead, IsTerminal, Write};

use serde_json::{Value, json};

pub use args::{
    BrokerArgs, BrokerCommand, DeadLettersCommand, DropArgs, ListArgs, OutboxCommand, RedisArgs,
    RetryArgs, TableDeadLettersCommand, TableDropArgs, TableListArgs, TableRetryArgs,
};
pub(crate) use broker::run as broker;
pub(crate) use outbox::run as outbox;

use crate::error::Error;
use crate::exit::Exit;
use crate::output::json_line;

/// Whether a drop of `what` goes ahead: at once with `--yes`, else asked
/// on the terminal (none: a usage error); a no is said on stderr.
fn drop_confirmed(yes: bool, what: &str) -> Result<bool, Error> {
    if yes {
        return Ok(true);
    }
    if !io::stdin().is_terminal() {
        return Err(Error::NoTerminalToDrop);
    }
    let go = confirmed(&format!("Drop {what}?"))?;
    if !go {
        eprintln!("nothing was dropped");
    }
    Ok(go)
}

/// Asks `question` on the terminal; only `y` or `yes` goes ahead.
fn confirmed(question: &str) -> Result<bool, Error> {
    let mut stderr = io::stderr();
    write!(stderr, "{question} [y/N] ")?;
    stderr.flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Prints what a drop of every entry of `place` did.
fn report_dropped_all(
    out: &mut dyn Write,
    json: bool,
    dropped: u64,
    place: &str,
) -> Result<Exit, Error> {
    if json {
        json_line(out, &json!({ "dropped": dropped }))?;
    } else {
        writeln!(out, "dropped {dropped} from {place}")?;
    }
    Ok(Exit::Success)
}

/// Prints what a drop by id did (`id_json`: an id as JSON); exit 1 unless
/// every id was there.
fn report_dropped<I: Display>(
    out: &mut dyn Write,
    json: bool,
    dropped: &[(I, bool)],
    place: &str,
    id_json: fn(&I) -> Value,
) -> Result<Exit, Error> {
    let count = dropped.iter().filter(|(_, found)| *found).count();
    if json {
        let entries: Vec<Value> = dropped
            .iter()
            .map(|(id, found)| json!({"id": id_json(id), "dropped": found}))
            .collect();
        json_line(out, &json!({ "dropped": count, "entries": entries }))?;
    } else {
        for (id, found) in dropped {
            if *found {
                writeln!(out, "{id}: dropped")?;
            } else {
                writeln!(out, "{id}: not found in {place}")?;
            }
        }
    }
    Ok(Exit::from_ok(count == dropped.len()))
}
