//! `replay info` lists a recording's what-if replays; `replay diff RECORDING RESULT` shows
//! one of them against the recording. Results made by `replay_events::whatif`, the binary run
//! for real.

mod cli_support;

use cli_support::*;
use replay_events::whatif::{Inputs, Metric, Outcomes, Save, SweepOptions, WhatIf};
use replay_events::{EventFilter, Recording};
use serde_json::Value;

/// A recording of prices and the orders decided on them (buy below 100), then a what-if
/// sweep of the buy level with results and outcomes saved.
fn recording_with_replays(dir: &std::path::Path) -> std::path::PathBuf {
    let path = write_recording(
        dir,
        "t.json",
        "trading",
        "2025-10-17T10:00:00+00:00",
        &[
            (0, "Price", "Feed", r#"{"price": 101.0}"#),
            (100, "Price", "Feed", r#"{"price": 99.0}"#),
            (100, "Order", "Bot", r#"{"price": 99.0}"#),
            (200, "Price", "Feed", r#"{"price": 97.0}"#),
            (200, "Order", "Bot", r#"{"price": 97.0}"#),
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let system = |level: f64, mut inputs: Inputs, outcomes: Outcomes| async move {
            if level < 0.0 {
                return Err("a negative level".to_owned());
            }
            let outcomes = outcomes.with_source("Bot");
            while let Some(event) = inputs.next().await {
                let price = event.data_value().unwrap()["price"].as_f64().unwrap();
                if price < level {
                    outcomes
                        .emit_as("Order", &serde_json::json!({"price": price}))
                        .unwrap();
                }
            }
            Ok(())
        };
        WhatIf::open(&path)
            .unwrap()
            .outcomes(EventFilter::names(["Order"]).unwrap())
            .metric(Metric::sum("spent", "Order", "price").unwrap())
            .save(Save::ResultsAndOutcomes)
            .sweep([100.0, 98.0, -1.0], system, SweepOptions::new().jobs(2))
            .await
            .unwrap();
    });
    path
}

fn results(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("t.json.whatif"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".result.json"))
        .collect();
    names.sort();
    names
}

#[test]
fn info_lists_the_replays_of_a_recording() {
    let dir = tempfile::tempdir().unwrap();
    recording_with_replays(dir.path());
    let out = replay(dir.path(), &["info", "t.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("replays of this recording: 3 (in t.json.whatif)"),
        "{text}"
    );
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("replays of this recording"))
        .skip(1)
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].ends_with("100.0  spent 196 (0)  unchanged"),
        "{text}"
    );
    assert!(lines[1].ends_with("98.0  spent 97 (-99)"), "{text}");
    assert!(
        lines[2].ends_with("-1.0  failed: a negative level"),
        "{text}"
    );

    let out = replay(dir.path(), &["info", "t.json", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let replays = v["replays"].as_array().unwrap();
    assert_eq!(replays.len(), 3);
    assert_eq!(replays[1]["parameters"], serde_json::json!(98.0));
    assert_eq!(replays[1]["status"], "ok");
    assert_eq!(replays[2]["status"], "failed");
    assert!(
        replays[0]["file"]
            .as_str()
            .unwrap()
            .ends_with(".result.json")
    );
}

#[test]
fn info_lists_the_readable_replays_and_names_a_corrupt_result() {
    let dir = tempfile::tempdir().unwrap();
    recording_with_replays(dir.path());
    std::fs::write(
        dir.path().join("t.json.whatif/zz-broken.result.json"),
        "{\"replay_id\": ",
    )
    .unwrap();
    let out = replay(dir.path(), &["info", "t.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("replays of this recording: 3 (in t.json.whatif)"),
        "{text}"
    );
    let broken = text
        .lines()
        .find(|l| l.starts_with("unreadable what-if result"))
        .unwrap_or_else(|| panic!("no line for the corrupt result:\n{text}"));
    assert!(broken.contains("zz-broken.result.json"), "{broken}");

    let out = replay(dir.path(), &["info", "t.json", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["replays"].as_array().unwrap().len(), 3);
    let unreadable = v["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{v}");
    assert!(
        unreadable[0]["file"]
            .as_str()
            .unwrap()
            .ends_with("zz-broken.result.json")
    );
    assert!(!unreadable[0]["error"].as_str().unwrap().is_empty());
}

#[test]
fn info_of_a_recording_without_replays_says_nothing_about_them() {
    let dir = tempfile::tempdir().unwrap();
    trading(dir.path(), "t.json");
    let out = replay(dir.path(), &["info", "t.json"]);
    assert!(!stdout(&out).contains("replays of this recording"));
    let out = replay(dir.path(), &["info", "t.json", "--format", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["replays"], serde_json::json!([]));
    assert_eq!(v["unreadable"], serde_json::json!([]));
}

#[test]
fn diff_shows_a_replay_against_its_recording() {
    let dir = tempfile::tempdir().unwrap();
    recording_with_replays(dir.path());
    let names = results(dir.path());
    let changed = format!("t.json.whatif/{}", names[1]);
    let out = replay(dir.path(), &["diff", "t.json", &changed]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("with 98.0"), "{text}");
    assert!(
        text.contains("#Order         2         1      -1"),
        "{text}"
    );
    assert!(
        text.contains("spent        196        97     -99"),
        "{text}"
    );
    assert!(text.contains("99.0"), "the removed order is shown: {text}");

    let unchanged = format!("t.json.whatif/{}", names[0]);
    let out = replay(dir.path(), &["diff", "t.json", &unchanged]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = replay(
        dir.path(),
        &["diff", "t.json", &changed, "--format", "json"],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["comparison"]["equal"], false);
    assert_eq!(v["result"]["parameters"], serde_json::json!(98.0));

    // A failed run saved no outcomes: an error that says why.
    let failed = format!("t.json.whatif/{}", names[2]);
    let out = replay(dir.path(), &["diff", "t.json", &failed]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no saved outcomes"),
        "{}",
        stderr(&out)
    );
    let _ = Recording::load(dir.path().join("t.json")).unwrap();
}
