//! The foundation end to end: record against the simulated bench over real loopback TCP,
//! stop the simulator, replay offline; and every way a replay can deviate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use replay_harness::session::{InteractionKind, RecordedErrorKind, read_session};
use replay_harness::{Bench, Error, ReplayOptions};
use replay_tests::sim::{SimBench, SimInstrument};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The procedure under test: what a PyTestLab-style driver does, polling the error queue
/// after every command.
async fn procedure(bench: &Bench, volts: &str) -> TestResult {
    let psu = bench.instrument("psu")?;
    let scope = bench.instrument("scope")?;
    assert!(
        psu.query("*IDN?")
            .await?
            .starts_with("Keysight Technologies,EDU36311A")
    );
    for command in [
        &format!("VOLT {volts}, (@1)"),
        "CURR 0.5, (@1)",
        "OUTP ON, (@1)",
    ] {
        psu.write(command).await?;
        assert_eq!(psu.query(":SYSTem:ERRor?").await?, "+0,\"No error\"");
    }
    let measured: f64 = psu.query("MEAS:VOLT? (@1)").await?.parse()?;
    assert!(
        (measured - volts.parse::<f64>()?).abs() < 0.05,
        "{measured}"
    );
    scope.write(":WAV:POIN 300").await?;
    let block = scope.query_binary(":WAV:DATA?").await?;
    assert_eq!(block.len(), 300);
    assert_eq!(
        &block[..256],
        &(0..=255u8).collect::<Vec<_>>()[..],
        "every byte value survives"
    );
    psu.write("OUTP OFF, (@1)").await?;
    Ok(())
}

async fn record(sim: &SimBench, dir: &Path, name: &str) -> PathBuf {
    let config = dir.join("bench.yaml");
    sim.write_config(&config).unwrap();
    let path = dir.join(format!("sessions/{name}.yaml"));
    let bench = Bench::record(&config, &path).await.unwrap();
    procedure(&bench, "5.0").await.unwrap();
    bench.finish().await.unwrap();
    path
}

/// Records the procedure against a fresh noiseless bench, then stops the simulator, so
/// what follows can only work from the cassette.
async fn record_offline(dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error + Send + Sync>> {
    let sim = SimBench::builder()
        .psu("psu")
        .scope("scope")
        .start()
        .await?;
    let path = record(&sim, dir, "run").await;
    sim.shutdown().await;
    Ok(path)
}

fn options() -> ReplayOptions {
    ReplayOptions::default().rerecord_command("RECORD=1 cargo test --test foundation procedure")
}

#[tokio::test]
async fn record_stop_the_bench_replay_offline() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sim = SimBench::builder()
        .psu("psu")
        .scope("scope")
        .seed(3)
        .start()
        .await?;
    let path = record(&sim, dir.path(), "run").await;
    sim.shutdown().await;

    let session = read_session(&path)?;
    assert_eq!(
        session.aliases().collect::<Vec<_>>(),
        ["psu", "scope"],
        "bench-config order"
    );
    let psu = session.instrument("psu").unwrap();
    assert_eq!(psu.profile.as_deref(), Some("keysight/EDU36311A"));
    assert_eq!(psu.log.len(), 9);
    let scope = session.instrument("scope").unwrap();
    assert_eq!(scope.log[1].kind, InteractionKind::QueryRaw);
    assert!(std::fs::read_to_string(&path)?.contains("response_base64: "));

    // The simulator is gone: this only works from the cassette.
    let bench = Bench::replay_with(&path, options()).await?;
    procedure(&bench, "5.0").await?;
    bench.finish().await?;
    Ok(())
}

#[tokio::test]
async fn deviations_fail_with_a_report() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = record_offline(dir.path()).await?;

    // A changed command.
    let bench = Bench::replay_with(&path, options()).await?;
    let err = procedure(&bench, "3.0").await.unwrap_err();
    let err = err.downcast_ref::<Error>().expect("a replay error");
    let msg = err.to_string();
    assert!(
        msg.starts_with("replay mismatch on `psu` at interaction #2 of 9"),
        "{msg}"
    );
    assert!(msg.contains("- write  VOLT 5.0, (@1)"), "{msg}");
    assert!(msg.contains("+ write  VOLT 3.0, (@1)"), "{msg}");
    assert!(
        msg.ends_with("RECORD=1 cargo test --test foundation procedure"),
        "{msg}"
    );

    // A missing interaction: the test stops early.
    let bench = Bench::replay_with(&path, options()).await?;
    let psu = bench.instrument("psu")?;
    psu.query("*IDN?").await?;
    let msg = bench.finish().await.unwrap_err().to_string();
    assert!(msg.contains("`psu` stopped at #1 of 9"), "{msg}");
    assert!(msg.contains("`scope`"), "scope never ran either: {msg}");

    // An extra interaction.
    let bench = Bench::replay_with(&path, options()).await?;
    procedure(&bench, "5.0").await?;
    let psu = bench.instrument("psu")?;
    let msg = psu.query("MEAS:CURR? (@1)").await.unwrap_err().to_string();
    assert!(
        msg.starts_with("replay ran past the end of `psu`'s log"),
        "{msg}"
    );
    assert!(msg.contains("+ query  MEAS:CURR? (@1)"), "{msg}");
    Ok(())
}

#[tokio::test]
async fn timeouts_and_unknown_queries_are_recorded_and_replayed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sim = SimBench::builder()
        .instrument(SimInstrument::dmm("dmm").timeout(Duration::from_millis(300)))
        .start()
        .await?;
    let config = dir.path().join("bench.yaml");
    sim.write_config(&config)?;
    let path = dir.path().join("timeouts.yaml");
    let bench = Bench::record(&config, &path).await?;
    let dmm = bench.instrument("dmm")?;
    let err = dmm.query("SYST:HANG?").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                recorded: false,
                ..
            }
        ),
        "{err}"
    );
    // An unknown query never answers either; the instrument queues -113.
    let err = dmm.query("BOGUS:CMD?").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert_eq!(dmm.query("SYST:ERR?").await?, "-113,\"Undefined header\"");
    bench.finish().await?;
    sim.shutdown().await;

    let log = &read_session(&path)?.instrument("dmm").unwrap().log.clone();
    assert_eq!(
        log[0].error.as_ref().unwrap().kind,
        RecordedErrorKind::Timeout
    );

    let bench = Bench::replay(&path).await?;
    let dmm = bench.instrument("dmm")?;
    for command in ["SYST:HANG?", "BOGUS:CMD?"] {
        match dmm.query(command).await.unwrap_err() {
            Error::Timeout {
                recorded,
                after,
                command: c,
                ..
            } => {
                assert!(recorded);
                assert_eq!(after, Some(Duration::from_millis(300)));
                assert_eq!(c, command);
            }
            other => panic!("expected the recorded timeout, got {other}"),
        }
    }
    assert_eq!(dmm.query("SYST:ERR?").await?, "-113,\"Undefined header\"");
    bench.finish().await?;
    Ok(())
}

#[tokio::test]
async fn messy_instruments_crlf_and_slow_first_reply() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sim = SimBench::builder()
        .psu("psu")
        .scope("scope")
        .crlf(true)
        .first_reply_delay(Duration::from_millis(150))
        .start()
        .await?;
    // The config keeps the default LF terminators: CRLF answers must still read cleanly.
    let path = record(&sim, dir.path(), "crlf").await;
    sim.shutdown().await;
    for (alias, log) in &read_session(&path)?.instruments {
        for i in log.log.iter().filter(|i| i.kind == InteractionKind::Query) {
            let response = i.response.as_deref().unwrap_or_default();
            assert!(
                !response.contains('\r'),
                "stray CR from `{alias}`: {response:?}"
            );
        }
    }
    let bench = Bench::replay(&path).await?;
    procedure(&bench, "5.0").await?;
    bench.finish().await?;
    Ok(())
}

#[tokio::test]
async fn rerecording_an_unchanged_procedure_changes_only_timestamps() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut texts = Vec::new();
    for run in 0..2 {
        let sim = SimBench::builder()
            .psu("psu")
            .scope("scope")
            .seed(11)
            .start()
            .await?;
        let path = record(&sim, dir.path(), &format!("run{run}")).await;
        sim.shutdown().await;
        let text = std::fs::read_to_string(&path)?;
        let without_timestamps: Vec<String> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("timestamp:"))
            .map(str::to_owned)
            .collect();
        texts.push(without_timestamps);
    }
    assert_eq!(texts[0], texts[1]);
    Ok(())
}

#[tokio::test]
async fn instruments_replay_from_concurrent_tasks() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = record_offline(dir.path()).await?;
    // Replay each instrument's part from its own task; order across instruments is free.
    let bench = std::sync::Arc::new(Bench::replay(&path).await?);
    let scope = bench.instrument("scope")?;
    let scope_task = tokio::spawn(async move {
        scope.write(":WAV:POIN 300").await?;
        scope.query_binary(":WAV:DATA?").await.map(|b| b.len())
    });
    assert_eq!(scope_task.await??, 300);
    let psu = bench.instrument("psu")?;
    psu.query("*IDN?").await?;
    let err = psu.write("OUTP OFF, (@1)").await.unwrap_err();
    assert!(
        err.is_mismatch(),
        "per-instrument order is still strict: {err}"
    );
    Ok(())
}

#[tokio::test]
async fn malformed_cassette_is_a_clear_error() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("broken.yaml");
    std::fs::write(
        &path,
        "psu:\n  profile: keysight/EDU36311A\n  log:\n  - type: query\n    command: '*IDN?\n",
    )?;
    let err = Bench::replay(&path).await.unwrap_err();
    let msg = format!("{err:?}");
    assert!(
        msg.starts_with(&format!("session `{}:", path.display())),
        "{msg}"
    );
    assert!(msg.contains("is malformed"), "{msg}");
    assert!(msg.contains("re-record it on the bench"), "{msg}");
    Ok(())
}

#[tokio::test]
async fn pytestlab_session_replays_unchanged() -> TestResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sessions/pytestlab/psu_session.yaml");
    let bench = Bench::replay(&path).await?;
    let psu = bench.instrument("psu")?;
    assert_eq!(psu.profile(), Some("keysight/EDU36311A"));
    // What PyTestLab's EDU36311A driver sent: every command followed by an error-queue poll.
    assert!(
        psu.query("*IDN?")
            .await?
            .starts_with("Keysight Technologies,EDU36311A")
    );
    psu.query(":SYSTem:ERRor?").await?;
    for command in ["VOLT 1.5, (@1)", "CURR 0.1, (@1)", "OUTP:STAT ON, (@1)"] {
        psu.write(command).await?;
        assert_eq!(psu.query(":SYSTem:ERRor?").await?, "+0,\"No error\"");
    }
    assert_eq!(psu.query("MEAS:VOLT? (@1)").await?, "1.499663");
    psu.query(":SYSTem:ERRor?").await?;
    assert_eq!(psu.query("MEAS:CURR? (@1)").await?, "0.050028");
    psu.query(":SYSTem:ERRor?").await?;
    psu.write("OUTP:STAT OFF, (@1)").await?;
    psu.query(":SYSTem:ERRor?").await?;
    bench.finish().await?;
    Ok(())
}
