//! A what-if sweep over a recorded furnace: which alarm threshold and hold time would have
//! caught the faults the maintenance log reports, with the fewest alarms?
//!
//! ```sh
//! # the committed recording: sweep 18 parameter sets, print the table, save the results
//! cargo run -p replay-events --example whatif_threshold
//! # the measurement: 100 parameter sets over a generated 100,000-event recording
//! cargo run --release -p replay-events --example whatif_threshold -- --events 100000 --sets 100 --jobs 2
//! # regenerate the committed recording
//! cargo run -p replay-events --example whatif_threshold -- --generate replay-events/examples/recordings/furnace.json
//! ```
//!
//! The system is a threshold alarm with a hold time (the reading must stay above the
//! threshold that long) and hysteresis. Inputs: `Reading` (three probes, one a second) and
//! `FaultReported` (the maintenance log). Outcomes: `AlarmRaised`, `AlarmCleared`, and, for
//! each reported fault, `FaultAnticipated` (an alarm for that probe in the minute before) or
//! `FaultMissed`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use replay_events::whatif::{Best, Grid, Inputs, Metric, Outcomes, Save, SweepOptions, WhatIf};
use replay_events::{EventFilter, RecordedEvent, Recording};
use serde::{Deserialize, Serialize};

/// The alarm's parameters.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Params {
    /// Degrees Celsius above which a probe is hot.
    threshold: f64,
    /// How long a probe must stay hot before the alarm is raised.
    hold_ms: u64,
}

/// The parameters the furnace ran with when it was recorded.
const PRODUCTION: Params = Params {
    threshold: 90.0,
    hold_ms: 0,
};

#[derive(Debug, Serialize, Deserialize)]
enum Input {
    Reading { probe: String, celsius: f64 },
    FaultReported { probe: String },
}

#[derive(Debug, Serialize)]
enum Decision {
    AlarmRaised { probe: String, celsius: f64 },
    AlarmCleared { probe: String, celsius: f64 },
    FaultAnticipated { probe: String, lead_ms: u64 },
    FaultMissed { probe: String },
}

#[derive(Default)]
struct Probe {
    hot_since: Option<tokio::time::Instant>,
    alarm_at: Option<tokio::time::Instant>,
    alarmed: bool,
}

const HYSTERESIS: f64 = 3.0;
const ANTICIPATION_MS: u64 = 60_000;

/// The system under test.
async fn furnace_alarm(
    params: Params,
    mut inputs: Inputs,
    outcomes: Outcomes,
) -> replay_events::Result<()> {
    let out = outcomes.with_source("FurnaceAlarm");
    let mut probes: HashMap<String, Probe> = HashMap::new();
    while let Some(event) = inputs.next().await {
        let now = tokio::time::Instant::now();
        let Ok(input) = event.decode::<Input>() else {
            continue;
        };
        match input {
            Input::Reading { probe, celsius } => {
                let state = probes.entry(probe.clone()).or_default();
                if celsius > params.threshold {
                    let since = *state.hot_since.get_or_insert(now);
                    let held = now.duration_since(since).as_millis() as u64;
                    if !state.alarmed && held >= params.hold_ms {
                        state.alarmed = true;
                        state.alarm_at = Some(now);
                        let metadata = serde_json::json!({
                            "threshold": params.threshold,
                            "hot_for_ms": held,
                        });
                        out.emit_with_state(
                            &Decision::AlarmRaised { probe, celsius },
                            &[("decision_metadata", &metadata)],
                        )?;
                    }
                } else if celsius <= params.threshold - HYSTERESIS {
                    state.hot_since = None;
                    if state.alarmed {
                        state.alarmed = false;
                        out.emit(&Decision::AlarmCleared { probe, celsius })?;
                    }
                }
            }
            Input::FaultReported { probe } => {
                let alarm_at = probes.get(&probe).and_then(|p| p.alarm_at);
                match alarm_at.map(|at| now.duration_since(at).as_millis() as u64) {
                    Some(lead_ms) if lead_ms <= ANTICIPATION_MS => {
                        out.emit(&Decision::FaultAnticipated { probe, lead_ms })?;
                    }
                    _ => out.emit(&Decision::FaultMissed { probe })?,
                }
            }
        }
    }
    Ok(())
}

/// The what-if over `recording`: outcomes are the alarm's decisions; a fault caught is worth
/// 10, a fault missed costs 20, each alarm costs 1.
fn configure(whatif: WhatIf) -> replay_events::Result<WhatIf> {
    let caught = Metric::count("caught", "FaultAnticipated")?;
    let missed = Metric::count("missed", "FaultMissed")?;
    let alarms = Metric::count("alarms", "AlarmRaised")?;
    let faults = Metric::count("faults", "Fault*")?;
    let score = {
        let (caught, missed, alarms) = (caught.clone(), missed.clone(), alarms.clone());
        Metric::new("score", move |events| {
            Some(
                10.0 * caught.compute(events)?
                    - 20.0 * missed.compute(events)?
                    - alarms.compute(events)?,
            )
        })
    };
    Ok(whatif
        .outcomes(EventFilter::all().sources(["FurnaceAlarm"])?)
        .metric(score)
        .metric(Metric::rate("recall", &caught, &faults))
        .metric(Metric::rate(
            "mean_lead_ms",
            &Metric::sum("lead_ms", "FaultAnticipated", "lead_ms")?,
            &caught,
        ))
        .metric(alarms))
}

/// A small deterministic random generator (no dependency for an example).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Readings of three probes, one a second each, `events` in all: around 70 °C with noise,
/// short harmless spikes, and episodes where a probe heats up for a minute before the
/// maintenance log reports a fault on it.
fn generate_inputs(events: usize) -> Recording {
    let mut r = Recording::new("furnace", "2026-11-30T08:00:00.000000+00:00");
    let mut rng = Lcg(0x5eed);
    let probes = ["probe-a", "probe-b", "probe-c"];
    let mut drift = [0.0f64; 3];
    let mut episode: [Option<u32>; 3] = [None; 3];
    let mut second = 0u64;
    while r.events.len() < events {
        for (i, probe) in probes.iter().enumerate() {
            if r.events.len() >= events {
                break;
            }
            let t = second * 1000 + i as u64 * 100;
            let mut celsius = 70.0 + drift[i] + rng.next() * 6.0 - 3.0;
            // A harmless spike now and then.
            if rng.next() < 0.004 {
                celsius += 25.0;
            }
            // A fault builds up over a minute, then is reported.
            match episode[i] {
                None if rng.next() < 0.01 => episode[i] = Some(0),
                Some(s) if s >= 60 => {
                    episode[i] = None;
                    let data = serde_json::json!({"probe": probe});
                    r.events.push(RecordedEvent::new(
                        t + 50,
                        "FaultReported",
                        serde_json::value::to_raw_value(&data).unwrap_or_default(),
                        "MaintenanceLog",
                    ));
                }
                Some(s) => {
                    celsius += f64::from(s) * 0.4;
                    episode[i] = Some(s + 1);
                }
                None => {}
            }
            drift[i] = (drift[i] + rng.next() - 0.5).clamp(-5.0, 5.0);
            let celsius = (celsius * 10.0).round() / 10.0;
            let data = serde_json::json!({"probe": probe, "celsius": celsius});
            r.events.push(RecordedEvent::new(
                t,
                "Reading",
                serde_json::value::to_raw_value(&data).unwrap_or_default(),
                "Probes",
            ));
        }
        second += 1;
    }
    // A fault report sits 50 ms after its probe's reading: keep the file in time order.
    r.events.sort_by_key(|e| e.timestamp_offset_ms.as_u64());
    r.duration_ms = (second * 1000).into();
    r
}

/// A recording as it would have been recorded live: the inputs plus the production alarm's
/// decisions, in time order.
async fn generate(events: usize) -> replay_events::Result<Recording> {
    let inputs = generate_inputs(events);
    let live = WhatIf::from_recording(inputs.clone())
        .run(PRODUCTION, furnace_alarm)
        .await?;
    let mut recording = inputs;
    let mut merged = Vec::with_capacity(recording.events.len() + live.outcomes.events.len());
    let mut decisions = live.outcomes.events.into_iter().peekable();
    for input in recording.events {
        while decisions
            .peek()
            .is_some_and(|d| d.offset_ms() < input.offset_ms())
        {
            merged.extend(decisions.next());
        }
        merged.push(input);
    }
    merged.extend(decisions);
    recording.events = merged;
    Ok(recording)
}

struct Args {
    generate: Option<PathBuf>,
    events: Option<usize>,
    sets: usize,
    jobs: usize,
    dir: PathBuf,
}

fn args() -> Args {
    let mut args = Args {
        generate: None,
        events: None,
        sets: 100,
        jobs: 2,
        dir: PathBuf::from("target/whatif-example"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match flag.as_str() {
            "--generate" => args.generate = Some(value().into()),
            "--events" => args.events = value().parse().ok(),
            "--sets" => args.sets = value().parse().unwrap_or(100),
            "--jobs" => args.jobs = value().parse().unwrap_or(2),
            "--dir" => args.dir = value().into(),
            other => {
                eprintln!("unknown argument `{other}`; see the example's doc comment");
                std::process::exit(2);
            }
        }
    }
    args
}

#[tokio::main]
async fn main() -> replay_events::Result<()> {
    let args = args();
    if let Some(path) = &args.generate {
        let recording = generate(600).await?;
        recording.save(path)?;
        println!(
            "wrote {} ({} events)",
            path.display(),
            recording.events.len()
        );
        return Ok(());
    }
    if let Some(events) = args.events {
        return measure(events, args.sets, args.jobs).await;
    }
    // Work on a copy, so the results land next to it and not in the repository.
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/recordings/furnace.json");
    let path = args.dir.join("furnace.json");
    Recording::load(&committed)?.save(&path)?;
    let whatif = configure(WhatIf::open(&path)?)?.save(Save::ResultsAndOutcomes);
    let sets: Vec<Params> = Grid::new()
        .axis("threshold", [80.0, 85.0, 90.0, 95.0, 100.0, 105.0])
        .axis("hold_ms", [0, 5_000, 20_000])
        .build()?;
    let sweep = whatif
        .sweep(
            sets,
            furnace_alarm,
            SweepOptions::new()
                .jobs(args.jobs)
                .sort_by("score", Best::Highest),
        )
        .await?;
    print!("{sweep}");
    if let Some(best) = sweep.best() {
        println!("\nbest: {}", best.parameters);
        if let Ok(run) = &best.outcome {
            print!("{run}");
        }
    }
    println!(
        "\nresults: {} (`replay info {}` lists them)",
        replay_events::whatif::results_dir(&path).display(),
        path.display()
    );
    Ok(())
}

/// The measurement: `sets` parameter sets over a generated recording of `events` events.
async fn measure(events: usize, sets: usize, jobs: usize) -> replay_events::Result<()> {
    let started = Instant::now();
    let recording = generate(events).await?;
    let generated = started.elapsed();
    let whatif = configure(WhatIf::from_recording(recording))?;
    let thresholds: Vec<f64> = (0..sets.div_ceil(2))
        .map(|i| 75.0 + i as f64 * 0.5)
        .collect();
    let mut params: Vec<Params> = Grid::new()
        .axis("threshold", thresholds)
        .axis("hold_ms", [0, 10_000])
        .build()?;
    params.truncate(sets);
    let n = params.len();
    let started = Instant::now();
    let sweep = whatif
        .sweep(
            params,
            furnace_alarm,
            SweepOptions::new()
                .jobs(jobs)
                .sort_by("score", Best::Highest),
        )
        .await?;
    let elapsed = started.elapsed();
    println!(
        "recording: {} events ({} inputs), generated in {:.2} s",
        whatif.inputs().len() + whatif.original_outcomes().events.len(),
        whatif.inputs().len(),
        generated.as_secs_f64()
    );
    println!(
        "sweep: {n} parameter sets, {jobs} jobs: {:.2} s ({:.1} ms per run, {:.1} M input events/s)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / n as f64,
        (whatif.inputs().len() * n) as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!("failed runs: {}", sweep.failures().count());
    if let Some(best) = sweep.best() {
        println!("best: {} score {:?}", best.parameters, best.value("score"));
    }
    Ok(())
}
