//! Shared fixtures of the `replay` CLI tests: recordings written as the Python tool writes
//! them, and running the real binary.

#![allow(dead_code, reason = "each test target uses a part of the support")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `replay` binary with `args` in `dir`, without colour.
pub fn replay(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .output()
        .expect("the replay binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// One event: (offset ms, name, source, data JSON).
pub type Ev<'a> = (u64, &'a str, &'a str, &'a str);

/// Writes a recording in the seeds' JSON layout (indent 2, like Python's `json.dump`).
pub fn write_recording(
    dir: &Path,
    file: &str,
    name: &str,
    start: &str,
    events: &[Ev<'_>],
) -> PathBuf {
    let mut text = format!(
        "{{\n  \"session_name\": \"{name}\",\n  \"start_time\": \"{start}\",\n  \"duration_ms\": {},\n  \"total_events\": {},\n  \"events\": [",
        events.last().map_or(0, |e| e.0 + 100),
        events.len()
    );
    for (i, (offset, event, source, data)) in events.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            "\n    {{\n      \"timestamp_offset_ms\": {offset},\n      \"event_name\": \"{event}\",\n      \"event_data\": {data},\n      \"source\": \"{source}\"\n    }}"
        ));
    }
    text.push_str("\n  ]\n}");
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// A small trading session.
pub fn trading(dir: &Path, file: &str) -> PathBuf {
    write_recording(
        dir,
        file,
        "trading",
        "2025-10-17T10:00:00+00:00",
        &[
            (
                0,
                "MarketDataReceived",
                "Feed",
                r#"{"symbol": "BTC/USDT", "price": 67500.0}"#,
            ),
            (100, "PositionOpened", "Bot", r#"{"size": 0.1}"#),
            (200, "OrderFailed", "Exchange", r#"{"reason": "margin"}"#),
            (
                300,
                "MarketDataReceived",
                "Feed",
                r#"{"symbol": "BTC/USDT", "price": 67501.5}"#,
            ),
            (
                400,
                "MarketDataReceived",
                "Feed",
                r#"{"symbol": "BTC/USDT", "price": 1e400}"#,
            ),
            (500, "OrderFailed", "Exchange", r#"{"reason": "timeout"}"#),
        ],
    )
}

/// A small cassette in PyTestLab's layout.
pub fn cassette(dir: &Path, file: &str, reading: &str) -> PathBuf {
    let text = format!(
        "psu:\n  profile: keysight/EDU36311A\n  log:\n  - type: query\n    command: '*IDN?'\n    response: Keysight Technologies,EDU36311A,CN1,1.0\n    timestamp: 0.1\n  - type: write\n    command: VOLT 5.0, (@1)\n    timestamp: 0.2\n  - type: query\n    command: MEAS:VOLT? (@1)\n    response: '{reading}'\n    timestamp: 0.5\ndmm:\n  log:\n  - type: query\n    command: READ?\n    response: '+1.0E+00'\n    timestamp: 0.3\n"
    );
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}
