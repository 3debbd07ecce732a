//! Cassette loading through both readers, differentially: the streaming reader must never
//! accept a text that `yaml_serde` rejects or reads as a different document, and neither
//! may panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use replay_core::fuzzing::{fast_read, yaml_serde_read};
use replay_core::session::render_session;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let general = yaml_serde_read(Path::new("fuzz.yaml"), text);
    if let Some(fast) = fast_read(text) {
        let general = general.unwrap_or_else(|e| {
            panic!("the streaming reader accepted what yaml_serde rejects: {e}\n{text:?}")
        });
        // Compare rendered forms: NaN timestamps are not equal to themselves.
        assert_eq!(
            render_session(&fast),
            render_session(&general),
            "the readers disagree on {text:?}"
        );
    }
});
