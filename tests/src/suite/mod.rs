//! The behavioural suite, run unchanged against every backend.
//!
//! Each case takes a fresh [`TestDb`](crate::TestDb) and panics on failure.
//! The test targets instantiate every case with [`crate::suite!`].
//!
//! The cases are grouped by concern in the submodules and re-exported here,
//! where [`crate::suite!`] finds them by name.

/// Generates one `#[tokio::test]` per case of the suite for a backend:
/// `suite!(sqlite)`, `suite!(postgres)` or `suite!(mysql)`.
///
/// The server backends also get the cases that need a server reached over
/// the network. When a server's URL was not set at build time (and
/// `AUDIT_TEST_REQUIRE_ALL` was not `1`), `tests/build.rs` sets the cfg
/// `aal_no_postgres` / `aal_no_mysql` and their cases are marked
/// `#[ignore]`, so the test runner counts them as ignored, with the reason.
#[macro_export]
macro_rules! suite {
    (sqlite) => {
        $crate::suite!(@local $crate::Kind::Sqlite;);
    };
    (postgres) => {
        $crate::suite!(@server $crate::Kind::Postgres;
            #[cfg_attr(
                aal_no_postgres,
                ignore = "set AUDIT_TEST_POSTGRES_URL to run the PostgreSQL suite"
            )]
        );
    };
    (mysql) => {
        $crate::suite!(@server $crate::Kind::MySql;
            #[cfg_attr(
                aal_no_mysql,
                ignore = "set AUDIT_TEST_MYSQL_URL to run the MySQL / MariaDB suite"
            )]
        );
    };
    (@local $kind:expr; $(#[$attr:meta])*) => {
        $crate::suite!(@cases $kind; [$(#[$attr])*];
            log_table_created_on_first_use,
            insert_update_delete_rows,
            only_changed_fields_in_changes,
            unchanged_updates,
            audit_models_list,
            not_audit_models_wins,
            disabled_logs_nothing,
            missing_alias_raises,
            missing_alias_skips_and_counts,
            missing_alias_falls_back_to_default,
            unavailable_database,
            timestamps_within_the_call,
            redact_skip_and_rename,
            batch_logging_in_chunks,
            odd_values_do_not_panic,
            history_is_oldest_first,
            history_rows_as_json,
            concurrent_first_use_loses_nothing,
            unknown_labels_are_rejected,
            transaction_on_the_audit_database,
            transaction_with_another_audit_database,
            server_that_comes_back_is_used_again,
            pg_schema_holds_the_log_tables,
            writes_into_tables_the_original_created,
            async_rows_equal_sync_rows,
            async_writer_survives_an_outage,
            async_flush_and_shutdown,
            async_drop_policy_counts,
            outbox_moves_each_row_exactly_once,
            outbox_redelivery_is_a_no_op,
            outbox_survives_sigkill,
            async_transaction_rows_wait_for_commit,
            context_values_fit_their_columns,
            history_matches_the_key_exactly,
            writer_isolates_a_refused_row_in_every_position,
            outbox_moves_past_refused_rows,
            writer_retries_lock_timeouts,
            tables_are_remembered_only_once_committed,
            writer_ends_with_its_auditor_and_shutdowns_wait,
            rows_larger_than_a_statement,
            outbox_sets_aside_rows_it_cannot_trust,
            outbox_waits_out_lock_timeouts,
            history_filters_agree_with_a_plain_reading,
            as_of_every_moment,
            as_of_all_objects,
            unrestorable_fields_are_named,
            diffs_between_any_versions,
            restore_refuses_a_lost_update,
            rows_the_original_wrote_read_back,
            queries_across_models,
            rows_of_one_scope_share_a_correlation_id,
            new_log_tables_get_their_indexes,
            tables_of_the_original_and_earlier_versions_stay_writable,
            outbox_delivers_the_correlation_id,
            prune_rules_agree_with_a_plain_reading,
            prune_batches_of_every_size,
            dedupe_removes_only_empty_updates,
            prune_under_concurrent_writers,
            retention_on_tables_the_original_created,
            models_prune_by_their_policy,
            retention_touches_only_log_tables,
            trigger_rows_equal_log_change_rows,
            uuid_keys_are_logged_as_text,
            plain_sql_changes_are_logged,
            unchanged_updates_follow_the_setting,
            installation_is_idempotent_and_checked,
            triggers_write_the_original_tables_and_follow_pg_schema,
            trigger_rows_carry_the_scope_context,
            hostile_context_values_arrive_intact,
            context_values_with_nul_are_kept_or_refused,
            cancelled_begins_leave_no_context,
            no_context_leaks_through_pooled_connections,
            ended_transactions_leave_no_context,
            partitioned_log_tables,
            partition_maintenance_under_concurrent_writers,
            partition_convert_keeps_every_row,
            partitioned_redelivery_is_a_no_op,
        );
    };
    // The cases above, and those that need a server reached over the
    // network (a proxy in front of it, a pool of connections to it).
    (@server $kind:expr; $(#[$attr:meta])*) => {
        $crate::suite!(@local $kind; $(#[$attr])*);
        $crate::suite!(@cases $kind; [$(#[$attr])*];
            writer_writes_once_after_lost_answers,
            first_use_in_transactions_on_a_full_pool,
            outbox_moves_once_through_lost_answers,
        );
    };
    // One case at a time, so that the attributes repeat with each.
    (@cases $kind:expr; [$($attrs:tt)*]; $case:ident $(, $rest:ident)* $(,)?) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        $($attrs)*
        async fn $case() {
            if let Some(db) = $crate::TestDb::new($kind).await {
                $crate::suite::$case(db).await;
            }
        }
        $crate::suite!(@cases $kind; [$($attrs)*]; $($rest),*);
    };
    (@cases $kind:expr; [$($attrs:tt)*];) => {};
}

/// Runs `$body` with `$DB` the sqlx database type of `$db`'s backend.
/// Defined before the modules of cases, which use it.
macro_rules! for_backend {
    ($db:expr, |$DB:ident| $body:block) => {
        match $db.kind {
            Kind::Sqlite => {
                type $DB = sqlx::Sqlite;
                $body
            }
            Kind::Postgres => {
                type $DB = sqlx::Postgres;
                $body
            }
            Kind::MySql => {
                type $DB = sqlx::MySql;
                $body
            }
        }
    };
}

mod aliases;
mod asynchronous;
mod correlation;
mod faults;
mod fixtures;
mod history;
mod outbox;
mod partitions;
mod retention;
mod rows;
mod selection;
mod tables;
mod transactions;
mod trigger_context;
mod triggers;
mod values;

pub use aliases::{
    missing_alias_falls_back_to_default, missing_alias_raises, missing_alias_skips_and_counts,
    server_that_comes_back_is_used_again, unavailable_database,
};
pub use asynchronous::{
    async_drop_policy_counts, async_flush_and_shutdown, async_rows_equal_sync_rows,
    async_transaction_rows_wait_for_commit, async_writer_survives_an_outage,
};
pub use correlation::{
    new_log_tables_get_their_indexes, outbox_delivers_the_correlation_id,
    rows_of_one_scope_share_a_correlation_id,
    tables_of_the_original_and_earlier_versions_stay_writable,
};
pub use faults::{
    LockHolder, batch_refused_at, first_use_in_transactions_on_a_full_pool, locked_out,
    outbox_moves_once_through_lost_answers, outbox_moves_past_refused_rows,
    outbox_sets_aside_rows_it_cannot_trust, outbox_waits_out_lock_timeouts, refuse_widget_13,
    rows_larger_than_a_statement, tables_are_remembered_only_once_committed,
    writer_ends_with_its_auditor_and_shutdowns_wait,
    writer_isolates_a_refused_row_in_every_position, writer_retries_lock_timeouts,
    writer_writes_once_after_lost_answers,
};
pub use history::{
    as_of_all_objects, as_of_every_moment, diffs_between_any_versions,
    history_filters_agree_with_a_plain_reading, queries_across_models,
    restore_refuses_a_lost_update, rows_the_original_wrote_read_back,
    unrestorable_fields_are_named,
};
pub use outbox::{
    outbox_moves_each_row_exactly_once, outbox_redelivery_is_a_no_op, outbox_survives_sigkill,
};
pub use partitions::{
    partition_convert_keeps_every_row, partition_maintenance_under_concurrent_writers,
    partitioned_log_tables, partitioned_redelivery_is_a_no_op,
};
pub use retention::{
    dedupe_removes_only_empty_updates, models_prune_by_their_policy, prune_batches_of_every_size,
    prune_rules_agree_with_a_plain_reading, prune_under_concurrent_writers,
    retention_on_tables_the_original_created, retention_touches_only_log_tables,
};
pub use rows::{
    batch_logging_in_chunks, history_is_oldest_first, history_rows_as_json,
    insert_update_delete_rows, odd_values_do_not_panic, only_changed_fields_in_changes,
    redact_skip_and_rename, timestamps_within_the_call, unchanged_updates,
};
pub use selection::{
    audit_models_list, disabled_logs_nothing, not_audit_models_wins, unknown_labels_are_rejected,
};
pub use tables::{
    concurrent_first_use_loses_nothing, log_table_created_on_first_use,
    pg_schema_holds_the_log_tables, writes_into_tables_the_original_created,
};
pub use transactions::{
    transaction_on_the_audit_database, transaction_with_another_audit_database,
};
pub use trigger_context::{
    cancelled_begins_leave_no_context, context_values_with_nul_are_kept_or_refused,
    ended_transactions_leave_no_context, hostile_context_values_arrive_intact,
    no_context_leaks_through_pooled_connections, trigger_rows_carry_the_scope_context,
};
/// The fixtures of the trigger cases, for the targets that apply exported
/// triggers: the `gadget` table, a row of it, writes through plain SQL, and
/// the `badge` table.
pub use triggers::{
    create_badge_table, create_table as create_gadget_table, gadget,
    insert_sql as insert_gadget_sql, write as write_gadget,
};
pub use triggers::{
    installation_is_idempotent_and_checked, plain_sql_changes_are_logged,
    trigger_rows_equal_log_change_rows, triggers_write_the_original_tables_and_follow_pg_schema,
    unchanged_updates_follow_the_setting, uuid_keys_are_logged_as_text,
};
pub use values::{context_values_fit_their_columns, history_matches_the_key_exactly};
