//! The audit context handed to the database for one transaction, so that
//! the rows its triggers write record who made the change; see the
//! [module docs](super#the-context-in-trigger-rows).

use awesome_audit_log_codegen::ddl::{COLUMNS, Column};
use awesome_audit_log_codegen::trigger::context::{
    CONTEXT_COLUMNS, USER_ID, begin_statement, clear_statement, create_table_statement,
    set_statement,
};

use crate::backend::{AuditDatabase, Backend, Conn, Param, fit_column};
use crate::context::AuditContext;
use crate::error::classify::is_undefined_table;
use crate::{Dialect, Error};

/// Hands the context of the current [audit scope](crate::context::scope)
/// to the database for the open transaction `tx`, so that every row the
/// model triggers write in it records who made the change: what the
/// auditor's own transactions ([`Auditor::begin`](crate::Auditor::begin))
/// do for you, for a transaction the application began itself. Returns
/// whether there was a scope (outside one, nothing is handed over and the
/// rows carry NULL context, as the hand-called path's do).
///
/// On MySQL/MariaDB and SQLite the context stays until it is cleared:
/// call [`clear_context`] before you commit (a rollback, or dropping the
/// transaction, clears it on SQLite, not on MySQL/MariaDB, whose session
/// variables outlive the transaction). On PostgreSQL it ends with the
/// transaction and `clear_context` does nothing. Wrapping the transaction
/// with [`Auditor::transaction`](crate::Auditor::transaction) does all of
/// this at its commit and rollback.
///
/// ```
/// use awesome_audit_log::context::{self, AuditContext};
/// use awesome_audit_log::triggers;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let ctx = AuditContext::shell("fix-prices").with_user(Some(7), Some("ada".into()));
/// context::scope(ctx, async {
///     let mut tx = pool.begin().await?;
///     assert!(triggers::set_context(&mut tx).await?);
///     // ... writes whose triggers record user 7 ...
///     triggers::clear_context(&mut tx).await?;
///     tx.commit().await?;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .await?;
/// # Ok(())
/// # }
/// ```
pub async fn set_context<DB: AuditDatabase>(
    tx: &mut sqlx::Transaction<'_, DB>,
) -> Result<bool, Error> {
    let ctx = crate::context::current();
    hand_over::<DB::Driver>(&mut *tx, ctx.as_deref())
        .await
        .map_err(|source| Error::TriggerContext { source })?;
    Ok(ctx.is_some())
}

/// Removes the context [`set_context`] handed to the database for the
/// open transaction `tx`; call it before committing. Nothing to remove is
/// no error.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let mut tx = pool.begin().await?;
/// // Outside a scope there is no context to hand over.
/// assert!(!awesome_audit_log::triggers::set_context(&mut tx).await?);
/// awesome_audit_log::triggers::clear_context(&mut tx).await?;
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
pub async fn clear_context<DB: AuditDatabase>(
    tx: &mut sqlx::Transaction<'_, DB>,
) -> Result<(), Error> {
    clear::<DB::Driver>(&mut *tx, true)
        .await
        .map_err(|source| Error::TriggerContext { source })
}

/// Hands `ctx` to the database for the transaction open on `conn`; with no
/// context, clears what an earlier transaction on the connection may have
/// left (MySQL's session variables; PostgreSQL's settings and SQLite's row
/// never outlive their transaction). Returns whether something must be
/// cleared before the transaction ends.
pub(crate) async fn hand_over<D: Backend>(
    conn: &mut Conn<D>,
    ctx: Option<&AuditContext>,
) -> Result<bool, sqlx::Error> {
    let Some(ctx) = ctx else {
        if D::DIALECT == Dialect::MySql {
            clear::<D>(conn, true).await?;
        }
        return Ok(false);
    };
    let params = params(ctx, D::DIALECT);
    let set = set_statement(D::DIALECT);
    // The write comes first: on SQLite a transaction that read before it
    // writes cannot wait for another writer (it is refused at once), and
    // creating the table only when missing keeps the first step a write.
    match D::execute_bound(conn, &set, &params).await {
        Err(error) if is_undefined_table(&error) => {
            if let Some(create) = create_table_statement(D::DIALECT) {
                D::execute(conn, &create).await?;
            }
            D::execute_bound(conn, &set, &params).await?;
        }
        other => {
            other?;
        }
    }
    Ok(D::DIALECT != Dialect::Postgres)
}

/// Removes the context handed to the transaction open on `conn`, when
/// `set` (something was handed over).
pub(crate) async fn clear<D: Backend>(conn: &mut Conn<D>, set: bool) -> Result<(), sqlx::Error> {
    match clear_statement(D::DIALECT) {
        Some(sql) if set => match D::execute(conn, &sql).await {
            // SQLite's table is made by the first context handed over.
            Err(error) if is_undefined_table(&error) => Ok(()),
            other => other,
        },
        _ => Ok(()),
    }
}

/// The values of [`CONTEXT_COLUMNS`] in order, as text (`user_id` too;
/// an empty string for a missing value), each cut to fit its column as a
/// `log_change` row's are, so that both paths write the same values.
fn params(ctx: &AuditContext, dialect: Dialect) -> Vec<Param> {
    texts(ctx, dialect).into_iter().map(Param::Text).collect()
}

/// The values of [`params`], as strings.
fn texts(ctx: &AuditContext, dialect: Dialect) -> Vec<String> {
    CONTEXT_COLUMNS
        .iter()
        .map(|name| match value(ctx, name) {
            None => String::new(),
            Some(Value::Int(id)) => id.to_string(),
            Some(Value::Text(text)) => match column(name) {
                Some(column) => fit_column(column, dialect, text).into_owned(),
                None => text.to_owned(),
            },
        })
        .collect()
}

/// PostgreSQL: the `BEGIN` that hands `ctx` over in the same round trip
/// ([`begin_statement`]), for [`Auditor::begin`](crate::Auditor::begin);
/// `None` on the other databases.
pub(crate) fn begin_with_context<D: Backend>(ctx: &AuditContext) -> Option<String> {
    if D::DIALECT != Dialect::Postgres {
        return None;
    }
    let texts = texts(ctx, D::DIALECT);
    let values: Vec<&str> = texts.iter().map(String::as_str).collect();
    begin_statement(D::DIALECT, &values)
}

/// A context column's value.
enum Value<'a> {
    Text(&'a str),
    Int(i64),
}

fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|column| column.name == name)
}

/// The context column `name` of `ctx`.
fn value<'a>(ctx: &'a AuditContext, name: &str) -> Option<Value<'a>> {
    let text = match name {
        USER_ID => return ctx.user_id.map(Value::Int),
        "entry_point" => Some(ctx.entry_point.as_str()),
        "route" => ctx.route.as_deref(),
        "path" => ctx.path.as_deref(),
        "method" => ctx.method.as_deref(),
        "ip" => ctx.ip.as_deref(),
        "user_name" => ctx.user_name.as_deref(),
        "user_agent" => ctx.user_agent.as_deref(),
        "correlation_id" => ctx.correlation_id.as_deref(),
        _ => None,
    };
    text.map(Value::Text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::EntryPoint;

    #[test]
    fn every_context_column_has_its_value() {
        let ctx = AuditContext::new(EntryPoint::Http)
            .with_route("/r")
            .with_path("/p")
            .with_method("GET")
            .with_ip("203.0.113.9")
            .with_user(Some(7), Some("ada".into()))
            .with_user_agent("ua")
            .with_correlation_id("c-1");
        let values = params(&ctx, Dialect::MySql);
        assert_eq!(values.len(), CONTEXT_COLUMNS.len());
        let none = Param::Text(String::new());
        assert!(values.iter().all(|value| *value != none), "{values:?}");
        assert_eq!(values[5], Param::Text("7".into()));
        let empty = params(&AuditContext::new(EntryPoint::Shell), Dialect::Sqlite);
        assert_eq!(empty[0], Param::Text("shell".into()));
        assert!(empty[1..].iter().all(|value| *value == none));
    }

    #[test]
    fn values_are_cut_like_log_change_rows() {
        let ctx = AuditContext::new(EntryPoint::Http).with_method("PROPPATCHXYZ");
        assert_eq!(
            params(&ctx, Dialect::MySql)[3],
            Param::Text("PROPPATCH\u{2026}".into())
        );
    }
}
