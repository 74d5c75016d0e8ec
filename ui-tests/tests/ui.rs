//! Compile-pass and compile-fail cases of `#[audited]`.
//!
//! Regenerate the expected output with `TRYBUILD=overwrite` and review the
//! diff of every `.stderr` file.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/pass/*.rs");
    t.compile_fail("tests/fail/*/*.rs");
}
