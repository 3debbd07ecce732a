//! `replay diff` of two arbitrary cassettes: never panic, and a cassette never differs from
//! itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_core::diff::{DiffOptions, SessionDiff};
use replay_core::session::parse_session;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Two documents separated by a line of `===`.
    let (a, b) = text.split_once("\n===\n").unwrap_or((text, ""));
    let (Ok(old), Ok(new)) = (parse_session("old.yaml", a), parse_session("new.yaml", b)) else {
        return;
    };
    let options = DiffOptions::default();
    let diff = SessionDiff::compute(&old, &new, &options);
    let _ = diff.render("old.yaml", "new.yaml");
    let same = SessionDiff::compute(&old, &old, &options);
    assert!(same.is_empty(), "a cassette differs from itself:\n{}", same.render("a", "a"));
});
