//! Restoring a past version: the typed value, for the application to write
//! back and log like any change, guarded against a lost update.

use serde_json::Value;

use super::as_of::{last_row, state_map};
use super::query::read;
use crate::{Action, Audited, Auditor, Error, LogRow};

/// The value of the version `version` of its object (its `after`; for a
/// delete row, the state it deleted), for the caller to write back and log
/// with `log_change`. Fields the log cannot give (skipped, redacted, added
/// later) are taken from `current`.
///
/// `current` is the object as the caller read it (`None`: it does not
/// exist now, e.g. to bring back a deleted object); clone it first to log
/// the change from it. The restore goes ahead
/// only if that is the state the log's last row for the object left:
/// otherwise someone changed the object since the caller read it, or
/// changed it without logging, and the restore fails with
/// [`Error::Stale`] rather than overwrite that change unseen. The check
/// reads the log; write back in a transaction that checks the row too
/// (e.g. `UPDATE … WHERE version = …`) where writers race.
pub async fn restore<M: Audited>(
    auditor: &Auditor,
    version: &impl LogRow,
    current: Option<M>,
) -> Result<M, Error> {
    let log_table = M::MODEL.log_table();
    let object_pk = version.object_pk();
    let last = read(auditor, log_table, &last_row(object_pk, None))
        .await?
        .into_iter()
        .next();
    let logged = last.as_ref().and_then(|row| row.state().cloned());
    let seen = current
        .as_ref()
        .map(|value| crate::json::snapshot(value))
        .transpose()
        .map_err(|source| Error::Snapshot {
            model: M::MODEL.label(),
            source,
        })?
        .map(|text| serde_json::from_str::<Value>(&text))
        .transpose()
        .map_err(|e| Error::Decode {
            table: log_table.to_owned(),
            message: format!("the current value's snapshot: {e}"),
        })?;
    if logged != seen {
        return Err(Error::Stale {
            table: log_table.to_owned(),
            object_pk: object_pk.to_owned(),
            last_row: last.map(|row| row.id),
        });
    }
    let state = match version.action() {
        Action::Delete => version.before(),
        Action::Insert | Action::Update => version.after(),
    };
    let state = state_map::<M>(version, state)?;
    M::restore(&state, current).map_err(|fields| Error::Unrestorable {
        table: log_table.to_owned(),
        object_pk: object_pk.to_owned(),
        fields,
    })
}
