//! The dead-letter table: where rows go that the database refused, with
//! the reason, so that one bad row never holds back or takes down the rows
//! around it and is never lost silently.

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use super::Sink;
use super::insert::{Creation, ensure_table, statement_budget, statement_limit};
use crate::backend::{Backend, Conn, DeadLetter, DeadLetterSql, PoolTask, TableShape};
use crate::error::classify::{Fault, fault, is_undefined_table};
use crate::event::{LogEvent, now};

const DEAD_LETTER: &str = "awesome_audit_log_dead_letter";

impl Sink {
    fn dead_letter_sql(&self, index: usize) -> &DeadLetterSql {
        self.dead_letters[index].get_or_init(|| {
            DeadLetterSql::new(
                self.databases[index].1.dialect(),
                self.config.pg_schema.as_deref(),
            )
        })
    }

    /// Writes `rows` into the dead-letter table of the database at `index`
    /// (created on first use). A row the database refuses even there (too
    /// large for one statement) is kept without its JSON, and its reason
    /// says so.
    pub(crate) async fn dead_letter(
        &self,
        index: usize,
        rows: Vec<DeadLetter<'_>>,
    ) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let task = DeadLetters {
            sql: self.dead_letter_sql(index),
            rows,
            limit: &self.limits[index],
        };
        self.databases[index].1.run(task).await
    }

    /// Copies the outbox row `outbox_id` (of an outbox of `outbox` shape)
    /// into the dead-letter table inside the caller's transaction on the
    /// database at `index`, under a savepoint, creating the table on first
    /// use.
    pub(crate) async fn dead_letter_outbox_row<D: Backend>(
        &self,
        conn: &mut Conn<D>,
        index: usize,
        outbox: TableShape,
        outbox_id: i64,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = self.dead_letter_sql(index);
        let copy = OutboxCopy {
            sql,
            creation: Creation::InTransaction(&self.databases[index].1),
            outbox,
            outbox_id,
            reason,
            failed_at: now(),
        };
        D::execute(conn, &format!("SAVEPOINT {DEAD_LETTER}")).await?;
        let mut result = copy.run::<D>(conn).await;
        if matches!(&result, Err(e) if is_undefined_table(e)) {
            D::execute(conn, &format!("ROLLBACK TO SAVEPOINT {DEAD_LETTER}")).await?;
            sql.def.forget_shape();
            result = copy.run::<D>(conn).await;
        }
        result?;
        D::execute(conn, &format!("RELEASE SAVEPOINT {DEAD_LETTER}")).await
    }
}

/// One outbox row to copy into the dead-letter table.
struct OutboxCopy<'a> {
    sql: &'a DeadLetterSql,
    creation: Creation<'a>,
    outbox: TableShape,
    outbox_id: i64,
    reason: &'a str,
    failed_at: DateTime<Utc>,
}

impl OutboxCopy<'_> {
    /// Copies the row with the columns both tables have, learning the
    /// dead-letter table's shape (and creating it) first.
    async fn run<D: Backend>(&self, conn: &mut Conn<D>) -> Result<(), sqlx::Error> {
        let shape = ensure_table::<D>(conn, &self.sql.def, self.creation, &[]).await?;
        let copy = self.sql.copy_from_outbox(shape, self.outbox);
        D::copy_to_dead_letters(conn, copy, self.outbox_id, self.reason, self.failed_at).await
    }
}

/// Inserts `rows` into the dead-letter table on a pool connection,
/// learning its shape (and creating it) first.
async fn insert_dead_letters<D: Backend>(
    conn: &mut Conn<D>,
    sql: &DeadLetterSql,
    rows: &[DeadLetter<'_>],
    failed_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let shape = ensure_table::<D>(conn, &sql.def, Creation::OnConnection, &[]).await?;
    D::insert_dead_letters(conn, sql, shape, rows, failed_at).await
}

/// Writes dead letters on a pool connection.
struct DeadLetters<'a> {
    sql: &'a DeadLetterSql,
    rows: Vec<DeadLetter<'a>>,
    limit: &'a OnceLock<Option<u64>>,
}

/// `row` without its JSON, the reason saying why.
fn without_json<'a>(row: &DeadLetter<'a>, why: &str) -> DeadLetter<'a> {
    let event = LogEvent {
        before: None,
        after: None,
        changes: None,
        ..row.event.as_ref().clone()
    };
    DeadLetter {
        log_table: row.log_table,
        event: Cow::Owned(event),
        reason: format!("{} (before, after and changes not kept: {why})", row.reason),
    }
}

impl PoolTask for DeadLetters<'_> {
    type Output = Result<(), sqlx::Error>;

    async fn run<D: Backend>(self, pool: &sqlx::Pool<D::Db>) -> Self::Output {
        let mut conn = pool.acquire().await?;
        let limit = statement_limit::<D>(self.limit, &mut conn).await?;
        let rows: Vec<DeadLetter<'_>> = self
            .rows
            .iter()
            .map(|row| match limit {
                Some(limit)
                    if row.event.estimated_bytes() + row.reason.len() as u64
                        > statement_budget(limit) =>
                {
                    without_json(row, "too large for one statement")
                }
                _ => DeadLetter {
                    log_table: row.log_table,
                    event: Cow::Borrowed(row.event.as_ref()),
                    reason: row.reason.clone(),
                },
            })
            .collect();
        let failed_at = now();
        // One row at a time: dead letters are rare, and each one is kept
        // or reported on its own.
        for row in &rows {
            let one = std::slice::from_ref(row);
            let mut result = insert_dead_letters::<D>(&mut conn, self.sql, one, failed_at).await;
            if matches!(&result, Err(e) if is_undefined_table(e)) {
                self.sql.def.forget_shape();
                result = insert_dead_letters::<D>(&mut conn, self.sql, one, failed_at).await;
            }
            match result {
                Err(e) if fault(&e) == Fault::BadRow => {
                    let bare = [without_json(row, &e.to_string())];
                    insert_dead_letters::<D>(&mut conn, self.sql, &bare, failed_at).await?;
                }
                result => result?,
            }
        }
        Ok(())
    }
}
