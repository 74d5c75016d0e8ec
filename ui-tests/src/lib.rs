//! Compile-pass and compile-fail cases of `#[audited]`; see `tests/ui.rs`.
