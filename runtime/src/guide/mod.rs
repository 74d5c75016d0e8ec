//! The user guide: how the library works and how to run it, one chapter
//! per topic. The crate-level docs and the README are the short version;
//! these chapters are the long one. Every Rust example in them runs as a
//! doctest against an in-memory SQLite database, so the guide follows the
//! API it describes.
//!
//! 1. [Concepts](concepts): models, log tables, events, transports, the
//!    sink; what is stored, when, and what is promised.
//! 2. [The `#[audited]` macro](macro_reference): attributes, what it
//!    generates, what it rejects.
//! 3. [Settings](settings): every key, its default, loading from TOML and
//!    the environment, validation.
//! 4. [Transactions](transactions): logging inside the application's
//!    transaction; audit database here or elsewhere.
//! 5. [Asynchronous transports](async_transports): the in-process writer,
//!    the outbox, the Redis broker; retries, dead letters, counters.
//! 6. [Context capture](context_capture): who and what caused a change;
//!    scopes, the HTTP layer, commands, jobs, spawned work.
//! 7. [Schema export and migrations](schema_export): the log tables' DDL,
//!    and the triggers of models declared with them, as migration files.
//! 8. [Reading history](reading_history): one object's history with
//!    filters and keyset pages, its state at any moment, every object's
//!    state, diffs and JSON Patch, restores, what one request did across
//!    models, and what reads back exactly.
//! 9. [Operations](operations): the `awesome-audit-log` tool (schema check
//!    and repair, the original's tables adopted); retention (prune and
//!    dedupe, in batches); counters; the outbox, the stream and their dead
//!    letters, read with the tool's `outbox status` and `broker status`
//!    (or from code), listed, retried and dropped with `outbox
//!    dead-letters` and `broker dead-letters`; the database triggers with
//!    `triggers status`, `install` and `uninstall`.
//! 10. [Compatibility with the Django original](compatibility): the shared
//!     tables, the deliberate departures, the original's bugs we fix.
//! 11. [Benchmarks](benchmarks): how to run them and how to read the
//!     ratios.
//! 12. [Capture by database triggers](triggers): `#[audited(triggers)]`,
//!     installing (from code, with your migrations, with the tool), the
//!     rows they write, which field types, and what is not built yet.

#[doc = include_str!("concepts.md")]
pub mod concepts {}

#[doc = include_str!("macro_reference.md")]
pub mod macro_reference {}

#[doc = include_str!("settings.md")]
pub mod settings {}

#[doc = include_str!("transactions.md")]
pub mod transactions {}

#[doc = include_str!("async_transports.md")]
pub mod async_transports {}

#[doc = include_str!("context_capture.md")]
pub mod context_capture {}

#[doc = include_str!("schema_export.md")]
pub mod schema_export {}

#[doc = include_str!("reading_history.md")]
pub mod reading_history {}

#[doc = include_str!("operations.md")]
pub mod operations {}

#[doc = include_str!("compatibility.md")]
pub mod compatibility {}

#[doc = include_str!("benchmarks.md")]
pub mod benchmarks {}

#[doc = include_str!("triggers.md")]
pub mod triggers {}
