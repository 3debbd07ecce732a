//! JSON Lines event recordings, streamed: never panic, stop at the first error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_events::JsonlReader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = JsonlReader::from_reader(data, "fuzz.jsonl") else {
        return;
    };
    let mut last_line = reader.line();
    loop {
        match reader.next_event() {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
        assert!(reader.line() > last_line, "the reader did not advance");
        last_line = reader.line();
    }
});
