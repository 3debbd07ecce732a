//! End to end: `#[recorded_test]` in a scratch crate, driven by `cargo test` subprocesses
//! against the simulated bench, proving each rule of the contract (docs/guide.md, section
//! "`#[recorded_test]`"): record, replay offline, a changed command, an unused interaction,
//! a missing cassette in and out of CI, `RECORD=missing`, a bad `RECORD`, a failed or panicking recording that
//! leaves the cassette untouched, the re-record summary, `REPLAY_BENCH`, `--lib` commands.
//!
//! The scratch tests read `SCRATCH_*` variables at run time, so one build serves every
//! scenario; each scenario is one `cargo test` run.

use replay_tests::scratch::{CargoOutput, ScratchCrate};
use replay_tests::sim::SimBench;

const BENCH_TESTS: &str = r#"
use replay_harness::{recorded_test, Bench};

fn flag(name: &str) -> bool {
    std::env::var_os(name).is_some()
}

#[recorded_test]
async fn psu_setpoint(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    let volts = std::env::var("SCRATCH_VOLTS").unwrap_or_else(|_| "5.0".to_owned());
    psu.write(&format!("VOLT {volts}, (@1)")).await?;
    psu.write("OUTP ON, (@1)").await?;
    if flag("SCRATCH_FAIL") {
        return Err("the test's own check failed".into());
    }
    if flag("SCRATCH_PANIC") {
        panic!("the test panicked on purpose");
    }
    if !flag("SCRATCH_SKIP_MEAS") {
        let read: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
        assert!((read - volts.parse::<f64>()?).abs() < 0.01, "read {read}");
    }
    Ok(())
}

#[recorded_test]
async fn dmm_identifies(bench: &Bench) {
    let idn = bench.instrument("dmm").unwrap().query("*IDN?").await.unwrap();
    assert!(idn.contains("34470A"), "{idn}");
}

#[recorded_test(session = "custom/place.yaml")]
async fn custom_session(bench: &Bench) -> replay_harness::TestResult {
    bench.instrument("psu")?.query("*IDN?").await?;
    Ok(())
}
"#;

const LIB: &str = r#"
#[cfg(test)]
mod tests {
    use replay_harness::{recorded_test, Bench};

    #[recorded_test]
    async fn lib_idn(bench: &Bench) -> replay_harness::TestResult {
        bench.instrument("psu")?.query("*IDN?").await?;
        Ok(())
    }
}
"#;

/// A target whose name is not a valid crate name: rustc calls it `my_lab`.
const MY_LAB: &str = r#"
mod psu {
    use replay_harness::{recorded_test, Bench};

    #[recorded_test]
    async fn ramp(bench: &Bench) -> replay_harness::TestResult {
        bench.instrument("psu")?.write("VOLT:RAMP ON").await?;
        Ok(())
    }
}
"#;

const PSU: &str = "sessions/bench/psu_setpoint.yaml";
const DMM: &str = "sessions/bench/dmm_identifies.yaml";
const CUSTOM: &str = "sessions/custom/place.yaml";

fn failed(out: &CargoOutput) {
    assert_eq!(
        out.status.code(),
        Some(101),
        "expected a test failure\n{out}"
    );
}

fn passed(out: &CargoOutput) {
    assert!(out.status.success(), "expected success\n{out}");
}

fn start_sim() -> SimBench {
    SimBench::builder()
        .psu("psu")
        .dmm("dmm")
        .start_background()
        .expect("start the simulated bench")
}

#[test]
fn recorded_test_lifecycle() {
    let krate = ScratchCrate::new("lab").unwrap();
    krate.write("tests/bench.rs", BENCH_TESTS).unwrap();
    krate.write("src/lib.rs", LIB).unwrap();
    krate.write("tests/my-lab.rs", MY_LAB).unwrap();
    let sim = start_sim();
    sim.write_config(krate.path().join("bench.yaml")).unwrap();

    // Replay without cassettes: every test fails with its path and the command to record it.
    let out = krate.cargo_test().arg("--no-fail-fast").run().unwrap();
    failed(&out);
    assert!(
        out.stdout.contains(&format!(
            "no cassette for this test: `{PSU}` does not exist"
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --test bench psu_setpoint -- --exact"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --lib tests::lib_idn -- --exact"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("record it on the bench (then commit it)"),
        "{out}"
    );
    assert!(
        !krate.path().join("sessions").exists(),
        "replay wrote a cassette\n{out}"
    );

    // Under CI, the same, saying that nothing is recorded implicitly.
    let out = krate
        .cargo_test()
        .args(["--test", "bench"])
        .env("CI", "true")
        .run()
        .unwrap();
    failed(&out);
    assert!(
        out.stdout
            .contains("CI is set, so nothing is recorded implicitly"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --test bench dmm_identifies -- --exact"),
        "{out}"
    );
    assert!(
        !krate.path().join("sessions").exists(),
        "CI recorded a cassette\n{out}"
    );

    // A bad RECORD value fails every test with the valid values; nothing is recorded.
    let out = krate
        .cargo_test()
        .args(["--test", "bench"])
        .env("RECORD", "yes")
        .run()
        .unwrap();
    failed(&out);
    assert!(
        out.stdout
            .contains("invalid value `yes` for `RECORD`: expected one of `0`"),
        "{out}"
    );
    assert!(out.stdout.contains("`missing`"), "{out}");
    assert!(!krate.path().join("sessions").exists(), "{out}");

    // Record one test (an explicit RECORD is obeyed under CI).
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "psu_setpoint"])
        .env("RECORD", "1")
        .env("CI", "true")
        .run()
        .unwrap();
    passed(&out);
    assert!(
        out.stderr
            .contains(&format!("recorded `{PSU}`: 3 interactions on 1 instrument")),
        "{out}"
    );
    let psu_cassette = krate.read(PSU).expect("the cassette was written");
    let text = String::from_utf8(psu_cassette.clone()).unwrap();
    assert!(text.contains("command: VOLT 5.0, (@1)"), "{text}");
    assert!(krate.read(DMM).is_none());

    // RECORD=missing records the others and replays psu_setpoint (its bytes are unchanged:
    // a re-record would have new timestamps).
    let out = krate
        .cargo_test()
        .args(["--test", "bench"])
        .env("RECORD", "missing")
        .run()
        .unwrap();
    passed(&out);
    assert!(out.stderr.contains(&format!("recorded `{DMM}`")), "{out}");
    assert!(
        out.stderr.contains(&format!("recorded `{CUSTOM}`")),
        "{out}"
    );
    assert!(
        !out.stderr.contains(PSU),
        "psu_setpoint was re-recorded\n{out}"
    );
    assert_eq!(krate.read(PSU).unwrap(), psu_cassette);

    // A recording whose test fails, or panics, leaves the previous cassette byte-identical.
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "psu_setpoint"])
        .env("RECORD", "1")
        .env("SCRATCH_VOLTS", "4.0")
        .env("SCRATCH_FAIL", "1")
        .run()
        .unwrap();
    failed(&out);
    assert!(out.stdout.contains("the test's own check failed"), "{out}");
    assert!(
        out.stdout.contains(&format!(
            "recording failed: the cassette `{PSU}` was left untouched"
        )),
        "{out}"
    );
    assert_eq!(krate.read(PSU).unwrap(), psu_cassette);
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "psu_setpoint"])
        .env("RECORD", "1")
        .env("SCRATCH_VOLTS", "4.0")
        .env("SCRATCH_PANIC", "1")
        .run()
        .unwrap();
    failed(&out);
    assert!(out.stdout.contains("the test panicked on purpose"), "{out}");
    assert!(out.stdout.contains("was left untouched"), "{out}");
    assert_eq!(krate.read(PSU).unwrap(), psu_cassette);

    // Replay needs no bench: stop the simulator.
    drop(sim);
    let out = krate.cargo_test().args(["--test", "bench"]).run().unwrap();
    passed(&out);
    assert!(out.stdout.contains("3 passed"), "{out}");

    // A changed command fails with the runtime's full report, ending with the command.
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "psu_setpoint"])
        .env("SCRATCH_VOLTS", "3.0")
        .run()
        .unwrap();
    failed(&out);
    assert!(out.stdout.contains("replay mismatch on `psu`"), "{out}");
    assert!(out.stdout.contains("VOLT 3.0, (@1)"), "{out}");
    assert!(out.stdout.contains("VOLT 5.0, (@1)"), "{out}");
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --test bench psu_setpoint -- --exact"),
        "{out}"
    );
    assert!(
        !out.stdout.contains("Mismatch("),
        "Debug instead of Display\n{out}"
    );

    // An interaction the test no longer makes fails a test that otherwise passed.
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "psu_setpoint"])
        .env("SCRATCH_SKIP_MEAS", "1")
        .run()
        .unwrap();
    failed(&out);
    assert!(out.stdout.contains("MEAS:VOLT? (@1)"), "{out}");
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --test bench psu_setpoint -- --exact"),
        "{out}"
    );

    // A test that fails reports its own failure, not the interactions it left unused.
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "psu_setpoint"])
        .env("SCRATCH_FAIL", "1")
        .run()
        .unwrap();
    failed(&out);
    assert!(out.stdout.contains("the test's own check failed"), "{out}");
    assert!(!out.stdout.contains("MEAS:VOLT? (@1)"), "{out}");
    assert_eq!(krate.read(PSU).unwrap(), psu_cassette);

    // Re-recording on another bench (REPLAY_BENCH) prints what changed.
    let sim = start_sim();
    sim.write_config(krate.path().join("benches/lab2.yaml"))
        .unwrap();
    let out = krate
        .cargo_test()
        .args(["--test", "bench", "psu_setpoint"])
        .env("RECORD", "all")
        .env("REPLAY_BENCH", "benches/lab2.yaml")
        .env("SCRATCH_VOLTS", "3.0")
        .run()
        .unwrap();
    passed(&out);
    assert!(
        out.stderr.contains(&format!("re-recorded `{PSU}`: ")),
        "{out}"
    );
    assert!(out.stderr.contains("1 interaction changed"), "{out}");
    assert!(out.stderr.contains("1 response changed"), "{out}");
    let text = String::from_utf8(krate.read(PSU).unwrap()).unwrap();
    assert!(text.contains("command: VOLT 3.0, (@1)"), "{text}");
    drop(sim);
}
