//! `outbox status` and `outbox dead-letters list|drop`: the outbox and the
//! dead-letter table of the database, over the runtime's
//! `awesome_audit_log::outbox::status` and `DeadLetterTable`.

use std::io::Write;

use awesome_audit_log::Database;
use awesome_audit_log::outbox::{self, DeadLetterTable, QueueStatus, TableRetry};
use awesome_audit_log_codegen::ddl::{DEAD_LETTER_TABLE, OUTBOX_TABLE};
use serde_json::{Value, json};

use super::args::{OutboxCommand, TableDeadLettersCommand, TableDropArgs, TableListArgs};
use super::show::{SHOWN, age, short, time};
use super::{drop_confirmed, report_dropped, report_dropped_all};
use crate::cli::GlobalArgs;
use crate::connect::Db;
use crate::error::Error;
use crate::exit::Exit;
use crate::output::json_line;
use crate::survey::database_options;

/// Runs an `outbox` command. `status` exits 0 once read, whatever waits
/// (a monitor reads the numbers from `--json`); `dead-letters drop` exits
/// 1 when an id was not there or the question was answered no.
pub(crate) async fn run(
    url: &str,
    global: &GlobalArgs,
    command: &OutboxCommand,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let (_, schema) = database_options(url, global)?;
    let db = Db::connect(url).await?;
    let database = db.database();
    let result = match command {
        OutboxCommand::Status => status(&database, schema, global.json, out).await,
        OutboxCommand::DeadLetters(TableDeadLettersCommand::List(args)) => {
            let table = DeadLetterTable::new(&database, schema);
            list(&table, args, global.json, out).await
        }
        OutboxCommand::DeadLetters(TableDeadLettersCommand::Retry(args)) => {
            let table = DeadLetterTable::new(&database, schema);
            retry(&table, &args.ids, global.json, out).await
        }
        OutboxCommand::DeadLetters(TableDeadLettersCommand::Drop(args)) => {
            let table = DeadLetterTable::new(&database, schema);
            drop_rows(&table, args, global.json, out).await
        }
    };
    db.close().await;
    result
}

async fn status(
    database: &Database,
    schema: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let status = outbox::status(database, schema).await?;
    if json {
        json_line(
            out,
            &json!({
                "outbox": queue_json(&status.outbox),
                "dead_letters": queue_json(&status.dead_letters),
            }),
        )?;
    } else {
        print_queue(out, "outbox", "waiting", &status.outbox)?;
        print_queue(out, "dead letters", "set aside", &status.dead_letters)?;
    }
    Ok(Exit::Success)
}

async fn list(
    table: &DeadLetterTable,
    args: &TableListArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let page = table.list(limit, args.after).await?;
    if json {
        let rows: Vec<Value> = page
            .rows
            .iter()
            .map(|row| {
                json!({
                    "id": row.id,
                    "log_table": row.log_table,
                    "action": row.action,
                    "object_pk": row.object_pk,
                    "event_id": row.event_id,
                    "reason": row.reason,
                    "failed_at": time(row.failed_at),
                    "bytes": row.bytes,
                })
            })
            .collect();
        json_line(
            out,
            &json!({ "table": DEAD_LETTER_TABLE, "rows": rows, "next_after": page.next_after }),
        )?;
        return Ok(Exit::Success);
    }
    if page.rows.is_empty() {
        writeln!(out, "no dead letters in {DEAD_LETTER_TABLE}")?;
    }
    let text = |value: &Option<String>| short(value.as_deref().unwrap_or("?"), SHOWN);
    for row in &page.rows {
        writeln!(
            out,
            "{}  {}  {} {} {}  event {}  {} bytes",
            row.id,
            time(row.failed_at),
            short(&row.log_table, SHOWN),
            text(&row.action),
            text(&row.object_pk),
            text(&row.event_id),
            row.bytes
        )?;
        writeln!(out, "    reason: {}", short(&row.reason, 2 * SHOWN))?;
    }
    if let Some(next) = page.next_after {
        writeln!(out, "more: --after {next}")?;
    }
    Ok(Exit::Success)
}

async fn retry(
    table: &DeadLetterTable,
    ids: &[i64],
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let outcomes = table.retry(ids).await?;
    let all = outcomes
        .iter()
        .all(|(_, outcome)| *outcome == TableRetry::Queued);
    if json {
        let entries: Vec<Value> = outcomes
            .iter()
            .map(|(id, outcome)| match outcome {
                TableRetry::Queued => json!({"id": id, "outcome": "queued"}),
                TableRetry::Refused(why) => {
                    json!({"id": id, "outcome": "refused", "reason": why})
                }
                _ => json!({"id": id, "outcome": "not_found"}),
            })
            .collect();
        json_line(out, &json!({ "entries": entries }))?;
    } else {
        for (id, outcome) in &outcomes {
            match outcome {
                TableRetry::Queued => writeln!(out, "{id}: back in {OUTBOX_TABLE}")?,
                TableRetry::Refused(why) => writeln!(
                    out,
                    "{id}: not retried, the outbox refused it: {}",
                    short(why, 2 * SHOWN)
                )?,
                _ => writeln!(
                    out,
                    "{id}: not found in {DEAD_LETTER_TABLE} (or it has no event id)"
                )?,
            }
        }
    }
    Ok(Exit::from_ok(all))
}

async fn drop_rows(
    table: &DeadLetterTable,
    args: &TableDropArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let what = if args.all {
        format!("every row of {DEAD_LETTER_TABLE}")
    } else {
        format!("{} row(s) of {DEAD_LETTER_TABLE}", args.ids.len())
    };
    if !drop_confirmed(args.yes, &what)? {
        return Ok(Exit::Failure);
    }
    if args.all {
        let dropped = table.drop_all().await?;
        return report_dropped_all(out, json, dropped, DEAD_LETTER_TABLE);
    }
    let dropped = table.drop(&args.ids).await?;
    report_dropped(out, json, &dropped, DEAD_LETTER_TABLE, |id| {
        Value::from(*id)
    })
}

fn queue_json(queue: &QueueStatus) -> Value {
    json!({
        "table": queue.table,
        "exists": queue.exists,
        "rows": queue.rows,
        "oldest": queue.oldest.map(time),
        "oldest_age_seconds": queue.oldest_age.map(|age| age.as_secs_f64()),
        "per_table": queue.per_table.iter().map(|table| json!({
            "log_table": table.log_table,
            "rows": table.rows,
            "oldest": time(table.oldest),
        })).collect::<Vec<_>>(),
    })
}

fn print_queue(
    out: &mut dyn Write,
    name: &str,
    state: &str,
    queue: &QueueStatus,
) -> std::io::Result<()> {
    if !queue.exists {
        return writeln!(out, "{name} ({}): none (no such table yet)", queue.table);
    }
    match (queue.oldest, queue.oldest_age) {
        (Some(oldest), Some(oldest_age)) => writeln!(
            out,
            "{name} ({}): {} row(s) {state}, the oldest from {} ({} ago)",
            queue.table,
            queue.rows,
            time(oldest),
            age(oldest_age)
        )?,
        _ => writeln!(out, "{name} ({}): none", queue.table)?,
    }
    let width = queue
        .per_table
        .iter()
        .map(|table| short(&table.log_table, 63).chars().count())
        .max()
        .unwrap_or(0);
    for table in &queue.per_table {
        writeln!(
            out,
            "  {:<width$}  {:>8} row(s)  oldest {}",
            short(&table.log_table, 63),
            table.rows,
            time(table.oldest)
        )?;
    }
    Ok(())
}
