//! A suite written the way a user writes one: `#[recorded_test]` functions that talk to the
//! bench of `tests/bench.yaml` (served by the simulator: `cargo run -p replay-tests --bin
//! sim-bench`, see docs/guide.md, section "`#[recorded_test]`").
//!
//! `cargo test` replays them from `sessions/replay-tests/recorded_bench/` (the workspace's
//! `.config/replay.toml` points at the shared `sessions/`); `RECORD=1 cargo test --test
//! recorded_bench` records them again against the simulator.

use replay_harness::{Bench, recorded_test};

/// Parses an SCPI number (`+4.99918100E+00`).
fn number(text: &str) -> replay_harness::TestResult<f64> {
    Ok(text.trim().parse()?)
}

#[recorded_test]
async fn psu_output_follows_setpoint(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    psu.write("*RST").await?;
    psu.write("VOLT 5.0, (@1)").await?;
    psu.write("OUTP ON, (@1)").await?;
    let volts = number(&psu.query("MEAS:VOLT? (@1)").await?)?;
    assert!((volts - 5.0).abs() < 0.05, "read {volts} V");
    psu.write("OUTP OFF, (@1)").await?;
    Ok(())
}

#[recorded_test]
async fn psu_current_follows_the_load(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    psu.write("*RST").await?;
    // CH2 drives 100 Ω: 10 V gives 100 mA.
    psu.write("VOLT 10, (@2);CURR 0.5, (@2);OUTP ON, (@2)")
        .await?;
    let amps = number(&psu.query("MEAS:CURR? (@2)").await?)?;
    assert!((amps - 0.1).abs() < 0.005, "read {amps} A");
    psu.write("OUTP OFF, (@2)").await?;
    Ok(())
}

#[recorded_test]
async fn dmm_reads_psu_channel_1(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    let dmm = bench.instrument("dmm")?;
    psu.write("*RST").await?;
    dmm.write("*RST").await?;
    psu.write("VOLT 3.3, (@1);OUTP ON, (@1)").await?;
    // Writes are not acknowledged: wait until the psu has applied them before measuring.
    assert_eq!(psu.query("*OPC?").await?, "1");
    dmm.write("CONF:VOLT:DC 10").await?;
    let volts = number(&dmm.query("READ?").await?)?;
    assert!((volts - 3.3).abs() < 0.05, "dmm read {volts} V");
    psu.write("OUTP OFF, (@1)").await?;
    Ok(())
}

/// A test that returns `()` and unwraps: allowed too.
#[recorded_test]
async fn every_instrument_identifies_itself(bench: &Bench) {
    for (alias, vendor_model) in [
        ("psu", "EDU36311A"),
        ("dmm", "34470A"),
        ("scope", "DSOX1204G"),
    ] {
        let idn = bench
            .instrument(alias)
            .unwrap()
            .query("*IDN?")
            .await
            .unwrap();
        assert!(idn.contains(vendor_model), "{alias} answered `{idn}`");
    }
}

/// The cassette path chosen by the test: `sessions/replay-tests/scope/waveform.yaml`.
#[recorded_test(session = "scope/waveform.yaml")]
async fn scope_waveform_is_a_binary_block(bench: &Bench) -> replay_harness::TestResult {
    let scope = bench.instrument("scope")?;
    scope.write("*RST").await?;
    scope
        .write(":WAV:SOUR CHAN1;:WAV:FORM BYTE;:WAV:POIN 300")
        .await?;
    let points = scope.query_binary(":WAV:DATA?").await?;
    assert_eq!(points.len(), 300);
    // The first 256 points are a ramp over every byte value, `\n` and `#` included.
    assert!(
        points[..256]
            .iter()
            .enumerate()
            .all(|(i, &b)| usize::from(b) == i)
    );
    Ok(())
}

mod errors {
    use replay_harness::{Bench, recorded_test};

    /// Nested module: `sessions/replay-tests/recorded_bench/errors/…`.
    #[recorded_test]
    async fn undefined_header_is_queued(bench: &Bench) -> replay_harness::TestResult {
        let psu = bench.instrument("psu")?;
        psu.write("*CLS").await?;
        psu.write("VOLT:BOGUS 1").await?;
        let error = psu.query("SYST:ERR?").await?;
        assert!(error.starts_with("-113"), "{error}");
        assert_eq!(psu.query("SYST:ERR?").await?, "+0,\"No error\"");
        Ok(())
    }
}
