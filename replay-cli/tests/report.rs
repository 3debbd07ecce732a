//! `replay report` through the real binary: Markdown and HTML for a recording and for a
//! cassette, and the validation of a replay against its original.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::{CHANGED, COMMITTED, SEED};

fn replay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .output()
        .unwrap()
}

fn seed() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/recordings")
        .join(SEED)
        .display()
        .to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn markdown_report_of_a_recording() {
    let out = replay(&["report", &seed()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = stdout(&out);
    assert!(md.starts_with("# Replay report: recording `"), "{md}");
    assert!(md.contains("| events | 43 |"), "{md}");
    assert!(md.contains("| error events | 1 (2.33 %) |"), "{md}");
    assert!(md.contains("| `MarketDataReceived` | 40 |"), "{md}");
    assert!(md.contains("| `TradingBot` | 3 |"), "{md}");
    assert!(md.contains("## Timing"), "{md}");
    assert!(md.contains("OrderFailed from TradingBot"), "{md}");
    // The sparkline timeline, one row per name.
    assert!(
        md.lines()
            .any(|l| l.starts_with("MarketDataReceived") && l.contains('│')),
        "{md}"
    );
}

#[test]
fn html_report_of_a_cassette_embeds_svg_plots_and_needs_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let cassette = dir.path().join("psu.yaml");
    std::fs::write(&cassette, CHANGED).unwrap();
    let html_path = dir.path().join("out/report.html");
    let out = replay(&[
        "report",
        cassette.to_str().unwrap(),
        "--format",
        "html",
        "-o",
        html_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "timeline, measured values, two count charts"
    );
    assert!(html.contains("Numeric responses over the session"));
    assert!(html.contains("psu: MEAS:VOLT? (@1)"));
    assert!(html.contains("<th>interactions</th><td>7</td>"), "{html}");
    assert!(
        html.contains("<th>recorded errors</th><td>1 (14.29 %)</td>"),
        "{html}"
    );
    assert!(html.contains("failed: no answer within 5 s (timeout)"));
    assert!(!html.contains("<script"));
    assert!(
        !html.contains("https://") && !html.contains("http://www.w3.org/1999"),
        "no links out"
    );
}

#[test]
fn validation_of_a_replayed_recording_passes_within_tolerance_and_lists_differences() {
    let dir = tempfile::tempdir().unwrap();
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(seed()).unwrap()).unwrap();
    // A replay 30 ms late on every event: within the default 100 ms.
    let mut late = original.clone();
    for e in late["events"].as_array_mut().unwrap() {
        let t = e["timestamp_offset_ms"].as_u64().unwrap();
        e["timestamp_offset_ms"] = (t + 30).into();
    }
    let late_path = dir.path().join("late.json");
    std::fs::write(&late_path, late.to_string()).unwrap();
    let out = replay(&["report", late_path.to_str().unwrap(), "--against", &seed()]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(
            "PASSED: same 43 events in the same order, timing within 100 ms (worst 30 ms)"
        ),
        "{}",
        stdout(&out)
    );
    // Tighter than the drift: fails, and names the events.
    let out = replay(&[
        "report",
        late_path.to_str().unwrap(),
        "--against",
        &seed(),
        "--tolerance-ms",
        "10",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out)
            .contains("FAILED: same 43 events in the same order, but 43 off by more than 10 ms"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains(
            "- #1 `MarketDataReceived`: at 30 ms in the replay, 0 ms in the original (+30 ms)"
        ),
        "{}",
        stdout(&out)
    );
    // A dropped event.
    let mut dropped = original.clone();
    dropped["events"].as_array_mut().unwrap().remove(19);
    let dropped_path = dir.path().join("dropped.json");
    std::fs::write(&dropped_path, dropped.to_string()).unwrap();
    let out = replay(&[
        "report",
        dropped_path.to_str().unwrap(),
        "--against",
        &seed(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert!(
        md.contains("`OrderFailed`: 1 in the original, 0 in the replay (-1)"),
        "{md}"
    );
    assert!(
        md.contains("missing from the replay: #20 `OrderFailed`"),
        "{md}"
    );
}

#[test]
fn validation_of_a_cassette_uses_the_semantic_diff() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.yaml");
    let new = dir.path().join("new.yaml");
    std::fs::write(&old, COMMITTED).unwrap();
    std::fs::write(
        &new,
        COMMITTED.replace("+4.99918100E+00", "+4.99928100E+00"),
    )
    .unwrap();
    let out = replay(&[
        "report",
        new.to_str().unwrap(),
        "--against",
        old.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("PASSED"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("(within tolerance)"),
        "{}",
        stdout(&out)
    );
    std::fs::write(&new, CHANGED).unwrap();
    let out = replay(&[
        "report",
        new.to_str().unwrap(),
        "--against",
        old.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let md = stdout(&out);
    assert!(md.contains("instrument `scope` only in the replay"), "{md}");
    assert!(
        md.contains("`VOLT 5.0, (@1)` became `VOLT 3.0, (@1)`"),
        "{md}"
    );
    // Kinds must match.
    let out = replay(&["report", new.to_str().unwrap(), "--against", &seed()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give the original of the same kind"));
}
