//! Integration tests of awesome-audit-log against real databases.
//!
//! One behavioural suite ([`suite`]) runs against each backend: the test
//! targets `sqlite`, `postgres` and `mysql` each instantiate it with
//! [`suite!`]. Every test works in a fresh database (a temporary SQLite file,
//! or a new PostgreSQL / MariaDB database created from the server URL) and
//! drops it afterwards.
//!
//! The `context` target checks who-made-the-change: the HTTP layer on a real
//! axum server ([`server`]) queried with a real client, and the command, job
//! and shell scopes (on SQLite: the context columns are written the same way
//! on every backend).
//!
//! The `broker` target runs the Redis transport against the server at
//! `AUDIT_TEST_REDIS_URL`, writing into each backend.
//!
//! Server URLs come from `AUDIT_TEST_POSTGRES_URL` and `AUDIT_TEST_MYSQL_URL`.
//! Without them at build time, the tests that need them are marked ignored
//! (`tests/build.rs` sets the cfgs `aal_no_postgres`, `aal_no_mysql` and
//! `aal_no_redis`), so the test runner counts them as ignored with the
//! reason; run anyway (`--include-ignored`), they print that they were
//! skipped. With `AUDIT_TEST_REQUIRE_ALL=1` a missing URL is a failure.

pub mod harness;
pub mod models;
pub mod server;
pub mod stream;
pub mod suite;

pub use harness::{Kind, TestDb};
