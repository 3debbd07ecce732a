//! Faults injected at every stage of an exchange, against the simulated bench over real
//! loopback TCP: for each, recording gives a clear error naming the instrument and the
//! command, nothing wrong is recorded (a late or leftover answer never becomes the next
//! response), the next exchange works, and the replay gives the same error.

use std::path::Path;
use std::time::Duration;

use replay_harness::session::{RecordedErrorKind, read_session};
use replay_harness::{Bench, Error};
use replay_tests::sim::{Fault, SimBench, SimInstrument};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// What the faulty exchange is.
#[derive(Clone, Copy)]
enum Exchange {
    Query(&'static str),
    Binary(&'static str),
}

impl Exchange {
    fn command(self) -> &'static str {
        match self {
            Exchange::Query(c) | Exchange::Binary(c) => c,
        }
    }
}

/// Runs `*IDN?`, the faulty exchange, then `*IDN?` again, on `alias`, in record mode; then
/// replays the cassette with the simulator stopped. Returns the recorded error.
async fn record_and_replay(
    instrument: SimInstrument,
    exchange: Exchange,
    fault: Fault,
    expected: RecordedErrorKind,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let alias = instrument.alias().to_owned();
    let command = exchange.command();
    let sim = SimBench::builder()
        .instrument(
            instrument
                .timeout(Duration::from_millis(300))
                .fault(command, fault),
        )
        .start()
        .await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("bench.yaml");
    sim.write_config(&config)?;
    let path = dir.path().join("sessions/fault.yaml");

    let bench = Bench::record(&config, &path).await?;
    let recorded = run(&bench, &alias, exchange).await?;
    bench.finish().await?;
    sim.shutdown().await;

    // Nothing wrong in the cassette: the faulty exchange holds its error and no response,
    // the exchanges around it their own answers.
    let session = read_session(&path)?;
    let log = &session
        .instrument(&alias)
        .expect("the instrument is in the cassette")
        .log;
    assert_eq!(log.len(), 3, "{log:#?}");
    assert!(log[0].response.as_deref().is_some_and(|r| r.contains(',')));
    let error = log[1]
        .error
        .as_ref()
        .expect("the fault is recorded as an error");
    assert_eq!(error.kind, expected, "{error:?}");
    assert_eq!(
        log[1].response, None,
        "no partial response recorded: {:?}",
        log[1]
    );
    assert_eq!(log[1].binary, None);
    assert_eq!(
        log[2].response, log[0].response,
        "the next answer is its own"
    );

    // Replay: the same error, then the same answers; no instrument anywhere.
    let bench = Bench::replay(&path).await?;
    let replayed = run(&bench, &alias, exchange).await?;
    bench.finish().await?;
    assert_eq!(
        replayed.replace(
            " (replayed from the session: it happened this way when it was recorded)",
            ""
        ),
        recorded
    );
    Ok(recorded)
}

/// `*IDN?`, the exchange (which must fail), `*IDN?`. Returns the failure's message.
async fn run(
    bench: &Bench,
    alias: &str,
    exchange: Exchange,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let instrument = bench.instrument(alias)?;
    let idn = instrument.query("*IDN?").await?;
    let error = match exchange {
        Exchange::Query(c) => instrument.query(c).await.map(drop),
        Exchange::Binary(c) => instrument.query_binary(c).await.map(drop),
    }
    .expect_err("the fault must surface as an error");
    let message = error.to_string();
    assert!(
        matches!(error, Error::Io { .. } | Error::Timeout { .. }),
        "{error:?}"
    );
    assert!(
        message.contains(&format!("`{alias}`")),
        "names the instrument: {message}"
    );
    assert!(
        message.contains(&format!("`{}`", exchange.command())),
        "names the command: {message}"
    );
    assert_eq!(
        instrument.query("*IDN?").await?,
        idn,
        "the next answer is its own"
    );
    Ok(message)
}

#[tokio::test]
async fn close_mid_response() -> TestResult {
    let message = record_and_replay(
        SimInstrument::psu("psu"),
        Exchange::Query("MEAS:VOLT? (@1)"),
        Fault::CloseMidResponse,
        RecordedErrorKind::Io,
    )
    .await?;
    assert!(message.contains("i/o error"), "{message}");
    Ok(())
}

#[tokio::test]
async fn garbage_that_is_not_text() -> TestResult {
    record_and_replay(
        SimInstrument::dmm("dmm"),
        Exchange::Query("MEAS:VOLT:DC?"),
        Fault::Garbage,
        RecordedErrorKind::Io,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn wrong_terminator() -> TestResult {
    let message = record_and_replay(
        SimInstrument::psu("psu"),
        Exchange::Query("MEAS:VOLT? (@1)"),
        Fault::WrongTerminator,
        RecordedErrorKind::Timeout,
    )
    .await?;
    assert!(message.contains("did not answer"), "{message}");
    Ok(())
}

#[tokio::test]
async fn stall_forever() -> TestResult {
    record_and_replay(
        SimInstrument::psu("psu"),
        Exchange::Query("MEAS:VOLT? (@1)"),
        Fault::Stall,
        RecordedErrorKind::Timeout,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn late_answer_never_becomes_the_next_response() -> TestResult {
    record_and_replay(
        SimInstrument::psu("psu"),
        Exchange::Query("MEAS:VOLT? (@1)"),
        Fault::Late(Duration::from_millis(600)),
        RecordedErrorKind::Timeout,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn block_header_announces_more_than_follows() -> TestResult {
    record_and_replay(
        SimInstrument::scope("scope"),
        Exchange::Binary(":WAV:DATA?"),
        Fault::BlockOverclaim,
        RecordedErrorKind::Timeout,
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn block_header_announces_fewer_than_follow() -> TestResult {
    let message = record_and_replay(
        SimInstrument::scope("scope"),
        Exchange::Binary(":WAV:DATA?"),
        Fault::BlockUnderclaim,
        RecordedErrorKind::Io,
    )
    .await?;
    assert!(message.contains("i/o error"), "{message}");
    Ok(())
}

#[tokio::test]
async fn reset_while_the_command_is_written() -> TestResult {
    record_and_replay(
        SimInstrument::psu("psu"),
        Exchange::Query("MEAS:VOLT? (@1)"),
        Fault::ResetDuringWrite,
        RecordedErrorKind::Io,
    )
    .await?;
    Ok(())
}

/// A failed recording (the test returns the fault's error) leaves the previous cassette
/// byte for byte: the harness only persists passing tests, and `finish` is the only writer.
#[tokio::test]
async fn a_recording_that_fails_leaves_the_previous_cassette() -> TestResult {
    let sim = SimBench::builder()
        .instrument(
            SimInstrument::psu("psu")
                .timeout(Duration::from_millis(200))
                .fault("MEAS", Fault::Stall),
        )
        .start()
        .await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("bench.yaml");
    sim.write_config(&config)?;
    let path = dir.path().join("sessions/kept.yaml");
    let previous = "psu:\n  log:\n  - type: query\n    command: '*IDN?'\n    response: before\n    timestamp: 0.0\n";
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, previous)?;

    let bench = Bench::record(&config, &path).await?;
    let psu = bench.instrument("psu")?;
    psu.query("*IDN?").await?;
    assert!(psu.query("MEAS:VOLT? (@1)").await.is_err());
    drop(bench); // the test failed: nothing is persisted
    sim.shutdown().await;
    assert_eq!(std::fs::read_to_string(&path)?, previous);
    assert_no_temp_files(path.parent().unwrap());
    Ok(())
}

fn assert_no_temp_files(dir: &Path) {
    let temps: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}
