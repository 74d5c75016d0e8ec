//! The tool run as a user runs it: the built binary against a fresh
//! database of each backend (a temporary SQLite file; a new database on
//! the servers of `AUDIT_TEST_POSTGRES_URL` and `AUDIT_TEST_MYSQL_URL`),
//! checking its stdout and exit status, and what it did to the tables.
//!
//! A server whose URL is not set has its cases reported as ignored (and
//! says so on stderr), never as passed; with `AUDIT_TEST_REQUIRE_ALL=1` a
//! missing URL fails them instead.
//!
//! The binary is also the application that embeds the tool, when run with
//! [`embedded::VAR`] set ([`tool::embedded`] runs it so).

mod aliases;
mod cases;
mod embedded;
mod partitions;
mod queues;
mod retention;
mod tables;
#[cfg(unix)]
mod terminal;
mod tool;
mod triggers;

use std::future::Future;
use std::pin::Pin;

use awesome_audit_log_tests::harness::say_skipped;
use awesome_audit_log_tests::{Kind, TestDb};
use libtest_mimic::{Arguments, Failed, Trial};

type Case = fn(TestDb) -> Pin<Box<dyn Future<Output = ()>>>;

/// A case on SQLite and the Redis server of `AUDIT_TEST_REDIS_URL`.
type RedisCase = fn(TestDb, String) -> Pin<Box<dyn Future<Output = ()>>>;

/// `(name, case)` for each case named.
macro_rules! cases {
    ($($case:ident),* $(,)?) => {
        cases![in cases; $($case),*]
    };
    (in $module:ident; $($case:ident),* $(,)?) => {
        [$((stringify!($case), (|db| Box::pin($module::$case(db))) as Case)),*]
    };
}

fn main() {
    if std::env::var_os(embedded::VAR).is_some() {
        embedded::main();
    }
    let args = Arguments::from_args();
    let require_all = std::env::var("AUDIT_TEST_REQUIRE_ALL").as_deref() == Ok("1");
    let every_backend = cases![
        original_tables_are_repaired_without_losing_a_row,
        pre_1_0_created_at_defaults_are_dropped,
        previous_version_tables_get_the_new_column_and_indexes,
        current_tables_are_ok,
        look_alikes_are_never_touched,
        null_times_block_the_repair,
        usage_errors_exit_2,
        locked_tables_fail_within_the_lock_timeout,
    ];
    let aliases = cases![in aliases; database_aliases_name_urls];
    let retention = cases![in retention;
        prune_deletes_what_the_rules_let_go,
        dedupe_deletes_empty_updates,
    ];
    let queue_cases = cases![in queues;
        outbox_status_and_dead_letters_per_table,
        outbox_status_needs_a_database,
    ];
    let partition_cases = cases![in partitions;
        partitions_are_maintained,
        exported_partitioned_tables_check_ok,
        tables_are_converted,
    ];
    let trigger_cases = cases![in triggers;
        triggers_are_installed_checked_and_removed,
        outdated_and_unaudited_triggers_are_found_and_fixed,
        standalone_lists_and_removes_triggers_by_name,
    ];
    let mut trials = Vec::new();
    for (kind, backend, var) in [
        (Kind::Sqlite, "sqlite", None),
        (Kind::Postgres, "postgres", Some("AUDIT_TEST_POSTGRES_URL")),
        (Kind::MySql, "mysql", Some("AUDIT_TEST_MYSQL_URL")),
    ] {
        let unset = var.filter(|var| std::env::var(var).map_or(true, |url| url.is_empty()));
        let skipped = unset.is_some() && !require_all;
        if let (Some(var), true) = (unset, skipped) {
            say_skipped(var);
        }
        let only_here: &[(&str, Case)] = match kind {
            Kind::Sqlite => &[
                cases![embedded_models_are_taken][0],
                cases![in retention; embedded_policies_are_used][0],
                #[cfg(unix)]
                cases![in terminal; prune_asks_and_draws_a_bar_on_a_terminal][0],
                #[cfg(unix)]
                cases![in terminal; schema_apply_asks_on_a_terminal][0],
                #[cfg(unix)]
                cases![in terminal; triggers_install_asks_on_a_terminal][0],
            ],
            Kind::Postgres => &cases![postgres_schema_holds_the_tables],
            Kind::MySql => &cases![mysql_on_update_timestamps_are_fixed],
        };
        let queues_here: &[(&str, Case)] = match kind {
            Kind::Postgres => &cases![in queues;
                outbox_status_reads_the_schema,
                outbox_retry_refused_stays,
            ],
            _ => &[],
        };
        for &(name, case) in every_backend
            .iter()
            .chain(&aliases)
            .chain(&retention)
            .chain(&partition_cases)
            .chain(&trigger_cases)
            .chain(only_here)
            .chain(&queue_cases)
            .chain(queues_here)
        {
            trials.push(
                Trial::test(format!("{backend}::{name}"), move || run(kind, case))
                    .with_ignored_flag(skipped),
            );
        }
    }
    let redis_url = std::env::var("AUDIT_TEST_REDIS_URL").unwrap_or_default();
    let skipped = redis_url.is_empty() && !require_all;
    if skipped {
        say_skipped("AUDIT_TEST_REDIS_URL");
    }
    let broker_cases: [(&str, RedisCase); 3] = [
        ("broker_status_and_dead_letters", |db, url| {
            Box::pin(queues::broker_status_and_dead_letters(db, url))
        }),
        ("broker_usage_errors_exit_2", |db, url| {
            Box::pin(queues::broker_usage_errors_exit_2(db, url))
        }),
        ("retried_dead_letters_are_written_once", |db, url| {
            Box::pin(queues::retried_dead_letters_are_written_once(db, url))
        }),
    ];
    for (name, case) in broker_cases {
        let url = redis_url.clone();
        trials.push(
            Trial::test(format!("redis::{name}"), move || run_redis(url, case))
                .with_ignored_flag(skipped),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}

/// Runs `case` on a fresh SQLite database and the Redis server at `url`
/// (which must be set: with `AUDIT_TEST_REQUIRE_ALL=1` an unset one fails).
fn run_redis(url: String, case: RedisCase) -> Result<(), Failed> {
    if url.is_empty() {
        return Err("AUDIT_TEST_REDIS_URL is not set (AUDIT_TEST_REQUIRE_ALL=1)".into());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if let Some(db) = TestDb::new(Kind::Sqlite).await {
            case(db, url).await;
        }
    });
    Ok(())
}

/// Runs `case` on a fresh database of `kind` (none, after saying so, when
/// its server is not configured and not required).
fn run(kind: Kind, case: Case) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        if let Some(db) = TestDb::new(kind).await {
            case(db).await;
        }
    });
    Ok(())
}
