//! The dead-letter table: where rows go that the database refused, with
//! the reason, so that one bad row never holds back or takes down the rows
//! around it and is never lost silently.

use std::borrow::Cow;
use std::sync::OnceLock;

use super::Sink;
use super::insert::{create_in_transaction, create_table, statement_budget, statement_limit};
use crate::backend::{Backend, Conn, DeadLetter, DeadLetterSql, PoolTask};
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

    /// Copies the outbox row `outbox_id` into the dead-letter table inside
    /// the caller's transaction on the database at `index`, under a
    /// savepoint, creating the table on first use.
    pub(crate) async fn dead_letter_outbox_row<D: Backend>(
        &self,
        conn: &mut Conn<D>,
        index: usize,
        outbox_id: i64,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        let sql = self.dead_letter_sql(index);
        let failed_at = now();
        D::execute(conn, &format!("SAVEPOINT {DEAD_LETTER}")).await?;
        let mut result = D::copy_to_dead_letters(conn, sql, outbox_id, reason, failed_at).await;
        if matches!(&result, Err(e) if is_undefined_table(e)) {
            D::execute(conn, &format!("ROLLBACK TO SAVEPOINT {DEAD_LETTER}")).await?;
            create_in_transaction::<D>(conn, &self.databases[index].1, &sql.create).await?;
            result = D::copy_to_dead_letters(conn, sql, outbox_id, reason, failed_at).await;
        }
        result?;
        D::execute(conn, &format!("RELEASE SAVEPOINT {DEAD_LETTER}")).await
    }
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
            let mut result = D::insert_dead_letters(&mut conn, self.sql, one, failed_at).await;
            if matches!(&result, Err(e) if is_undefined_table(e)) {
                create_table::<D>(&mut conn, &self.sql.create).await?;
                result = D::insert_dead_letters(&mut conn, self.sql, one, failed_at).await;
            }
            match result {
                Err(e) if fault(&e) == Fault::BadRow => {
                    let bare = [without_json(row, &e.to_string())];
                    D::insert_dead_letters(&mut conn, self.sql, &bare, failed_at).await?;
                }
                result => result?,
            }
        }
        Ok(())
    }
}
