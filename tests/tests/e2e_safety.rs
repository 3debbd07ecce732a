//! End to end: bench safety in a scratch crate driven by real `cargo test` against the
//! simulated bench (docs/bench-safety.md): a serial number never reaches the cassette, a
//! limit refuses `VOLT 7` before the simulated supply sees it (recording and replay), a
//! secret from the environment is recorded as its placeholder and replays in CI without
//! the variable, and `REPLAY_LOG=debug` shows every exchange, redacted.

use replay_tests::scratch::{CargoOutput, ScratchCrate};
use replay_tests::sim::SimBench;

const SAFETY_TESTS: &str = r#"
use replay_harness::{recorded_test, Bench};

#[recorded_test]
async fn psu_is_safe(bench: &Bench) {
    let psu = bench.instrument("psu").unwrap();
    // The serial number is redacted before the test (or anything else) sees it.
    let idn = psu.query("*IDN?").await.unwrap();
    assert!(idn.contains("EDU36311A,<serial>,"), "{idn}");
    psu.write("VOLT 5.0, (@1)").await.unwrap();
    // Refused before the supply sees it: 7 V is out of the simulator's range too (it would
    // queue -222), 6.1 V is within it (it would change the setpoint).
    for command in ["VOLT 7, (@1)", "SOURce:VOLTage 6.1, (@1)"] {
        let err = psu.write(command).await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("refused `{command}` for instrument `psu`")),
            "{err}"
        );
        assert!(err.contains("max: 6"), "{err}");
    }
    assert_eq!(psu.query("SYST:ERR?").await.unwrap(), "+0,\"No error\"");
    assert_eq!(psu.query("VOLT? (@1)").await.unwrap(), "+5.00000000E+00");
    // The token comes from the environment when recording; replay needs none.
    psu.write("DISP:TEXT '${SCRATCH_LAB_TOKEN}'").await.unwrap();
}
"#;

const TOKEN: &str = "tok-e2e-5f3a9c";

fn passed(out: &CargoOutput) {
    assert!(out.status.success(), "expected success\n{out}");
}

#[test]
fn redaction_limits_secrets_and_the_exchange_log() {
    let krate = ScratchCrate::new("safe_lab").unwrap();
    krate.write("tests/bench.rs", SAFETY_TESTS).unwrap();
    let sim = SimBench::builder()
        .psu("psu")
        .start_background()
        .expect("start the simulated bench");
    let config = sim.config_yaml().replacen(
        "instruments:\n",
        "secrets: [SCRATCH_LAB_TOKEN]\ninstruments:\n",
        1,
    );
    let config = config.replacen(
        "  \"psu\":\n",
        "  \"psu\":\n    limits:\n      - {command: 'SOURce:VOLTage', max: 6.0}\n",
        1,
    );
    assert!(config.contains("limits:"), "{config}");
    krate.write("bench.yaml", &config).unwrap();
    // Workspace-wide redaction, as a lab would share it between packages.
    krate
        .write(
            ".config/replay.toml",
            "redact = [{ pattern = 'CN\\d{8}', replace = '<serial>' }]\n",
        )
        .unwrap();

    // Record, with the exchange log on.
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "--", "--nocapture"])
        .env("RECORD", "1")
        .env("REPLAY_LOG", "debug")
        .env("SCRATCH_LAB_TOKEN", TOKEN)
        .run()
        .unwrap();
    passed(&out);
    let cassette = String::from_utf8(
        krate
            .read("sessions/bench/psu_is_safe.yaml")
            .expect("the cassette was written"),
    )
    .unwrap();
    assert!(!cassette.contains("CN61130056"), "{cassette}");
    assert!(cassette.contains("<serial>"), "{cassette}");
    assert!(!cassette.contains(TOKEN), "{cassette}");
    assert!(
        cassette.contains("command: DISP:TEXT '${SCRATCH_LAB_TOKEN}'"),
        "{cassette}"
    );
    assert!(
        cassette.contains("limits:\n  - command: SOURce:VOLTage\n    max: 6.0\n"),
        "{cassette}"
    );
    assert!(
        !cassette.contains("VOLT 7"),
        "refused writes are not recorded\n{cassette}"
    );
    let log = out.all();
    for needle in [
        "test{name=psu_is_safe}",
        "mode=\"record\"",
        "exchange{instrument=\"psu\" kind=\"query\" command=*IDN?}",
        "response=Keysight Technologies,EDU36311A,<serial>,",
        "exchange{instrument=\"psu\" kind=\"write\" command=VOLT 7, (@1)}",
        "refused `VOLT 7, (@1)`",
        "command=DISP:TEXT '${SCRATCH_LAB_TOKEN}'",
    ] {
        assert!(
            log.contains(needle),
            "`{needle}` missing from the log\n{out}"
        );
    }
    assert!(!log.contains("CN61130056"), "{out}");
    assert!(!log.contains(TOKEN), "{out}");

    // Replay in CI: no bench, no token; the stored limit still refuses.
    let connections = sim.accepted_connections();
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "--", "--nocapture"])
        .env("CI", "true")
        .env("REPLAY_LOG", "debug")
        .run()
        .unwrap();
    passed(&out);
    assert_eq!(
        sim.accepted_connections(),
        connections,
        "replay used the network\n{out}"
    );
    let log = out.all();
    for needle in [
        "mode=\"replay\"",
        "decision=\"matched\"",
        "refused `VOLT 7, (@1)`",
    ] {
        assert!(
            log.contains(needle),
            "`{needle}` missing from the log\n{out}"
        );
    }

    // Without REPLAY_LOG nothing is logged; a bad value lists the valid ones.
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "--", "--nocapture"])
        .run()
        .unwrap();
    passed(&out);
    assert!(!out.all().contains("exchange{"), "{out}");
    let out = krate
        .cargo_test()
        .args(["--test", "bench"])
        .env("REPLAY_LOG", "verbose")
        .run()
        .unwrap();
    assert_eq!(out.status.code(), Some(101), "{out}");
    assert!(
        out.stdout
            .contains("invalid value `verbose` for `REPLAY_LOG`"),
        "{out}"
    );
}
