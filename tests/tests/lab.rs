//! replay's custom harness on the project's own bench suite: a `harness = false` target
//! (`[[test]] name = "lab" harness = false`) whose `#[recorded_test]`s are run by
//! `replay_harness::main!()`, each paired with its cassette under
//! `sessions/replay-tests/lab/`, with measured outcomes stored beside it as insta
//! snapshots (`<test>@<name>.snap`).
//!
//! `cargo test --test lab` (or `cargo nextest run --test lab`) replays them;
//! `tests/record-lab.sh` records them again against the simulator (seed 42).

use replay_harness::prelude::*;
use serde::Serialize;

/// Parses an SCPI number (`+4.99918100E+00`).
fn number(text: &str) -> replay_harness::TestResult<f64> {
    Ok(text.trim().parse()?)
}

#[recorded_test]
async fn idn_is_keysight(bench: &Bench) -> replay_harness::TestResult {
    let idn = bench.instrument("psu")?.query("*IDN?").await?;
    assert!(idn.starts_with("Keysight Technologies,EDU36311A"), "{idn}");
    bench.snapshot("idn", &idn);
    Ok(())
}

mod psu {
    use super::*;

    /// What the ramp measured, and how long it took (redacted: it changes every run).
    #[derive(Serialize)]
    struct Ramp {
        setpoints: Vec<f64>,
        readings: Vec<f64>,
        duration_ms: u128,
    }

    #[recorded_test]
    async fn ramp(bench: &Bench) -> replay_harness::TestResult {
        let started = std::time::Instant::now();
        let psu = bench.instrument("psu")?;
        psu.write("*RST").await?;
        psu.write("OUTP ON, (@1)").await?;
        let setpoints = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let mut readings = Vec::new();
        for v in &setpoints {
            psu.write(&format!("VOLT {v:.1}, (@1)")).await?;
            let volts = number(&psu.query("MEAS:VOLT? (@1)").await?)?;
            assert!((volts - v).abs() < 0.05, "set {v} V, read {volts} V");
            readings.push(volts);
        }
        psu.write("OUTP OFF, (@1)").await?;
        bench.snapshot(
            "ramp",
            &Ramp {
                setpoints,
                readings,
                duration_ms: started.elapsed().as_millis(),
            },
        );
        Ok(())
    }

    #[recorded_test]
    async fn current_limit_holds(bench: &Bench) -> replay_harness::TestResult {
        let psu = bench.instrument("psu")?;
        psu.write("*RST").await?;
        // CH1 drives 30 Ω: 6 V would draw 200 mA, the limit holds it at 100 mA.
        psu.write("VOLT 6, (@1);CURR 0.1, (@1);OUTP ON, (@1)")
            .await?;
        let amps = number(&psu.query("MEAS:CURR? (@1)").await?)?;
        assert!((amps - 0.1).abs() < 0.005, "read {amps} A");
        psu.write("OUTP OFF, (@1)").await?;
        Ok(())
    }
}

mod dmm {
    use super::*;

    #[recorded_test]
    async fn reads_the_psu(bench: &Bench) -> replay_harness::TestResult {
        let psu = bench.instrument("psu")?;
        let dmm = bench.instrument("dmm")?;
        psu.write("*RST").await?;
        dmm.write("*RST").await?;
        psu.write("VOLT 2.5, (@1);OUTP ON, (@1)").await?;
        assert_eq!(psu.query("*OPC?").await?, "1");
        dmm.write("CONF:VOLT:DC 10").await?;
        let volts = number(&dmm.query("READ?").await?)?;
        assert!((volts - 2.5).abs() < 0.05, "dmm read {volts} V");
        psu.write("OUTP OFF, (@1)").await?;
        bench.snapshot("reading", &volts);
        Ok(())
    }
}

mod scope {
    use super::*;

    #[derive(Serialize)]
    struct Waveform {
        points: usize,
        min: u8,
        max: u8,
        ramp_intact: bool,
    }

    #[recorded_test]
    async fn waveform_block(bench: &Bench) -> replay_harness::TestResult {
        let scope = bench.instrument("scope")?;
        scope.write("*RST").await?;
        scope
            .write(":WAV:SOUR CHAN1;:WAV:FORM BYTE;:WAV:POIN 300")
            .await?;
        let points = scope.query_binary(":WAV:DATA?").await?;
        let waveform = Waveform {
            points: points.len(),
            min: points.iter().copied().min().unwrap_or_default(),
            max: points.iter().copied().max().unwrap_or_default(),
            ramp_intact: points[..256]
                .iter()
                .enumerate()
                .all(|(i, &b)| usize::from(b) == i),
        };
        assert!(waveform.ramp_intact);
        bench.snapshot("waveform", &waveform);
        Ok(())
    }
}

replay_harness::main!();
