//! The seeds' JSON event recordings: never panic; whatever parses renders and parses back
//! to the same recording.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use replay_events::{parse_json, render_json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(recording) = parse_json(Path::new("fuzz.json"), text) {
        let rendered = render_json(&recording);
        let again = parse_json(Path::new("fuzz.json"), &rendered)
            .unwrap_or_else(|e| panic!("our own rendering does not parse: {e:?}\n{rendered}"));
        assert_eq!(render_json(&again), rendered, "rendering is not stable");
    }
});
