//! Bench configs (`bench.yaml`): never panic, whatever the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_core::BenchConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = BenchConfig::parse("fuzz.yaml", text);
    }
});
