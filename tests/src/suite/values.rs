//! What the columns hold at their limits: context values longer than their
//! column are cut to fit and marked, and a history matches its key exactly.

use awesome_audit_log::AuditConfig;
use awesome_audit_log::context::{self, AuditContext, EntryPoint};

use super::fixtures::{original_log_table, widget};
use crate::models::{Account, AccountLog, Widget, WidgetLog};
use crate::{Kind, TestDb};

/// The marker that ends a value cut to fit its column.
const CUT: char = '\u{2026}';

/// The most a context column holds on `kind`, as its type says: `VARCHAR(n)`
/// holds `n` characters (PostgreSQL, MySQL), MySQL's `TEXT` 65,535 bytes,
/// PostgreSQL's and SQLite's `TEXT` what we would ever write.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Chars(usize),
    Bytes(usize),
    None,
}

fn limit(kind: Kind, column: &str) -> Limit {
    let varchar = match column {
        "entry_point" => Some(20),
        "method" => Some(10),
        _ => None,
    };
    match (kind, varchar) {
        (Kind::Sqlite, _) => Limit::None,
        (Kind::Postgres | Kind::MySql, Some(n)) => Limit::Chars(n),
        (Kind::Postgres, None) => Limit::None,
        (Kind::MySql, None) => Limit::Bytes(65_535),
    }
}

fn fits(value: &str, limit: Limit) -> bool {
    match limit {
        Limit::Chars(n) => value.chars().count() <= n,
        Limit::Bytes(n) => value.len() <= n,
        Limit::None => true,
    }
}

/// `stored` is `original` when that fits; otherwise the longest prefix of
/// `original` that fits with the marker after it, then the marker.
fn assert_fitted(column: &str, stored: Option<&str>, original: &str, limit: Limit) {
    let stored = stored.unwrap_or_else(|| panic!("`{column}` is NULL"));
    if fits(original, limit) {
        assert_eq!(stored, original, "`{column}` fits and is stored whole");
        return;
    }
    assert!(fits(stored, limit), "`{column}` exceeds {limit:?}");
    let kept = stored
        .strip_suffix(CUT)
        .unwrap_or_else(|| panic!("`{column}` is cut without the marker"));
    assert!(original.starts_with(kept), "`{column}` is not a prefix");
    let next = original[kept.len()..].chars().next().unwrap_or(CUT);
    assert!(
        !fits(&format!("{kept}{next}{CUT}"), limit),
        "`{column}` is cut shorter than it needs"
    );
}

/// Every context value longer than its column is cut at a character
/// boundary to fit (MySQL's `TEXT` holds 65,535 bytes, `VARCHAR(n)` `n`
/// characters) and ends with the marker, so the change is still logged;
/// values that fit are stored as they are.
pub async fn context_values_fit_their_columns(db: TestDb) {
    let auditor = db.auditor(AuditConfig::default());
    // A 4-byte character straddles MySQL's cut (65,535 bytes less the
    // 3-byte marker), then 2-byte characters run past the 64 KiB.
    let agent = format!("{}\u{1F980}{}", "a".repeat(65_530), "é".repeat(20_000));
    // 2-byte characters from an odd offset: one straddles every even cut.
    let path = format!("/{}", "é".repeat(35_000));
    let contexts = [
        AuditContext::new(EntryPoint::Http)
            .with_user_agent(&agent)
            .with_path(&path)
            .with_route(format!("/{}", "🦀".repeat(20_000)))
            .with_method("ABCDEFGHéXYZ")
            .with_ip(format!("203.0.113.9{}", " ".repeat(70_000)))
            .with_user(Some(1), Some("ü".repeat(40_000))),
        // Ten characters in eleven bytes fit `VARCHAR(10)`; so does a
        // value of exactly 65,535 bytes MySQL's `TEXT`.
        AuditContext::new(EntryPoint::Http)
            .with_method("ABCDEFGHIé")
            .with_user_agent("b".repeat(65_535))
            .with_path(format!("{}é", "c".repeat(65_533))),
    ];
    for (id, ctx) in (1..).zip(&contexts) {
        let _ = context::scope(ctx.clone(), async {
            Widget::log_change(&auditor, None, Some(&widget(id, 1))).await
        })
        .await
        .unwrap_or_else(|e| panic!("row {id}: {e}"));

        let rows = WidgetLog::for_object(&auditor, &id).await.unwrap();
        let [row] = &rows[..] else {
            panic!("one row for widget {id}, got {}", rows.len())
        };
        let record = row;
        for (column, stored, original) in [
            (
                "entry_point",
                record.entry_point.as_deref(),
                Some(ctx.entry_point.as_str()),
            ),
            ("route", record.route.as_deref(), ctx.route.as_deref()),
            ("path", record.path.as_deref(), ctx.path.as_deref()),
            ("method", record.method.as_deref(), ctx.method.as_deref()),
            ("ip", record.ip.as_deref(), ctx.ip.as_deref()),
            (
                "user_name",
                record.user_name.as_deref(),
                ctx.user_name.as_deref(),
            ),
            (
                "user_agent",
                record.user_agent.as_deref(),
                ctx.user_agent.as_deref(),
            ),
        ] {
            match original {
                Some(original) => {
                    assert_fitted(column, stored, original, limit(db.kind, column));
                }
                None => assert_eq!(stored, None, "`{column}`"),
            }
        }
        assert_eq!(record.user_id, ctx.user_id);
    }
}

/// A history holds the rows of its key and only those: on MySQL/MariaDB,
/// whose default collations ignore case, accents and trailing spaces, too;
/// in a table we create and in one the original created (there in a
/// Latin-1 table on MySQL, as older servers made them).
pub async fn history_matches_the_key_exactly(db: TestDb) {
    let keys = ["abc", "ABC", "abc ", "äbc", "Abc", " abc", "abc"];
    for original_table in [false, true] {
        if original_table {
            db.exec("DROP TABLE account_log").await;
            let ddl = match db.kind {
                Kind::MySql => format!(
                    "{} DEFAULT CHARSET=latin1",
                    original_log_table(AccountLog::DDL_MYSQL)
                ),
                Kind::Postgres => original_log_table(AccountLog::DDL_POSTGRES),
                Kind::Sqlite => original_log_table(AccountLog::DDL_SQLITE),
            };
            db.exec(&ddl).await;
        }
        let auditor = db.auditor(AuditConfig::default());
        for key in keys {
            let _ = Account::log_change(&auditor, None, Some(&Account::sample(key)))
                .await
                .unwrap();
        }
        for key in keys {
            let rows = AccountLog::for_object(&auditor, key).await.unwrap();
            let pks: Vec<&str> = rows.iter().map(|r| r.object_pk.as_str()).collect();
            let expected = keys.iter().filter(|k| **k == key).count();
            assert_eq!(
                pks,
                vec![key; expected],
                "history of {key:?} (original's table: {original_table})"
            );
            for row in &rows {
                assert_eq!(row.after.as_ref().unwrap()["uuid"], key);
            }
        }
        assert!(
            AccountLog::for_object(&auditor, "abc  ")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
