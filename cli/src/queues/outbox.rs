//! `outbox status`: the outbox and the dead-letter table of the database,
//! read with `awesome_audit_log::outbox::status`.

use std::io::Write;

use awesome_audit_log::Database;
use awesome_audit_log::outbox::{self, QueueStatus};
use serde_json::{Value, json};

use super::args::OutboxCommand;
use super::show::{age, short, time};
use crate::cli::GlobalArgs;
use crate::connect::Db;
use crate::error::Error;
use crate::exit::Exit;
use crate::output::json_line;
use crate::survey::database_options;

/// Runs an `outbox` command: exit 0 once read, whatever waits (a monitor
/// reads the numbers from `--json`).
pub(crate) async fn run(
    global: &GlobalArgs,
    command: &OutboxCommand,
    out: &mut dyn Write,
) -> Result<Exit, Error> {
    let OutboxCommand::Status = command;
    let (url, _, schema) = database_options(global)?;
    let db = Db::connect(url).await?;
    let database: Database = match &db {
        Db::Postgres(pool) => pool.clone().into(),
        Db::MySql(pool) => pool.clone().into(),
        Db::Sqlite(pool) => pool.clone().into(),
    };
    let status = outbox::status(&database, schema).await;
    db.close().await;
    let status = status?;
    if global.json {
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
