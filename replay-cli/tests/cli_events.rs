//! `replay info | timeline | filter | merge | play` on event recordings, run as the real binary.

mod cli_support;

use cli_support::*;
use serde_json::Value;

#[test]
fn info_shows_header_and_counts_most_frequent_first() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "t.json");
    let out = replay(dir.path(), &["info", "t.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("session:   trading"), "{text}");
    assert!(
        text.contains("start:     2025-10-17T10:00:00+00:00"),
        "{text}"
    );
    assert!(text.contains("events:    6"), "{text}");
    let mdr = text.find("MarketDataReceived").unwrap();
    let failed = text.find("OrderFailed").unwrap();
    let opened = text.find("PositionOpened").unwrap();
    assert!(mdr < failed && failed < opened, "{text}");

    let out = replay(dir.path(), &["info", "t.json", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "events");
    assert_eq!(v["total_events"], 6);
    assert_eq!(
        v["events"][0],
        serde_json::json!({"name": "MarketDataReceived", "count": 3})
    );
    assert_eq!(
        v["events"][1],
        serde_json::json!({"name": "OrderFailed", "count": 2})
    );
}

#[test]
fn info_reads_cassettes_per_instrument() {
    let dir = tempfile::tempdir().unwrap();
    cassette(dir.path(), "bench.yaml", "+4.99E+00");
    // Detected from content, whatever the name.
    std::fs::copy(
        dir.path().join("bench.yaml"),
        dir.path().join("cassette-noext"),
    )
    .unwrap();
    for file in ["bench.yaml", "cassette-noext"] {
        let out = replay(dir.path(), &["info", file, "--format", "json"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kind"], "cassette");
        assert_eq!(v["total_interactions"], 4);
        assert_eq!(v["instruments"][0]["alias"], "psu");
        assert_eq!(v["instruments"][0]["profile"], "keysight/EDU36311A");
        assert_eq!(v["instruments"][0]["interactions"], 3);
        assert_eq!(v["instruments"][0]["by_type"]["query"], 2);
        assert_eq!(v["instruments"][1]["alias"], "dmm");
        assert!(
            (v["duration_s"].as_f64().unwrap() - 0.4).abs() < 1e-9,
            "{v}"
        );
    }
    let text = stdout(&replay(dir.path(), &["info", "bench.yaml"]));
    assert!(text.contains("psu  keysight/EDU36311A"), "{text}");
    assert!(text.contains("(2 query, 1 write)"), "{text}");
}

#[test]
fn info_shows_recorded_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hang.yaml"),
        "psu:\n  log:\n  - type: query\n    command: '*IDN?'\n    response: ok\n    timestamp: 0.1\n  - type: query\n    command: SYST:HANG?\n    error: timeout\n    error_message: \"no answer within 0.5 s\\nthen \\e[31m\"\n    timestamp: 0.7\n",
    )
    .unwrap();
    let out = replay(dir.path(), &["info", "hang.yaml", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = &v["instruments"][0]["errors"][0];
    assert_eq!(error["position"], 2);
    assert_eq!(error["type"], "query");
    assert_eq!(error["command"], "SYST:HANG?");
    assert_eq!(error["error"], "timeout");
    let text = stdout(&replay(dir.path(), &["info", "hang.yaml"]));
    // Escaped: the newline and the escape sequence cannot break the output.
    assert!(
        text.contains("#2 query SYST:HANG?  ⚠ timeout: no answer within 0.5 s\\nthen \\u{1b}[31m"),
        "{text}"
    );
    assert!(text.contains("recorded errors: 1"), "{text}");
    assert!(text.contains("2 interactions"), "{text}");
}

#[test]
fn timeline_limits_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "t.json");
    let text = stdout(&replay(
        dir.path(),
        &["timeline", "t.json", "--max-events", "2"],
    ));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("#1") && lines[0].contains("MarketDataReceived"),
        "{text}"
    );
    assert!(
        lines[1].contains("0.100 s") && lines[1].contains("PositionOpened"),
        "{text}"
    );
    assert_eq!(lines[2], "… 4 more events (raise --max-events to see them)");

    let out = replay(
        dir.path(),
        &[
            "timeline", "t.json", "--event", "Order*", "--format", "json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["matched"], 2);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries[0]["index"], 3);
    assert_eq!(entries[1]["timestamp_offset_ms"], 500);
    assert_eq!(entries[1]["event_data"]["reason"], "timeout");
}

#[test]
fn filter_writes_a_new_recording_with_original_offsets() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "t.json");
    let out = replay(
        dir.path(),
        &[
            "filter",
            "t.json",
            "--event",
            "*Failed",
            "--event",
            "Position*",
            "-o",
            "f.json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "kept 3 of 6 events → f.json\n");
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("f.json")).unwrap()).unwrap();
    assert_eq!(v["total_events"], 3);
    assert_eq!(v["session_name"], "trading");
    let offsets: Vec<u64> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["timestamp_offset_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [100, 200, 500]);

    let out = replay(
        dir.path(),
        &[
            "filter", "t.json", "--source", "Feed", "-o", "f.jsonl", "--format", "json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["read"].as_u64(), v["kept"].as_u64()), (Some(6), Some(3)));
    let lines = std::fs::read_to_string(dir.path().join("f.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4);
    assert!(
        lines.contains("\"price\":1e400"),
        "numbers as written: {lines}"
    );

    let out = replay(dir.path(), &["filter", "t.json", "-o", "x.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nothing to filter by"),
        "{}",
        stderr(&out)
    );
    let out = replay(
        dir.path(),
        &["filter", "t.json", "--event", "Order[", "-o", "x.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid event name glob `Order[`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn merge_orders_by_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    write_recording(
        dir.path(),
        "a.json",
        "a",
        "2025-10-17T10:00:00+00:00",
        &[(0, "A1", "s", "1"), (300, "A2", "s", "2")],
    );
    write_recording(
        dir.path(),
        "b.jsonl.json",
        "b",
        "2025-10-17T10:00:00.100+00:00",
        &[(0, "B1", "s", "1"), (100, "B2", "s", "2")],
    );
    let out = replay(
        dir.path(),
        &["merge", "a.json", "b.jsonl.json", "-o", "m.jsonl"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "merged 2 recordings (4 events) → m.jsonl\n");
    let text = std::fs::read_to_string(dir.path().join("m.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["session_name"], "a+b");
    assert_eq!(lines[0]["start_time"], "2025-10-17T10:00:00+00:00");
    assert_eq!(lines[0]["total_events"], 4);
    let order: Vec<(&str, u64)> = lines[1..]
        .iter()
        .map(|e| {
            (
                e["event_name"].as_str().unwrap(),
                e["timestamp_offset_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(order, [("A1", 0), ("B1", 100), ("B2", 200), ("A2", 300)]);

    let out = replay(
        dir.path(),
        &[
            "merge",
            "a.json",
            "b.jsonl.json",
            "--align",
            "zero",
            "-o",
            "z.json",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total_events"], 4);
    let z: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("z.json")).unwrap()).unwrap();
    assert_eq!(z["events"][1]["event_name"], "B1");
    assert_eq!(z["events"][1]["timestamp_offset_ms"], 0);

    write_recording(
        dir.path(),
        "bad.json",
        "c",
        "yesterday",
        &[(0, "C", "s", "1")],
    );
    let out = replay(
        dir.path(),
        &["merge", "a.json", "bad.json", "-o", "m2.json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("invalid start_time `yesterday`") && err.contains("--align zero"),
        "{err}"
    );
    assert!(!dir.path().join("m2.json").exists());
}

#[test]
fn play_prints_json_lines_at_the_recorded_pace() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "t.json");
    let started = std::time::Instant::now();
    let out = replay(dir.path(), &["play", "t.json", "--speed", "5"]);
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("\"price\":1e400"),
        "numbers as written: {text}"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(&l.replace("1e400", "0")).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0]["event_name"], "MarketDataReceived");
    assert_eq!(lines[5]["timestamp_offset_ms"], 500);
    // 500 ms of recording at 5x: about 100 ms (loose bounds; process start included).
    assert!(elapsed.as_millis() >= 90, "{elapsed:?}");
    assert!(
        stderr(&out).is_empty(),
        "no progress bar when stderr is not a terminal"
    );

    let out = replay(
        dir.path(),
        &["play", "t.json", "--speed", "max", "--event", "Order*"],
    );
    let names: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event_name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["OrderFailed", "OrderFailed"]);

    let out = replay(dir.path(), &["play", "t.json", "--speed", "500"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("from 0.1 to 100"), "{}", stderr(&out));
}

#[test]
fn errors_name_the_file_and_position_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken.json"), "{\n  \"session_name\": \"x\",\n  \"start_time\": \"t\",\n  \"duration_ms\": 1,\n  \"events\": [\n    {\"timestamp_offset_ms\": 0,, }\n  ]\n}").unwrap();
    for command in [["info", "broken.json"], ["timeline", "broken.json"]] {
        let out = replay(dir.path(), &command);
        assert_eq!(out.status.code(), Some(2));
        let err = stderr(&out);
        assert!(
            err.starts_with("error: recording `broken.json:6:31` is malformed"),
            "{err}"
        );
        assert!(err.contains("6 |"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = replay(dir.path(), &["play", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`missing.json` does not exist"),
        "{}",
        stderr(&out)
    );
    let out = replay(dir.path(), &["info", "missing.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("file `missing.json` does not exist"),
        "{}",
        stderr(&out)
    );
    let out = replay(dir.path(), &["bogus"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn play_refuses_an_offset_too_far_in_the_future() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("big.jsonl"),
        "{\"session_name\":\"s\",\"start_time\":\"t\",\"duration_ms\":1,\"total_events\":2}\n\
         {\"timestamp_offset_ms\":0,\"event_name\":\"A\",\"event_data\":{},\"source\":\"S\"}\n\
         {\"timestamp_offset_ms\":1e300,\"event_name\":\"B\",\"event_data\":{},\"source\":\"S\"}\n",
    )
    .unwrap();
    let out = replay(dir.path(), &["play", "big.jsonl", "--speed", "10"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("event 2 (`B`)"), "{err}");
    assert!(err.contains("too far in the future"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn help_covers_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay(dir.path(), &["--help"]);
    assert!(out.status.success());
    let text = stdout(&out);
    // Its own one-line description, not the crate's.
    assert!(
        text.starts_with("Inspect, filter, play, merge and compare event recordings"),
        "{text}"
    );
    for command in [
        "info", "timeline", "filter", "play", "merge", "diff", "textconv",
    ] {
        assert!(text.contains(command), "{text}");
        let out = replay(dir.path(), &[command, "--help"]);
        assert!(out.status.success(), "{command}");
        assert!(stdout(&out).contains("Usage: replay"), "{command}");
    }
}

#[test]
fn recording_commands_refuse_cassettes_clearly() {
    let dir = tempfile::tempdir().unwrap();
    cassette(dir.path(), "c.yaml", "1");
    trading(dir.path(), "t.json");
    for args in [
        vec!["timeline", "c.yaml"],
        vec!["play", "c.yaml"],
        vec!["filter", "c.yaml", "--event", "*", "-o", "x.json"],
        vec!["merge", "t.json", "c.yaml", "-o", "x.json"],
    ] {
        let out = replay(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("`c.yaml` is an instrument cassette"),
            "{args:?}: {err}"
        );
    }
}
