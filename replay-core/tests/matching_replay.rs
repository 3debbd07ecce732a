//! Replaying under matching rules (`exact`, `scpi`, tolerance, `ignore`, `repeatable`,
//! per-instrument rules stored in the cassette) and timing (`virtual`, `realtime`).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use replay_core::session::__bench::{fast_read, yaml_serde_read};
use replay_core::session::read_session;
use replay_core::transport::BoxFuture;
use replay_core::{
    Bench, BenchConfig, Error, Instrument, MatchConfig, RecordOptions, ReplayOptions, Rule, Timing,
    Transport,
};

fn cassette(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("session.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

const REFACTOR: &str = "psu:\n  log:\n  - type: write\n    command: VOLT 5\n    timestamp: 0.1\n  - type: write\n    command: OUTP ON\n    timestamp: 0.2\n  - type: query\n    command: MEAS:VOLT?\n    response: '+4.99E+00'\n    timestamp: 0.3\n";

/// A replay of `path` under `rules`, and its `psu`.
async fn replay_under(path: &Path, rules: MatchConfig) -> (Bench, Instrument) {
    let bench = Bench::replay_with(path, ReplayOptions::default().rules(rules))
        .await
        .unwrap();
    let psu = bench.instrument("psu").unwrap();
    (bench, psu)
}

fn scpi() -> MatchConfig {
    MatchConfig::new().with_rule(Rule::Scpi)
}

#[tokio::test]
async fn a_refactored_driver_replays_under_scpi() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), REFACTOR);
    let (_bench, psu) = replay_under(&path, scpi()).await;
    psu.write("VOLTage 5.0").await.unwrap();
    psu.write(":OUTPut1:STATe 1").await.unwrap_err(); // a different header path
    let (bench, psu) = replay_under(&path, scpi()).await;
    psu.write("VOLTage 5.0").await.unwrap();
    psu.write(":outp1 1").await.unwrap();
    assert_eq!(psu.query("measure:voltage?").await.unwrap(), "+4.99E+00");
    bench.finish().await.unwrap();
}

#[tokio::test]
async fn exact_names_the_rule_and_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), REFACTOR);
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu.write("VOLTage 5.0").await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Mismatch(_)), "{text}");
    assert!(
        text.contains(
            "matching rule `exact`: `VOLTage 5.0` vs recorded `VOLT 5`: not byte for byte the same"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn scpi_says_which_part_differs() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), REFACTOR);
    let (bench, psu) = replay_under(&path, scpi()).await;
    let text = psu.write("VOLT 5.01").await.unwrap_err().to_string();
    assert!(
        text.contains(
            "matching rule `scpi`: `VOLT 5.01` vs recorded `VOLT 5`: numbers differ (parameter 1)"
        ),
        "{text}"
    );
    assert_eq!(
        bench.first_deviation().map(ToString::to_string).as_deref(),
        Some(text.as_str())
    );
}

#[tokio::test]
async fn tolerance_accepts_float_noise_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), REFACTOR);
    let rules = scpi().with_tolerance(1e-6);
    let (_bench, psu) = replay_under(&path, rules.clone()).await;
    psu.write("VOLT 5.0000000001").await.unwrap();
    let bench = Bench::replay_with(&path, ReplayOptions::default().rules(rules))
        .await
        .unwrap();
    let text = bench
        .instrument("psu")
        .unwrap()
        .write("VOLT 5.001")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("matching rule `scpi, tolerance 0.000001`"),
        "{text}"
    );
    assert!(
        text.contains("numbers differ by more than the tolerance"),
        "{text}"
    );
}

/// Recorded: `SYST:ERR?` polled after every command.
const POLLED: &str = "psu:\n  log:\n  - type: write\n    command: VOLT 1\n    timestamp: 0.1\n  - type: query\n    command: SYST:ERR?\n    response: 0,\"No error\"\n    timestamp: 0.2\n  - type: write\n    command: VOLT 2\n    timestamp: 0.3\n  - type: query\n    command: SYST:ERR?\n    response: -222,\"Data out of range\"\n    timestamp: 0.4\n  - type: write\n    command: VOLT 3\n    timestamp: 0.5\n  - type: query\n    command: SYST:ERR?\n    response: 0,\"No error\"\n    timestamp: 0.6\n  - type: query\n    command: '*IDN?'\n    response: ACME,PSU\n    timestamp: 0.7\n";

fn ignoring() -> MatchConfig {
    scpi().with_ignore(["SYST:ERR?"])
}

#[tokio::test]
async fn ignored_queries_any_number_of_times_answered_from_the_nearest() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), POLLED);
    let (bench, psu) = replay_under(&path, ignoring()).await;
    // Polled twice as often, with another spelling, and never after VOLT 3.
    assert_eq!(psu.query("SYST:ERR?").await.unwrap(), "0,\"No error\"");
    psu.write("VOLT 1").await.unwrap();
    assert_eq!(psu.query("system:error?").await.unwrap(), "0,\"No error\"");
    psu.write("VOLT 2").await.unwrap();
    assert_eq!(
        psu.query("SYST:ERR?").await.unwrap(),
        "-222,\"Data out of range\""
    );
    assert_eq!(
        psu.query("SYST:ERR?").await.unwrap(),
        "-222,\"Data out of range\""
    );
    psu.write("VOLT 3").await.unwrap();
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU");
    bench.finish().await.unwrap();
}

#[tokio::test]
async fn an_ignored_write_needs_no_recording_but_a_query_needs_an_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), REFACTOR);
    let rules = scpi().with_ignore(["*CLS", "/^SYST:ERR/"]);
    let (_bench, psu) = replay_under(&path, rules).await;
    psu.write("*cls").await.unwrap();
    let text = psu.query("SYST:ERR?").await.unwrap_err().to_string();
    assert!(
        text.contains(
            "`SYST:ERR?` is ignored, but the session recorded no query of it to answer with"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn without_the_ignore_rule_a_changed_poll_rate_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), POLLED);
    let (_bench, psu) = replay_under(&path, scpi()).await;
    psu.write("VOLT 1").await.unwrap();
    psu.write("VOLT 2").await.unwrap_err();
}

#[tokio::test]
async fn repeatable_queries_are_answered_as_often_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), POLLED);
    let rules = ignoring().with_repeatable(["*IDN?"]);
    let (bench, psu) = replay_under(&path, rules.clone()).await;
    for _ in 0..3 {
        assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU");
    }
    for v in 1..=3 {
        psu.write(&format!("VOLT {v}")).await.unwrap();
    }
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU");
    bench.finish().await.unwrap();

    // Never asked: the recorded `*IDN?` is unused (ignored `SYST:ERR?` never is).
    let (bench, psu) = replay_under(&path, rules).await;
    for v in 1..=3 {
        psu.write(&format!("VOLT {v}")).await.unwrap();
    }
    let text = bench.finish().await.unwrap_err().to_string();
    assert!(
        text.starts_with("1 recorded interaction was never replayed"),
        "{text}"
    );
    assert!(text.contains("*IDN?"), "{text}");
    assert!(!text.contains("SYST:ERR?"), "{text}");
}

#[tokio::test]
async fn rules_stored_in_the_cassette_apply_without_options() {
    let dir = tempfile::tempdir().unwrap();
    let text = POLLED.replacen(
        "psu:\n",
        "psu:\n  matching: scpi\n  ignore:\n  - SYST:ERR?\n",
        1,
    );
    let path = cassette(dir.path(), &text);
    let session = read_session(&path).unwrap();
    assert_eq!(session, yaml_serde_read(&path, &text).unwrap());
    assert_eq!(fast_read(&text), None, "rules are read by yaml_serde");
    let stored = session
        .instrument("psu")
        .unwrap()
        .rules
        .matching
        .clone()
        .unwrap();
    assert_eq!(stored, ignoring());
    // Written back the same way.
    assert_eq!(replay_core::session::render_session(&session), text);

    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    for v in 1..=3 {
        psu.write(&format!("VOLTage {v}.0")).await.unwrap();
    }
    psu.query("*IDN?").await.unwrap();
    bench.finish().await.unwrap();

    // The test's own rule wins over the instrument's.
    let exact = MatchConfig::new().with_rule(Rule::Exact);
    let bench = Bench::replay_with(&path, ReplayOptions::default().rules(exact))
        .await
        .unwrap();
    let err = bench.instrument("psu").unwrap().write("VOLTage 1.0").await;
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("matching rule `exact, ignore [SYST:ERR?]`")
    );
}

#[tokio::test]
async fn invalid_rules_in_a_cassette_are_reported_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = REFACTOR.replacen("psu:\n", "psu:\n  matching: fuzzy\n", 1);
    let path = cassette(dir.path(), &text);
    let text = read_session(&path).unwrap_err().to_string();
    assert!(text.contains("session.yaml:2:3"), "{text}");
    assert!(
        text.contains(
            "the matching rules of `psu`: unknown matching rule `fuzzy`; expected `exact` or `scpi`"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn invalid_rules_of_a_test_fail_when_the_instrument_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), REFACTOR);
    let rules = MatchConfig::new().with_ignore(["SYST:ERR?;*OPC?"]);
    let bench = Bench::replay_with(&path, ReplayOptions::default().rules(rules))
        .await
        .unwrap();
    let text = bench.instrument("psu").unwrap_err().to_string();
    assert!(
        text.starts_with("invalid matching rules for instrument `psu`: pattern `SYST:ERR?;*OPC?` is not one SCPI command"),
        "{text}"
    );
}

#[tokio::test]
async fn a_custom_matcher_still_plugs_in() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), REFACTOR);
    let options = ReplayOptions::default().matcher(
        |recorded: &replay_core::session::Interaction, request: &replay_core::Request<'_>| {
            recorded.kind == *request.kind
        },
    );
    let bench = Bench::replay_with(&path, options).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.write("anything").await.unwrap();
    let text = psu.query("MEAS:VOLT?").await.unwrap_err().to_string();
    assert!(text.contains("matching rule `custom`"), "{text}");
}

/// A transport that answers every query with `OK`.
struct Ok1;

impl Transport for Ok1 {
    fn send<'a>(&'a mut self, _command: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn receive(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        Box::pin(async { Ok(b"OK".to_vec()) })
    }
    fn receive_block(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        self.receive()
    }
}

#[tokio::test]
async fn bench_yaml_rules_are_recorded_into_the_cassette() {
    let dir = tempfile::tempdir().unwrap();
    let config = BenchConfig::parse(
        dir.path().join("bench.yaml"),
        "instruments:\n  psu:\n    address: USB0::1::2::SN::INSTR\n    matching: scpi\n    keywords: [CHANnel]\n    ignore: ['SYST:ERR?']\n    repeatable: ['*IDN?']\n",
    )
    .unwrap();
    let path = dir.path().join("run.yaml");
    let bench = Bench::record_config(
        config,
        &path,
        RecordOptions::default().transport("psu", Ok1),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.write("CHAN1:SCAL 2").await.unwrap();
    psu.query("*IDN?").await.unwrap();
    bench.finish().await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("psu:\n  matching: scpi\n  keywords:\n  - CHANnel\n  ignore:\n  - SYST:ERR?\n  repeatable:\n  - '*IDN?'\n  log:\n"),
        "{text}"
    );
    // Replay needs no bench file: the declared keyword works from the cassette.
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.write("channel:scal 2.0").await.unwrap();
    psu.query("*IDN?").await.unwrap();
    psu.query("*IDN?").await.unwrap();
    bench.finish().await.unwrap();
}

#[test]
fn bench_yaml_rules_are_checked() {
    let err = BenchConfig::parse(
        "bench.yaml",
        "instruments:\n  psu:\n    address: USB0::1::2::SN::INSTR\n    ignore: ['/(/']\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("bench.yaml:4:"), "{err}");
    assert!(
        err.contains(
            "the matching rules of `psu`: pattern `/(/` is not a valid regular expression"
        ),
        "{err}"
    );
}

/// A supply that settles for 2 s, then a timeout recorded after 1.5 s.
const TIMED: &str = "psu:\n  log:\n  - type: write\n    command: VOLT 5\n    timestamp: 0.5\n  - type: query\n    command: MEAS:VOLT?\n    response: '+5.0E+00'\n    timestamp: 2.5\n  - type: query\n    command: MEAS:CURR?\n    error: timeout\n    error_message: no answer within 1.5 s\n    timeout_s: 1.5\n    timestamp: 3.0\n";

/// [`TIMED`] replayed under virtual time (read beforehand: no I/O on the paused clock).
fn replay_timed(dir: &Path) -> (Bench, Instrument) {
    let path = cassette(dir, TIMED);
    let session = read_session(&path).unwrap();
    let bench = Bench::replay_session(
        &path,
        session,
        ReplayOptions::default().timing(Timing::Virtual),
    );
    let psu = bench.instrument("psu").unwrap();
    (bench, psu)
}

#[tokio::test(start_paused = true)]
async fn virtual_time_reproduces_the_recorded_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let (_bench, psu) = replay_timed(dir.path());
    let start = tokio::time::Instant::now();
    psu.write("VOLT 5").await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    tokio::time::sleep(Duration::from_secs(2)).await; // the settle: free
    psu.query("MEAS:VOLT?").await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(2500));
    // A timeout shorter than the recorded one fires, exactly when it should.
    let late = tokio::time::timeout(Duration::from_millis(1000), psu.query("MEAS:CURR?")).await;
    assert!(late.is_err(), "{late:?}");
    assert_eq!(start.elapsed(), Duration::from_millis(3500));
}

#[tokio::test(start_paused = true)]
async fn a_recorded_timeout_arrives_after_its_recorded_wait() {
    let dir = tempfile::tempdir().unwrap();
    let (_bench, psu) = replay_timed(dir.path());
    let start = tokio::time::Instant::now();
    psu.write("VOLT 5").await.unwrap();
    psu.query("MEAS:VOLT?").await.unwrap();
    let err = psu.query("MEAS:CURR?").await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { recorded: true, .. }),
        "{err}"
    );
    assert_eq!(start.elapsed(), Duration::from_millis(4500));
}

#[tokio::test]
async fn instant_timing_ignores_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), TIMED);
    let bench = Bench::replay(&path).await.unwrap();
    let start = std::time::Instant::now();
    let psu = bench.instrument("psu").unwrap();
    psu.write("VOLT 5").await.unwrap();
    psu.query("MEAS:VOLT?").await.unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn realtime_paces_at_the_recorded_gaps_times_the_speed() {
    let dir = tempfile::tempdir().unwrap();
    let path = cassette(dir.path(), TIMED);
    let options = ReplayOptions::default()
        .timing(Timing::Realtime)
        .speed(10.0);
    let bench = Bench::replay_with(&path, options).await.unwrap();
    let start = std::time::Instant::now();
    let psu = bench.instrument("psu").unwrap();
    psu.write("VOLT 5").await.unwrap();
    psu.query("MEAS:VOLT?").await.unwrap();
    // 2.5 s recorded, at 10x: 0.25 s (loose bounds: timing is the feature).
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(240), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
}
