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

/// A threshold alarm: `AlarmRaised` with the excess whenever a reading is above the threshold.
#[derive(serde::Serialize, serde::Deserialize)]
struct Alarm {
    threshold: f64,
}

async fn alarm(
    params: Alarm,
    mut inputs: replay_events::whatif::Inputs,
    outcomes: replay_events::whatif::Outcomes,
) -> replay_events::Result<()> {
    while let Some(event) = inputs.next().await {
        let data = event.data_value().expect("readings are JSON");
        let celsius = data["celsius"].as_f64().unwrap_or(0.0);
        if celsius > params.threshold {
            let excess = celsius - params.threshold;
            outcomes.emit_as(
                "AlarmRaised",
                &serde_json::json!({ "celsius": celsius, "excess": excess }),
            )?;
        }
    }
    Ok(())
}

/// Eight readings and the alarms raised live with threshold 30: at 31 °C (excess 1) and
/// 33 °C (excess 3).
fn alarm_recording(path: &Path) {
    use replay_events::{RecordedEvent, Recording};
    use serde_json::value::RawValue;
    let raw = |s: String| RawValue::from_string(s).unwrap();
    let mut r = Recording::new("lab", "2025-10-17T10:00:00.000000+00:00");
    r.duration_ms = 800u64.into();
    for (i, c) in [20.0, 26.0, 31.0, 29.0, 24.0, 27.0, 33.0, 22.0]
        .into_iter()
        .enumerate()
    {
        let t = i as u64 * 100;
        let data = raw(format!(r#"{{"celsius":{c:?}}}"#));
        r.events
            .push(RecordedEvent::new(t, "Reading", data, "Probe"));
        if c > 30.0 {
            let data = raw(format!(r#"{{"celsius":{c:?},"excess":{:?}}}"#, c - 30.0));
            r.events
                .push(RecordedEvent::new(t, "AlarmRaised", data, "Alarm"));
        }
    }
    r.save(path).unwrap();
}

/// Three what-if results made with the real API (the recorded threshold, a lower one with a
/// hostile description, a failed run), and one corrupt result file after them.
fn recording_with_whatif_results(dir: &Path) -> std::path::PathBuf {
    use replay_events::EventFilter;
    use replay_events::whatif::{Metric, Save, WhatIf, results_dir};
    let path = dir.join("lab.json");
    alarm_recording(&path);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let whatif = || {
        WhatIf::open(&path)
            .unwrap()
            .outcomes(EventFilter::names(["Alarm*"]).unwrap())
            .metric(Metric::sum("excess", "AlarmRaised", "excess").unwrap())
            .save(Save::ResultsAndOutcomes)
    };
    runtime.block_on(async {
        let same = whatif()
            .description("as recorded")
            .run(Alarm { threshold: 30.0 }, alarm)
            .await
            .unwrap();
        assert!(same.is_unchanged());
        whatif()
            .description("lower <script>alert(1)</script> | threshold")
            .run(Alarm { threshold: 25.0 }, alarm)
            .await
            .unwrap();
        // A run whose system fails is saved as a failed result, without outcomes.
        let failed = whatif()
            .description("probe offline")
            .run(Alarm { threshold: 0.0 }, |_: Alarm, _, _| async {
                Err::<(), _>("probe offline".to_owned())
            })
            .await;
        assert!(failed.is_err());
    });
    std::fs::write(
        results_dir(&path).join("zz_corrupt.result.json"),
        "{not json",
    )
    .unwrap();
    path
}

#[test]
fn reports_list_the_whatif_replays_of_a_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = recording_with_whatif_results(dir.path());
    let listed = replay_events::whatif::list_results(&path);
    assert!(listed.is_err(), "the corrupt file is there");
    let scanned = replay_events::whatif::scan_results(&path).unwrap();
    let ids: Vec<String> = scanned[..3]
        .iter()
        .map(|(_, r)| r.as_ref().unwrap().replay_id.clone())
        .collect();
    let outcomes: Vec<String> = scanned[..2]
        .iter()
        .map(|(f, r)| {
            let r = r.as_ref().unwrap();
            r.outcomes_path(f).unwrap().display().to_string()
        })
        .collect();

    let out = replay(&["report", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "a corrupt result never fails the report: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = stdout(&out);
    let section = &md[md
        .find("\n## What-if replays\n")
        .unwrap_or_else(|| panic!("{md}"))..];
    assert!(
        section.contains(&format!(
            "4 what-if replays of this recording in `{}`, oldest first; 1 unreadable.",
            replay_events::whatif::results_dir(&path).display()
        )),
        "{section}"
    );
    // Oldest first: the recorded threshold, then the lower one, then the corrupt file.
    let first = section.find(&format!("### `{}`: as recorded", ids[0]));
    let second = section.find(&format!(
        "### `{}`: lower &lt;script&gt;alert(1)&lt;/script&gt; \\| threshold",
        ids[1]
    ));
    let corrupt = section.find("**Unreadable result** `");
    assert!(
        first.is_some() && second.is_some() && corrupt.is_some(),
        "{section}"
    );
    assert!(first < second && second < corrupt, "{section}");
    let (one, two) = section.split_at(second.unwrap());
    let third = two[1..].find("### `").unwrap_or_else(|| panic!("{two}")) + 1;
    let (two, failed) = two.split_at(third);
    assert!(
        failed.starts_with(&format!("### `{}`: probe offline", ids[2])),
        "{failed}"
    );
    assert!(
        failed.contains("- parameters: `{\"threshold\":0.0}`"),
        "{failed}"
    );
    assert!(
        failed.contains("- status: failed: probe offline\n"),
        "{failed}"
    );
    assert!(
        !failed.contains("outcome recording") && !failed.contains("| metric |"),
        "{failed}"
    );
    assert!(
        one.contains("- parameters: `{\"threshold\":30.0}`"),
        "{one}"
    );
    assert!(
        one.contains("- status: ran to the end, 2 outcome events; outcomes unchanged"),
        "{one}"
    );
    assert!(one.contains("| `#AlarmRaised` | 2 | 2 | 0 |"), "{one}");
    assert!(one.contains("| `excess` | 4 | 4 | 0 |"), "{one}");
    assert!(
        one.contains(&format!("- outcome recording: `{}`", outcomes[0])),
        "{one}"
    );
    // Threshold 25: alarms at 26, 31, 29, 27, 33 °C; excess 1 + 6 + 4 + 2 + 8 = 21.
    assert!(
        two.contains("- parameters: `{\"threshold\":25.0}`"),
        "{two}"
    );
    assert!(two.contains("outcomes changed"), "{two}");
    assert!(two.contains("| `#AlarmRaised` | 2 | 5 | +3 |"), "{two}");
    assert!(two.contains("| `excess` | 4 | 21 | +17 |"), "{two}");
    assert!(
        two.contains(&format!("- outcome recording: `{}`", outcomes[1])),
        "{two}"
    );
    let line = failed.lines().find(|l| l.contains("Unreadable")).unwrap();
    assert!(
        line.contains("zz_corrupt.result.json`: line 1, column 2:"),
        "{line}"
    );
    assert!(line.contains("run the what-if again"), "{line}");

    let out = replay(&["report", path.to_str().unwrap(), "--format", "html"]);
    assert!(out.status.success());
    let html = stdout(&out);
    let section = &html[html.find("<h2>What-if replays</h2>").expect(&html)..];
    assert!(
        !html.contains("<script>alert"),
        "the description is escaped"
    );
    assert!(
        section.contains("lower &lt;script&gt;alert(1)&lt;/script&gt; | threshold"),
        "{section}"
    );
    let first = section.find(&ids[0]).unwrap();
    let second = section.find(&ids[1]).unwrap();
    let third = section.find(&ids[2]).unwrap();
    let corrupt = section.find("<strong>Unreadable result</strong>").unwrap();
    assert!(
        first < second && second < third && third < corrupt,
        "{section}"
    );
    assert!(
        section.contains("<li class=\"fail\">status: failed: probe offline</li>"),
        "{section}"
    );
    assert!(
        section.contains(
            "<tr><td><code>#AlarmRaised</code></td><td class=\"num\">2</td><td class=\"num\">5</td><td class=\"num\">+3</td></tr>"
        ),
        "{section}"
    );
    assert!(
        section.contains(
            "<tr><td><code>excess</code></td><td class=\"num\">4</td><td class=\"num\">21</td><td class=\"num\">+17</td></tr>"
        ),
        "{section}"
    );
    assert!(
        section.contains("<code>{&quot;threshold&quot;:25.0}</code>"),
        "{section}"
    );
    assert!(
        section.contains("zz_corrupt.result.json</code>: line 1, column 2:"),
        "{section}"
    );
}

#[test]
fn reports_of_a_recording_without_whatif_results_have_no_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    alarm_recording(&path);
    for format in ["md", "html"] {
        let out = replay(&["report", path.to_str().unwrap(), "--format", format]);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(text.contains("AlarmRaised"), "{text}");
        assert!(!text.contains("What-if"), "{text}");
    }
}
