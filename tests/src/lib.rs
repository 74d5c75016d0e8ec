//! Integration tests of awesome-audit-log against real databases.
//!
//! One behavioural suite ([`suite`]) runs against each backend: the test
//! targets `sqlite`, `postgres` and `mysql` each instantiate it with
//! [`suite!`]. Every test works in a fresh database (a temporary SQLite file,
//! or a new PostgreSQL / MariaDB database created from the server URL) and
//! drops it afterwards.
//!
//! Server URLs come from `AUDIT_TEST_POSTGRES_URL` and `AUDIT_TEST_MYSQL_URL`.
//! Without them those tests print that they were skipped; with
//! `AUDIT_TEST_REQUIRE_ALL=1` a missing URL is a failure.

pub mod harness;
pub mod models;
pub mod suite;

pub use harness::{Kind, TestDb};
