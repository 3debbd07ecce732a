//! End to end: matching rules and virtual time in a scratch crate, driven by real
//! `cargo test` runs against the simulated bench (docs/matching.md, docs/timing.md):
//! a driver refactor (`VOLT 5` → `VOLTage 5.0`) replays under `scpi` and fails under
//! `exact`; a changed `SYST:ERR?` polling rate replays with an ignore rule (and fails
//! without); a 2 s settle `sleep` replays in well under a second while the test's own
//! `tokio::time::Instant` measures at least 2 s; an answer recorded 2 s after the previous
//! command arrives 2 s later on that clock.

use replay_tests::scratch::ScratchCrate;
use replay_tests::sim::SimBench;

const LAB: &str = r#"
use std::time::Duration;

use replay_harness::{recorded_test, Bench};

/// The driver before (`SCRATCH_OLD` set: recording) and after its refactor.
async fn set_volts(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    if std::env::var_os("SCRATCH_OLD").is_some() {
        psu.write("VOLT 5, (@1)").await?;
        psu.write("OUTP ON, (@1)").await?;
    } else {
        psu.write("VOLTage 5.0, (@1)").await?;
        psu.write(":OUTPut1 1,(@1)").await?;
    }
    let read: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
    assert!((read - 5.0).abs() < 0.05, "read {read}");
    Ok(())
}

#[recorded_test(matching = "scpi")]
async fn refactor_scpi(bench: &Bench) -> replay_harness::TestResult {
    set_volts(bench).await
}

#[recorded_test]
async fn refactor_exact(bench: &Bench) -> replay_harness::TestResult {
    set_volts(bench).await
}

/// Polls `SYST:ERR?` after every `SCRATCH_POLL`-th command.
async fn poll(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    let every: usize = std::env::var("SCRATCH_POLL").map_or(1, |v| v.parse().unwrap());
    for (i, volts) in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0].iter().enumerate() {
        psu.write(&format!("VOLT {volts}, (@1)")).await?;
        if (i + 1) % every == 0 {
            let error = psu.query("SYST:ERR?").await?;
            assert!(error.starts_with("+0"), "{error}");
        }
    }
    Ok(())
}

#[recorded_test(matching = "scpi", ignore = ["SYST:ERR?"])]
async fn polling_ignored(bench: &Bench) -> replay_harness::TestResult {
    poll(bench).await
}

#[recorded_test(matching = "scpi")]
async fn polling_strict(bench: &Bench) -> replay_harness::TestResult {
    poll(bench).await
}

#[recorded_test(timing = "virtual")]
async fn settle(bench: &Bench) -> replay_harness::TestResult {
    let wall = std::time::Instant::now();
    let start = tokio::time::Instant::now();
    let psu = bench.instrument("psu")?;
    psu.write("VOLT 5, (@1)").await?;
    psu.write("OUTP ON, (@1)").await?;
    tokio::time::sleep(Duration::from_secs(2)).await; // the supply settles
    let read: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
    assert!((read - 5.0).abs() < 0.05, "read {read}");
    let measured = start.elapsed();
    assert!(measured >= Duration::from_secs(2), "{measured:?}");
    println!(
        "settle: test measured {} ms, wall {} ms",
        measured.as_millis(),
        wall.elapsed().as_millis()
    );
    Ok(())
}

/// Sleeps only while recording: in replay, the answer to `MEAS:VOLT?` itself must arrive at
/// its recorded timestamp, 2 s later on the test's clock.
#[recorded_test(timing = "virtual")]
async fn paced(bench: &Bench) -> replay_harness::TestResult {
    let start = tokio::time::Instant::now();
    let psu = bench.instrument("psu")?;
    psu.write("VOLT 3, (@1)").await?;
    if std::env::var_os("SCRATCH_OLD").is_some() {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    psu.query("MEAS:VOLT? (@1)").await?;
    println!("paced: test measured {} ms", start.elapsed().as_millis());
    Ok(())
}
"#;

/// The tests libtest lists as failed (after the last `failures:` line), sorted.
fn failed_tests(stdout: &str) -> Vec<&str> {
    let Some((_, list)) = stdout.rsplit_once("\nfailures:\n") else {
        return Vec::new();
    };
    let mut names: Vec<&str> = list
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    names.sort_unstable();
    names
}

/// The figure the `paced` test prints (ms measured by the test).
fn paced_figure(stdout: &str) -> u128 {
    let line = stdout
        .lines()
        .find_map(|l| l.split("paced: test measured ").nth(1))
        .unwrap_or_else(|| panic!("no paced line in\n{stdout}"));
    line.trim_end_matches(" ms").trim().parse().unwrap()
}

/// The two figures the `settle` test prints: (measured by the test, wall).
fn settle_figures(stdout: &str) -> (u128, u128) {
    let line = stdout
        .lines()
        .find_map(|l| l.split("settle: test measured ").nth(1))
        .unwrap_or_else(|| panic!("no settle line in\n{stdout}"));
    let numbers: Vec<u128> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn matching_and_virtual_time_end_to_end() {
    let krate = ScratchCrate::new("lab").unwrap();
    // The test's own clock: tokio (the version of this workspace's lock file).
    let manifest = String::from_utf8(krate.read("Cargo.toml").unwrap()).unwrap();
    let manifest = manifest.replacen(
        "[dependencies]\n",
        "[dependencies]\ntokio = { version = \"1\", features = [\"time\"] }\n",
        1,
    );
    krate.write("Cargo.toml", &manifest).unwrap();
    krate.write("tests/lab.rs", LAB).unwrap();
    let sim = SimBench::builder()
        .psu("psu")
        .start_background()
        .expect("start the simulated bench");
    sim.write_config(krate.path().join("bench.yaml")).unwrap();

    // Record the old driver, polling after every command, on the bench (real time).
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--nocapture"])
        .env("RECORD", "1")
        .env("SCRATCH_OLD", "1")
        .env("SCRATCH_POLL", "1")
        .run()
        .unwrap();
    assert!(out.status.success(), "recording failed\n{out}");
    let (measured, wall) = settle_figures(&out.stdout);
    assert!(
        measured >= 2000 && wall >= 2000,
        "recording never pauses the clock\n{out}"
    );
    let cassette = krate
        .read("sessions/lab/settle.yaml")
        .map(|b| String::from_utf8(b).unwrap())
        .expect("the settle cassette");
    assert!(cassette.contains("command: MEAS:VOLT? (@1)"), "{cassette}");

    // Replay with no bench: the refactored driver, polling every third command.
    drop(sim);
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--nocapture", "--test-threads", "1"])
        .env("SCRATCH_POLL", "3")
        .env("REPLAY_LOG", "debug")
        .run()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(101),
        "exact and strict must fail\n{out}"
    );
    // `cargo test --quiet`: the names of the failed tests are listed after the last
    // `failures:`; `refactor_scpi`, `polling_ignored`, `settle` and `paced` passed.
    assert!(
        out.stdout
            .contains("test result: FAILED. 4 passed; 2 failed; 0 ignored"),
        "{out}"
    );
    assert_eq!(
        failed_tests(&out.stdout),
        ["polling_strict", "refactor_exact"],
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "matching rule `exact`: `VOLTage 5.0, (@1)` vs recorded `VOLT 5, (@1)`: not byte for byte the same"
        ),
        "{out}"
    );
    assert!(
        out.stdout.contains(
            "the test sent `VOLT 2, (@1)`, which the session recorded at #3: was something removed before it?\nmatching rule `scpi`: a write where the session recorded a query"
        ),
        "{out}"
    );
    // The exchange log names the rule that matched each exchange, and the one in force
    // at a deviation.
    let log = out.all();
    for needle in [
        "command=VOLTage 5.0, (@1)}: replayed decision=\"matched\" rule=scpi",
        "command=SYST:ERR?}: replayed decision=\"matched\" rule=ignored",
        "command=VOLTage 5.0, (@1)}: deviation decision=\"mismatch\" rule=exact",
    ] {
        assert!(log.contains(needle), "no `{needle}` in the log\n{out}");
    }
    let (measured, wall) = settle_figures(&out.stdout);
    assert!(
        measured >= 2000,
        "virtual time must reproduce the 2 s gap\n{out}"
    );
    assert!(wall < 1000, "virtual time must not wait: {wall} ms\n{out}");
    let paced = paced_figure(&out.stdout);
    assert!(
        paced >= 2000,
        "the answer must arrive at its recorded timestamp: {paced} ms\n{out}"
    );
}
