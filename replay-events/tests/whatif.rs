//! What-if replays with real tokio tasks: the unchanged system reproduces the recorded
//! outcomes, a changed parameter changes the metrics as computed by hand, sweeps are ordered,
//! complete and survive failing runs, results files round-trip.

use std::time::Duration;

use replay_events::whatif::{
    Best, Grid, Inputs, Metric, Outcomes, ResultStatus, Save, SweepOptions, Timing, WhatIf,
    WhatIfHandler, WhatIfResult, list_results, results_dir, scan_results,
};
use replay_events::{Error, EventFilter, RecordedEvent, Recording};
use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Params {
    threshold: f64,
}

#[derive(Debug, Deserialize)]
enum Input {
    Reading { celsius: f64 },
}

#[derive(Serialize)]
enum Alarm {
    AlarmRaised { celsius: f64, excess: f64 },
    AlarmCleared { celsius: f64 },
}

const HYSTERESIS: f64 = 2.0;

/// The system under test: a threshold alarm with hysteresis. A worker task decides; the
/// system's main task forwards the inputs to it.
async fn alarm(
    params: Params,
    mut inputs: Inputs,
    outcomes: Outcomes,
) -> replay_events::Result<()> {
    let (tx, mut rx) = mpsc::channel::<f64>(16);
    let out = outcomes.with_source("AlarmService");
    let worker = tokio::spawn(async move {
        let mut active = false;
        while let Some(celsius) = rx.recv().await {
            let state = json!({"threshold": params.threshold, "active": active});
            if !active && celsius > params.threshold {
                active = true;
                let excess = celsius - params.threshold;
                out.emit_with_state(
                    &Alarm::AlarmRaised { celsius, excess },
                    &[("decision_metadata", &state)],
                )?;
            } else if active && celsius <= params.threshold - HYSTERESIS {
                active = false;
                out.emit_with_state(
                    &Alarm::AlarmCleared { celsius },
                    &[("decision_metadata", &state)],
                )?;
            }
        }
        Ok::<(), replay_events::Error>(())
    });
    while let Some(event) = inputs.next().await {
        if let Ok(Input::Reading { celsius }) = event.decode::<Input>() {
            tx.send(celsius)
                .await
                .expect("the worker runs until the inputs end");
        }
    }
    drop(tx);
    worker.await.expect("the worker does not panic")
}

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.to_owned()).unwrap()
}

const READINGS: [(u64, f64); 8] = [
    (0, 20.0),
    (100, 26.0),
    (200, 31.0),
    (300, 29.0),
    (400, 24.0),
    (500, 27.0),
    (600, 33.0),
    (700, 22.0),
];

/// Readings plus the outcomes the alarm decided live with threshold 30 (worked out by hand:
/// raised at 31 °C and 33 °C, cleared at 24 °C and 22 °C), each with the state it was
/// decided in, and a heartbeat input from another source.
fn recording() -> Recording {
    let mut r = Recording::new("lab", "2025-10-17T10:00:00.000000+00:00");
    r.duration_ms = 800u64.into();
    let decided = |t: u64, name: &str, data: &str, active: bool| {
        let mut e = RecordedEvent::new(t, name, raw(data), "AlarmService");
        e.extra.push((
            "decision_metadata".to_owned(),
            raw(&format!(r#"{{"threshold":30.0,"active":{active}}}"#)),
        ));
        e
    };
    for (t, c) in READINGS {
        r.events.push(RecordedEvent::new(
            t,
            "Reading",
            raw(&format!(r#"{{"celsius":{c:?}}}"#)),
            "Probe",
        ));
        match t {
            200 => r.events.push(decided(
                t,
                "AlarmRaised",
                r#"{"celsius":31.0,"excess":1.0}"#,
                false,
            )),
            400 => r
                .events
                .push(decided(t, "AlarmCleared", r#"{"celsius":24.0}"#, true)),
            600 => r.events.push(decided(
                t,
                "AlarmRaised",
                r#"{"celsius":33.0,"excess":3.0}"#,
                false,
            )),
            700 => r
                .events
                .push(decided(t, "AlarmCleared", r#"{"celsius":22.0}"#, true)),
            _ => {}
        }
    }
    r.events.insert(
        4,
        RecordedEvent::new(250, "Heartbeat", raw("null"), "Clock"),
    );
    r
}

fn whatif() -> WhatIf {
    let raised = Metric::count("raised", "AlarmRaised").unwrap();
    let cleared = Metric::count("cleared", "AlarmCleared").unwrap();
    WhatIf::from_recording(recording())
        .outcomes(EventFilter::names(["Alarm*"]).unwrap())
        .metric(Metric::sum("excess", "AlarmRaised", "excess").unwrap())
        .metric(Metric::rate("clear_rate", &cleared, &raised))
}

/// A metric comparison as (name, original, replayed, diff).
type Row = (String, Option<f64>, Option<f64>, Option<f64>);

fn metrics(run: &replay_events::whatif::WhatIfRun) -> Vec<Row> {
    run.metrics
        .iter()
        .map(|m| (m.name.clone(), m.original, m.replayed, m.diff))
        .collect()
}

#[tokio::test]
async fn inputs_and_outcomes_split_by_name_or_source_and_outcome_state_is_kept() {
    let by_name = whatif();
    assert_eq!(by_name.inputs().len(), 9, "8 readings and a heartbeat");
    assert!(
        by_name
            .inputs()
            .iter()
            .all(|e| !e.event_name.starts_with("Alarm"))
    );
    let original = by_name.original_outcomes();
    assert_eq!(original.events.len(), 4);
    assert_eq!(original.events[0].extra[0].0, "decision_metadata");
    assert_eq!(
        original.events[0].extra[0].1.get(),
        r#"{"threshold":30.0,"active":false}"#
    );
    let by_source = WhatIf::from_recording(recording())
        .outcomes(EventFilter::all().sources(["AlarmService"]).unwrap());
    assert_eq!(by_source.original_outcomes().events, original.events);
    assert_eq!(by_source.inputs(), by_name.inputs());
}

#[tokio::test]
async fn the_same_parameters_reproduce_the_original_outcomes_exactly() {
    for timing in [Timing::Virtual, Timing::FullSpeed] {
        let run = whatif()
            .timing(timing)
            .run(Params { threshold: 30.0 }, alarm)
            .await
            .unwrap();
        assert!(run.is_unchanged(), "{timing:?}: {:?}", run.comparison);
        assert_eq!(run.inputs_delivered, 9);
        // Same events, data, state and offsets as recorded.
        assert_eq!(
            run.outcomes.events,
            whatif().original_outcomes().events,
            "{timing:?}"
        );
        assert!(run.metrics.iter().all(|m| m.diff == Some(0.0)), "{run}");
    }
}

#[tokio::test]
async fn a_changed_parameter_changes_the_metrics_as_computed_by_hand() {
    // Threshold 25: raised at 26 °C (excess 1), stays on until 22 °C ≤ 23 clears it.
    let run = whatif()
        .run(Params { threshold: 25.0 }, alarm)
        .await
        .unwrap();
    assert!(!run.is_unchanged());
    let s = |n: &str| n.to_owned();
    assert_eq!(
        metrics(&run),
        [
            (s("#AlarmCleared"), Some(2.0), Some(1.0), Some(-1.0)),
            (s("#AlarmRaised"), Some(2.0), Some(1.0), Some(-1.0)),
            (s("excess"), Some(4.0), Some(1.0), Some(-3.0)),
            (s("clear_rate"), Some(1.0), Some(1.0), Some(0.0)),
        ]
    );
    let offsets: Vec<u64> = run
        .outcomes
        .events
        .iter()
        .map(|e| e.timestamp_offset_ms.as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [100, 700]);
    // Threshold 35: no alarm at all; the rate is undefined.
    let quiet = whatif()
        .run(Params { threshold: 35.0 }, alarm)
        .await
        .unwrap();
    assert_eq!(quiet.metric("#AlarmRaised").unwrap().replayed, Some(0.0));
    assert_eq!(quiet.metric("clear_rate").unwrap().replayed, None);
    assert_eq!(quiet.metric("clear_rate").unwrap().diff, None);
    // The comparison the seed prints: original, replayed, change.
    assert_eq!(
        run.to_string(),
        "metric         original  replayed  change\n\
         #AlarmCleared         2         1      -1\n\
         #AlarmRaised          2         1      -1\n\
         excess                4         1      -3\n\
         clear_rate            1         1       0\n"
    );
}

#[tokio::test]
async fn virtual_timing_gives_the_system_the_recorded_gaps_without_waiting_them() {
    // An hour-long recording: inputs at 0, 20 min, 60 min.
    let mut r = Recording::new("long", "2025-10-17T10:00:00+00:00");
    for t in [0u64, 1_200_000, 3_600_000] {
        r.events.push(RecordedEvent::new(
            t,
            "Reading",
            raw(r#"{"celsius":1.0}"#),
            "Probe",
        ));
    }
    let started = std::time::Instant::now();
    let run = WhatIf::from_recording(r)
        .run(
            (),
            |(), mut inputs: Inputs, outcomes: Outcomes| async move {
                let origin = tokio::time::Instant::now();
                while inputs.next().await.is_some() {
                    let seen = origin.elapsed().as_millis() as u64;
                    outcomes.emit_as("Seen", &seen).unwrap();
                }
            },
        )
        .await
        .unwrap();
    let seen: Vec<&str> = run
        .outcomes
        .events
        .iter()
        .map(|e| e.event_data.get())
        .collect();
    assert_eq!(seen, ["0", "1200000", "3600000"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_sweep_table_is_ordered_best_first_and_complete() {
    let thresholds = [22.0, 25.0, 28.0, 30.0, 32.0, 35.0];
    let sweep = whatif()
        .sweep(
            thresholds.map(|threshold| Params { threshold }),
            alarm,
            SweepOptions::new().jobs(2).sort_by("excess", Best::Highest),
        )
        .await
        .unwrap();
    let mut indices: Vec<usize> = sweep.rows.iter().map(|r| r.index).collect();
    let order: Vec<f64> = sweep
        .rows
        .iter()
        .map(|r| r.parameters["threshold"].as_f64().unwrap())
        .collect();
    // Excess by hand (hysteresis 2): 22 → 4 (26, never cleared); 25 → 1 (26); 28 → 3 + 5
    // (31, cleared at 24, then 33); 30 → 1 + 3; 32 → 1 (33); 35 → 0. Ties in parameter order.
    assert_eq!(order, [28.0, 22.0, 30.0, 25.0, 32.0, 35.0], "{sweep}");
    let excess: Vec<f64> = sweep
        .rows
        .iter()
        .map(|r| r.value("excess").unwrap())
        .collect();
    assert_eq!(excess, [8.0, 4.0, 4.0, 1.0, 1.0, 0.0]);
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2, 3, 4, 5], "every parameter set has a row");
    let table = sweep.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + thresholds.len(), "{table}");
    assert!(lines[0].starts_with("rank  parameters"), "{table}");
    assert!(lines[0].contains("excess"), "{table}");
    assert!(
        lines[1].contains("(recorded)") && lines[1].ends_with("original"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("1     {\"threshold\":28.0}"),
        "{table}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("{\"threshold\":30.0}") && l.ends_with("unchanged"))
    );
    assert_eq!(sweep.best().unwrap().parameters, json!({"threshold": 28.0}));
}

#[tokio::test]
async fn a_panicking_or_failing_run_is_reported_and_the_sweep_goes_on() {
    let system = |p: Params, inputs: Inputs, outcomes: Outcomes| async move {
        if p.threshold == 28.0 {
            panic!("sensor model has no entry for 28");
        }
        if p.threshold == 32.0 {
            return Err("calibration table missing".to_owned());
        }
        alarm(p, inputs, outcomes).await.map_err(|e| e.to_string())
    };
    let sweep = whatif()
        .sweep(
            [25.0, 28.0, 30.0, 32.0].map(|threshold| Params { threshold }),
            system,
            SweepOptions::new()
                .jobs(2)
                .sort_by("#AlarmRaised", Best::Lowest),
        )
        .await
        .unwrap();
    assert_eq!(sweep.rows.len(), 4);
    let failed: Vec<(usize, String, bool)> = sweep
        .failures()
        .map(|r| {
            let f = r.outcome.as_ref().unwrap_err();
            (r.index, f.message.clone(), f.panicked)
        })
        .collect();
    assert_eq!(
        failed,
        [
            (
                1,
                "panicked: sensor model has no entry for 28".to_owned(),
                true
            ),
            (3, "calibration table missing".to_owned(), false),
        ]
    );
    // Successful runs first (fewest alarms first), failures last.
    let ok: Vec<usize> = sweep
        .rows
        .iter()
        .filter(|r| r.outcome.is_ok())
        .map(|r| r.index)
        .collect();
    assert_eq!(ok, [0, 2]);
    assert_eq!(sweep.rows[2].index, 1);
    let table = sweep.to_string();
    assert!(
        table.contains("failed: panicked: sensor model has no entry for 28"),
        "{table}"
    );
    assert!(
        table.contains("failed: calibration table missing"),
        "{table}"
    );
    // A single run reports the same failure as an error.
    let err = whatif()
        .run(Params { threshold: 32.0 }, system)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WhatIfRunFailed { .. }));
    assert!(
        err.to_string().contains("calibration table missing"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unknown_sort_metric_is_an_error_that_lists_the_metrics() {
    let err = whatif()
        .sweep(
            [Params { threshold: 1.0 }],
            alarm,
            SweepOptions::new().sort_by("pnl", Best::Highest),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid sweep sort metric `pnl`"), "{err}");
    assert!(err.contains("excess, clear_rate"), "{err}");
}

#[tokio::test]
async fn results_files_round_trip_and_list_as_the_replays_of_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    recording().save(&path).unwrap();
    let sweep = WhatIf::open(&path)
        .unwrap()
        .outcomes(EventFilter::names(["Alarm*"]).unwrap())
        .metric(Metric::sum("excess", "AlarmRaised", "excess").unwrap())
        .save(Save::ResultsAndOutcomes)
        .description("thresholds")
        .sweep(
            [25.0, 30.0].map(|threshold| Params { threshold }),
            |p: Params, inputs, outcomes| async move {
                if p.threshold == 30.0 {
                    return Err("refused".to_owned());
                }
                alarm(p, inputs, outcomes).await.map_err(|e| e.to_string())
            },
            SweepOptions::new().jobs(2),
        )
        .await
        .unwrap();
    let listed = list_results(&path).unwrap();
    assert_eq!(listed.len(), 2);
    let (ok_file, ok) = &listed[0];
    let run = sweep.rows[0].outcome.as_ref().unwrap();
    assert_eq!(run.result_file.as_deref(), Some(ok_file.as_path()));
    assert!(ok_file.starts_with(results_dir(&path)));
    assert_eq!(ok.status, ResultStatus::Ok);
    assert_eq!(ok.recording, "lab.json");
    assert_eq!(ok.description.as_deref(), Some("thresholds"));
    assert_eq!(ok.parameters, json!({"threshold": 25.0}));
    assert_eq!(ok.metrics, run.metrics);
    assert_eq!(ok.unchanged, Some(false));
    assert_eq!(ok.outcome_events, Some(2));
    // The pointer leads to the run's outcome recording.
    let outcomes = Recording::load(ok.outcomes_path(ok_file).unwrap()).unwrap();
    assert_eq!(outcomes.events.len(), 2);
    assert!(replay_events::compare(&outcomes, &run.outcomes).equal);
    let offsets = |r: &Recording| r.events.iter().map(|e| e.offset_ms()).collect::<Vec<_>>();
    assert_eq!(offsets(&outcomes), offsets(&run.outcomes));
    // Write → read → write gives the same document.
    let again: WhatIfResult = serde_json::from_str(&serde_json::to_string(ok).unwrap()).unwrap();
    assert_eq!(&again, ok);
    assert_eq!(&WhatIfResult::load(ok_file).unwrap(), ok);
    let (_, failed) = &listed[1];
    assert_eq!(failed.status, ResultStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("refused"));
    assert_eq!(failed.outcomes, None);
    // Nothing but results, outcomes and no temp files in the results directory.
    let mut names: Vec<String> = std::fs::read_dir(results_dir(&path))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".result.json") || n.ends_with(".outcomes.json"))
    );
    // A malformed result is an error naming the file.
    std::fs::write(
        results_dir(&path).join("bad.result.json"),
        "{\"format\": 3}",
    )
    .unwrap();
    let err = list_results(&path).unwrap_err().to_string();
    assert!(err.contains("bad.result.json"), "{err}");
    // Scanned one by one, the good results stay readable and the bad one is an error in place.
    let scanned = scan_results(&path).unwrap();
    assert_eq!(scanned.len(), 3);
    assert_eq!(scanned[0].1.as_ref().unwrap(), ok);
    assert_eq!(scanned[1].1.as_ref().unwrap(), failed);
    assert!(scanned[2].0.ends_with("bad.result.json"));
    let err = scanned[2].1.as_ref().unwrap_err().to_string();
    assert!(err.contains("bad.result.json"), "{err}");
}

#[tokio::test]
async fn grids_build_every_combination() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct P {
        threshold: f64,
        hold_ms: u64,
    }
    let sets: Vec<P> = Grid::new()
        .axis("threshold", [30.0, 35.0])
        .axis("hold_ms", [0, 500, 1000])
        .build()
        .unwrap();
    assert_eq!(sets.len(), 6);
    assert_eq!(
        sets[0],
        P {
            threshold: 30.0,
            hold_ms: 0
        }
    );
    assert_eq!(
        sets[5],
        P {
            threshold: 35.0,
            hold_ms: 1000
        }
    );
    let err = Grid::new()
        .axis("threshold", ["warm"])
        .build::<P>()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("invalid parameter set"), "{err}");
}

#[tokio::test]
async fn a_registered_handler_replays_with_modified_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.json");
    recording().save(&path).unwrap();
    let handler = WhatIfHandler::new(
        Params { threshold: 30.0 },
        |whatif| {
            Ok(whatif
                .outcomes(EventFilter::names(["Alarm*"])?)
                .metric(Metric::sum("excess", "AlarmRaised", "excess")?))
        },
        alarm,
    );
    let result = handler
        .replay(&path, json!({"threshold": 25.0}), Some("lower".into()))
        .await
        .unwrap();
    assert_eq!(result.status, ResultStatus::Ok);
    assert_eq!(result.description.as_deref(), Some("lower"));
    let body = result.api_response();
    assert_eq!(body["success"], json!(true));
    assert_eq!(body["recording_id"], json!("lab.json"));
    assert_eq!(body["excess"], json!(1.0));
    assert_eq!(body["comparison"]["excess_diff"], json!(-3.0));
    assert_eq!(body["comparison"]["original_excess"], json!(4.0));
    assert_eq!(list_results(&path).unwrap().len(), 1);
    // Unchanged parameters: a no-op.
    let same = handler.replay(&path, json!({}), None).await.unwrap();
    assert_eq!(same.unchanged, Some(true));
    let err = handler
        .replay(&path, json!({"threshold": "hot"}), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("invalid what-if parameters"), "{err}");
}
