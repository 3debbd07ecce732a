//! Fixtures shared by the API and browser suites: a recordings directory with the seed's
//! example recording (and a JSON Lines one), and a sessions directory in a git repository
//! whose committed cassette differs from the working tree.

#![allow(
    dead_code,
    reason = "each test target uses a part of the support module"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The seed's example recording (in `examples/recordings`).
pub const SEED: &str = "bull_run_2025_20251017T100000Z.json";
/// The cassette that differs from its committed version.
pub const CASSETTE: &str = "bench/psu.yaml";

/// A temporary tree: `recordings/`, `repo/sessions/` (a git repository), `secret.json`.
pub struct Fixture {
    /// The root.
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// The recordings directory.
    pub fn recordings(&self) -> PathBuf {
        self.dir.path().join("recordings")
    }
    /// The sessions directory.
    pub fn sessions(&self) -> PathBuf {
        self.dir.path().join("repo/sessions")
    }
}

/// The committed cassette.
pub const COMMITTED: &str = "psu:
  profile: keysight/EDU36311A
  log:
  - type: query
    command: '*IDN?'
    response: Keysight Technologies,EDU36311A,CN61130056,K-01.08.03
    timestamp: 0.01
  - type: write
    command: VOLT 5.0, (@1)
    timestamp: 0.2
  - type: query
    command: MEAS:VOLT? (@1)
    response: '+4.99918100E+00'
    timestamp: 0.5
";

/// The working-tree cassette: a setpoint changed, more readings, a recorded timeout and a
/// binary block.
pub const CHANGED: &str = "psu:
  profile: keysight/EDU36311A
  log:
  - type: query
    command: '*IDN?'
    response: Keysight Technologies,EDU36311A,CN61130056,K-01.08.03
    timestamp: 0.01
  - type: write
    command: VOLT 3.0, (@1)
    timestamp: 0.2
  - type: query
    command: MEAS:VOLT? (@1)
    response: '+2.99918100E+00'
    timestamp: 0.5
  - type: query
    command: MEAS:VOLT? (@1)
    response: '+3.00118100E+00'
    timestamp: 0.9
  - type: query
    command: MEAS:VOLT? (@1)
    response: '+3.00018100E+00'
    timestamp: 1.3
  - type: query
    command: MEAS:CURR? (@1)
    error: timeout
    error_message: no answer within 5 s
    timestamp: 6.3
scope:
  log:
  - type: query_raw
    command: ':WAV:DATA?'
    response: '#14ABCD'
    response_base64: IzE0AAH/fw==
    timestamp: 0.4
";

/// Lays out a fresh fixture.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let recordings = dir.path().join("recordings");
    std::fs::create_dir_all(&recordings).unwrap();
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/recordings")
        .join(SEED);
    std::fs::copy(seed, recordings.join(SEED)).unwrap();
    let jsonl = "{\"session_name\":\"lines\",\"start_time\":\"2026-01-01T00:00:00Z\",\"duration_ms\":30,\"total_events\":4}\n\
                 {\"timestamp_offset_ms\":0,\"event_name\":\"A\",\"event_data\":{\"x\":1.50},\"source\":\"S1\"}\n\
                 {\"timestamp_offset_ms\":10,\"event_name\":\"B\",\"event_data\":{\"y\":\"needle\"},\"source\":\"S2\"}\n\
                 {\"timestamp_offset_ms\":20,\"event_name\":\"A\",\"event_data\":{\"x\":2},\"source\":\"S1\"}\n\
                 {\"timestamp_offset_ms\":30,\"event_name\":\"C\",\"event_data\":[1,2],\"source\":\"S2\"}\n";
    std::fs::write(recordings.join("lines.jsonl"), jsonl).unwrap();
    // What a writer in progress leaves: a hidden temp file and an empty reserved name.
    std::fs::write(recordings.join(".replay-abc.tmp"), "{\"session_na").unwrap();
    std::fs::write(recordings.join("reserved_20260101T000000Z.json"), "").unwrap();
    // Outside the recordings directory, reachable only through a symlink.
    std::fs::write(dir.path().join("secret.json"), "{\"secret\": true}").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("secret.json"), recordings.join("link.json"))
        .unwrap();

    let repo = dir.path().join("repo");
    let sessions = repo.join("sessions/bench");
    std::fs::create_dir_all(&sessions).unwrap();
    std::fs::write(sessions.join("psu.yaml"), COMMITTED).unwrap();
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(
        &repo,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-q",
            "-m",
            "psu",
        ],
    );
    std::fs::write(sessions.join("psu.yaml"), CHANGED).unwrap();
    std::fs::write(sessions.join("new.yaml"), COMMITTED).unwrap();
    Fixture { dir }
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// The what-if system of the API and browser suites: one `SignalRaised` every `every`
/// `MarketDataReceived` events (base parameters: one in 1,000; the seed has 40, so none).
pub fn signal_handler() -> replay_events::whatif::WhatIfHandler {
    use replay_events::EventFilter;
    use replay_events::whatif::{Inputs, Outcomes, WhatIfHandler};

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Every {
        every: u32,
    }
    async fn system(
        params: Every,
        mut inputs: Inputs,
        outcomes: Outcomes,
    ) -> replay_events::Result<()> {
        let mut seen = 0;
        while let Some(event) = inputs.next().await {
            if event.event_name == "MarketDataReceived" {
                seen += 1;
                if seen % params.every == 0 {
                    outcomes.emit_as("SignalRaised", &seen)?;
                }
            }
        }
        Ok(())
    }
    WhatIfHandler::new(
        Every { every: 1000 },
        |whatif| Ok(whatif.outcomes(EventFilter::names(["Signal*"])?)),
        system,
    )
}
