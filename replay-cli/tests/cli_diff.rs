//! `replay diff` on event recordings and on cassettes, run as the real binary.

mod cli_support;

use cli_support::*;
use serde_json::Value;

#[test]
fn equal_recordings_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "a.json");
    // The same events as JSON Lines (other layout, same meaning) are equal too.
    let out = replay(
        dir.path(),
        &["filter", "a.json", "--event", "*", "-o", "a.jsonl"],
    );
    assert!(out.status.success());
    let out = replay(dir.path(), &["diff", "a.json", "a.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).starts_with("recordings are equal"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn what_if_recording_shows_counts_added_removed_and_first_divergence() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "original.json");
    write_recording(
        dir.path(),
        "whatif.json",
        "trading_tighter_stop",
        "2025-10-17T11:00:00+00:00",
        &[
            (
                0,
                "MarketDataReceived",
                "Feed",
                r#"{"symbol": "BTC/USDT", "price": 67500.0}"#,
            ),
            (100, "PositionOpened", "Bot", r#"{"size": 0.1}"#),
            (180, "StopLossHit", "Risk", r#"{"at": 67400}"#),
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
    );
    let out = replay(dir.path(), &["diff", "original.json", "whatif.json"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("recordings differ"), "{text}");
    assert!(
        text.contains("first divergence: event #3 of old, #3 of new"),
        "{text}"
    );
    let removed = text.lines().find(|l| l.contains("│-")).unwrap();
    assert!(
        removed.trim_start().starts_with("3 ") && removed.contains("0.200 s  OrderFailed"),
        "{text}"
    );
    let added = text.lines().find(|l| l.contains("│+")).unwrap();
    assert!(
        added.trim_start().starts_with("3 ") && added.contains("0.180 s  StopLossHit"),
        "{text}"
    );
    assert!(text.contains("1 removed, 1 added"), "{text}");

    let out = replay(
        dir.path(),
        &["diff", "original.json", "whatif.json", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["equal"], false);
    assert_eq!(
        v["count_changes"][0],
        serde_json::json!({"name": "OrderFailed", "before": 2, "after": 1, "delta": -1})
    );
    assert_eq!(v["count_changes"][1]["name"], "StopLossHit");
    assert_eq!(v["removed"][0]["index"], 3);
    assert_eq!(v["added"][0]["event_name"], "StopLossHit");
    assert_eq!(v["first_divergence"]["left_index"], 3);
    assert_eq!(v["first_divergence"]["right"]["event_name"], "StopLossHit");
}

#[test]
fn cassettes_are_detected_from_content_and_diffed() {
    let dir = tempfile::tempdir().unwrap();
    cassette(dir.path(), "old.yaml", "+4.99E+00");
    cassette(dir.path(), "same", "+4.99E+00");
    cassette(dir.path(), "new", "+5.50E+00");
    let out = replay(dir.path(), &["diff", "old.yaml", "same"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = replay(dir.path(), &["diff", "old.yaml", "new"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("MEAS:VOLT?"), "{}", stdout(&out));
}

#[test]
fn mixed_kinds_and_bad_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "a.json");
    cassette(dir.path(), "c.yaml", "1");
    let out = replay(dir.path(), &["diff", "a.json", "c.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("cannot compare the event recording `a.json` with the cassette `c.yaml`"),
        "{}",
        stderr(&out)
    );

    std::fs::write(dir.path().join("bad.jsonl"), "{\"session_name\":\"s\",\"start_time\":\"t\",\"duration_ms\":1,\"total_events\":1}\n{\"timestamp_offset_ms\":0,\"event_name\":\"A\"\n").unwrap();
    let out = replay(dir.path(), &["diff", "a.json", "bad.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bad.jsonl:2:"), "{}", stderr(&out));

    let out = replay(dir.path(), &["diff", "a.json", "nope.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`nope.json` does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn options_for_the_other_kind_of_file_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "a.json");
    cassette(dir.path(), "c.yaml", "1");
    for (args, option) in [
        (
            vec!["diff", "a.json", "a.json", "--tolerance", "0.01"],
            "--tolerance",
        ),
        (
            vec!["diff", "a.json", "a.json", "--timestamps"],
            "--timestamps",
        ),
        (
            vec!["diff", "c.yaml", "c.yaml", "--max-changes", "5"],
            "--max-changes",
        ),
    ] {
        let out = replay(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(&format!("`{option}` applies to")), "{err}");
    }
    // ... and accepted for their own kind.
    let out = replay(
        dir.path(),
        &["diff", "a.json", "a.json", "--max-changes", "5"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = replay(
        dir.path(),
        &["diff", "c.yaml", "c.yaml", "--tolerance", "0.01"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn colour_follows_clicolor_force_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "a.json");
    write_recording(
        dir.path(),
        "b.json",
        "b",
        "2025-10-17T10:00:00+00:00",
        &[(0, "Other", "s", "1")],
    );
    let run = |force: &str, no_color: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_replay"))
            .args(["diff", "a.json", "b.json"])
            .current_dir(dir.path())
            .env("CLICOLOR_FORCE", force)
            .env("NO_COLOR", no_color)
            .output()
            .unwrap()
    };
    // Not a terminal: plain unless forced; NO_COLOR wins over CLICOLOR_FORCE.
    assert!(!stdout(&run("", "")).contains('\x1b'));
    let forced = stdout(&run("1", ""));
    assert!(
        forced.contains("\x1b[31m-") && forced.contains("\x1b[32m+"),
        "{forced}"
    );
    assert!(!stdout(&run("1", "1")).contains('\x1b'));
}
