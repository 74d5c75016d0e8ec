//! `broker status` and `broker dead-letters list|retry|drop`, over the
//! runtime's `awesome_audit_log::broker::BrokerQueue`.

use std::io::{self, Write};

use awesome_audit_log::AuditConfig;
use awesome_audit_log::broker::{BrokerQueue, BrokerStatus, DeadEntry, RetryOutcome};
use serde_json::{Value, json};

use super::args::{BrokerArgs, BrokerCommand, DeadLettersCommand, DropArgs, ListArgs, RedisArgs};
use super::show::{SHOWN, age, short, time};
use super::{drop_confirmed, report_dropped, report_dropped_all};
use crate::error::Error;
use crate::exit::Exit;
use crate::output::json_line;

/// Runs a `broker` command. Exit 0 once done; 1 when a dead letter named
/// could not be retried or dropped (malformed, or not there) or a drop
/// was declined; 2 bad usage.
pub(crate) async fn run(args: &BrokerArgs, json: bool, out: &mut dyn Write) -> Result<Exit, Error> {
    let queue = open(&args.redis)?;
    match &args.command {
        BrokerCommand::Status => status(&queue, json, out).await,
        BrokerCommand::DeadLetters(DeadLettersCommand::List(list_args)) => {
            list(&queue, list_args, json, out).await
        }
        BrokerCommand::DeadLetters(DeadLettersCommand::Retry(retry_args)) => {
            retry(&queue, &retry_args.ids, json, out).await
        }
        BrokerCommand::DeadLetters(DeadLettersCommand::Drop(drop_args)) => {
            drop_entries(&queue, drop_args, json, out).await
        }
    }
}

/// The queue of the options, the runtime's defaults for what they leave out.
fn open(redis: &RedisArgs) -> Result<BrokerQueue, Error> {
    let mut config = AuditConfig::default();
    config.redis_url = Some(
        redis
            .redis_url
            .clone()
            .filter(|url| !url.trim().is_empty())
            .ok_or(Error::NoRedisUrl)?,
    );
    if let Some(stream) = redis.stream.clone().filter(|s| !s.is_empty()) {
        config.redis_stream = stream;
    }
    if let Some(group) = redis.group.clone().filter(|g| !g.is_empty()) {
        config.redis_group = group;
    }
    Ok(BrokerQueue::new(&config)?)
}

async fn status(queue: &BrokerQueue, json: bool, out: &mut dyn Write) -> Result<Exit, Error> {
    let status = queue.status().await?;
    if json {
        json_line(out, &status_json(&status))?;
    } else {
        print_status(out, queue, &status)?;
    }
    Ok(Exit::Success)
}

fn status_json(status: &BrokerStatus) -> Value {
    json!({
        "stream": status.stream,
        "exists": status.exists,
        "length": status.length,
        "group": status.group.as_ref().map(|group| json!({
            "name": group.name,
            "pending": group.pending,
            "last_delivered_id": group.last_delivered_id,
            "entries_read": group.entries_read,
            "lag": group.lag,
            "consumers": group.consumers.iter().map(|consumer| json!({
                "name": consumer.name,
                "pending": consumer.pending,
                "idle_ms": u64::try_from(consumer.idle.as_millis()).unwrap_or(u64::MAX),
            })).collect::<Vec<_>>(),
        })),
        "dead_stream": status.dead_stream,
        "dead_letters": status.dead_letters,
    })
}

fn print_status(out: &mut dyn Write, queue: &BrokerQueue, status: &BrokerStatus) -> io::Result<()> {
    if status.exists {
        writeln!(
            out,
            "stream {}: {} entr(ies) waiting",
            status.stream, status.length
        )?;
    } else {
        writeln!(out, "stream {}: none (no such stream yet)", status.stream)?;
    }
    match &status.group {
        None => writeln!(
            out,
            "group {}: none (no worker has started on this stream)",
            queue.group()
        )?,
        Some(group) => {
            let lag = group
                .lag
                .map_or_else(|| "unknown".to_owned(), |lag| lag.to_string());
            writeln!(
                out,
                "group {}: {} pending, last delivered {}, lag {lag}",
                group.name, group.pending, group.last_delivered_id
            )?;
            for consumer in &group.consumers {
                writeln!(
                    out,
                    "  consumer {}: {} pending, idle {}",
                    short(&consumer.name, SHOWN),
                    consumer.pending,
                    age(consumer.idle)
                )?;
            }
        }
    }
    writeln!(
        out,
        "dead letters {}: {}",
        status.dead_stream, status.dead_letters
    )
}

async fn list(
    queue: &BrokerQueue,
    args: &ListArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let page = queue.dead_letters(limit, args.after.as_ref()).await?;
    if json {
        json_line(
            out,
            &json!({
                "dead_stream": queue.dead_stream(),
                "entries": page.entries.iter().map(entry_json).collect::<Vec<_>>(),
                "next_after": page.next_after,
            }),
        )?;
        return Ok(Exit::Success);
    }
    if page.entries.is_empty() {
        writeln!(out, "no dead letters in {}", queue.dead_stream())?;
    }
    for entry in &page.entries {
        print_entry(out, entry)?;
    }
    if let Some(next) = &page.next_after {
        writeln!(out, "more: --after {next}")?;
    }
    Ok(Exit::Success)
}

fn entry_json(entry: &DeadEntry) -> Value {
    let event = entry.event.as_ref().ok();
    json!({
        "id": entry.id,
        "failed_at": entry.failed_at.map(time),
        "reason": entry.reason,
        "original_id": entry.original_id,
        "log_table": entry.log_table,
        "event_id": entry.event_id,
        "bytes": entry.bytes,
        "malformed": entry.event.as_ref().err(),
        "action": event.map(|event| event.action.as_str()),
        "object_pk": event.map(|event| event.object_pk.as_str()),
        "created_at": event.map(|event| time(event.created_at)),
    })
}

fn print_entry(out: &mut dyn Write, entry: &DeadEntry) -> io::Result<()> {
    let failed_at = entry.failed_at.map_or_else(|| "?".to_owned(), time);
    match &entry.event {
        Ok(event) => writeln!(
            out,
            "{}  {failed_at}  {} {} {}  event {}  {} bytes",
            entry.id,
            short(&event.log_table, SHOWN),
            event.action.as_str(),
            short(&event.object_pk, SHOWN),
            short(&event.event_id, SHOWN),
            entry.bytes
        )?,
        Err(why) => writeln!(
            out,
            "{}  {failed_at}  {}  event {}  {} bytes  MALFORMED: {}",
            entry.id,
            short(entry.log_table.as_deref().unwrap_or("?"), SHOWN),
            short(entry.event_id.as_deref().unwrap_or("?"), SHOWN),
            entry.bytes,
            short(why, 2 * SHOWN)
        )?,
    }
    if let Some(reason) = &entry.reason {
        writeln!(out, "    reason: {}", short(reason, 2 * SHOWN))?;
    }
    Ok(())
}

async fn retry(
    queue: &BrokerQueue,
    ids: &[awesome_audit_log::broker::EntryId],
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let outcomes = queue.retry(ids).await?;
    let all = outcomes
        .iter()
        .all(|(_, outcome)| matches!(outcome, RetryOutcome::Retried { .. }));
    if json {
        let entries: Vec<Value> = outcomes
            .iter()
            .map(|(id, outcome)| match outcome {
                RetryOutcome::Retried { new_id } => {
                    json!({"id": id.to_string(), "outcome": "retried", "new_id": new_id})
                }
                RetryOutcome::Malformed(why) => {
                    json!({"id": id.to_string(), "outcome": "malformed", "reason": why})
                }
                _ => json!({"id": id.to_string(), "outcome": "not_found"}),
            })
            .collect();
        json_line(
            out,
            &json!({ "stream": queue.stream(), "entries": entries }),
        )?;
    } else {
        for (id, outcome) in &outcomes {
            match outcome {
                RetryOutcome::Retried { new_id } => {
                    writeln!(out, "{id}: retried, now {new_id} in {}", queue.stream())?
                }
                RetryOutcome::Malformed(why) => writeln!(
                    out,
                    "{id}: not retried, malformed: {} (drop it, or fix it and add it by hand)",
                    short(why, 2 * SHOWN)
                )?,
                _ => writeln!(out, "{id}: not found in {}", queue.dead_stream())?,
            }
        }
    }
    Ok(Exit::from_ok(all))
}

async fn drop_entries(
    queue: &BrokerQueue,
    args: &DropArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let what = if args.all {
        format!("every dead letter in {}", queue.dead_stream())
    } else {
        format!(
            "{} dead letter(s) from {}",
            args.ids.len(),
            queue.dead_stream()
        )
    };
    if !drop_confirmed(args.yes, &what)? {
        return Ok(Exit::Failure);
    }
    if args.all {
        let dropped = queue.drop_all_dead_letters().await?;
        return report_dropped_all(out, json, dropped, queue.dead_stream());
    }
    let dropped = queue.drop_dead_letters(&args.ids).await?;
    report_dropped(out, json, &dropped, queue.dead_stream(), |id| {
        Value::from(id.to_string())
    })
}
