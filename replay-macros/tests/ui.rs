//! Compile-time behaviour of `#[recorded_test]`: what expands, and the error (with its span
//! and suggestion) for each kind of misuse. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p replay-macros --test ui`, then review them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
