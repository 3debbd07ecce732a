//! End to end: replay's custom harness (`harness = false`, `replay_harness::main!()`) in a
//! scratch crate, driven by `cargo test` and `cargo nextest run` subprocesses against the
//! simulated bench: pairing, orphans, missing cassettes in and out of CI, the regression
//! diff, snapshot changes, the re-record diff, the GitHub step summary, partitioning.
//!
//! The scratch tests read `SCRATCH_*` variables at run time, so one build serves every
//! scenario; every scratch crate builds into one shared target directory
//! ([`replay_tests::scratch`]).

use std::path::Path;

use replay_tests::scratch::{CargoOutput, ScratchCrate};
use replay_tests::sim::SimBench;

const LAB: &str = r#"
use replay_harness::prelude::*;

#[recorded_test]
async fn idn(bench: &Bench) -> replay_harness::TestResult {
    let idn = bench.instrument("psu")?.query("*IDN?").await?;
    let suffix = std::env::var("SCRATCH_SNAPSHOT_SUFFIX").unwrap_or_default();
    bench.snapshot("idn", &format!("{idn}{suffix}"));
    if std::env::var_os("SCRATCH_EXTRA_SNAPSHOT").is_some() {
        bench.snapshot("length", &idn.len());
    }
    Ok(())
}

mod psu {
    use replay_harness::prelude::*;

    #[recorded_test]
    async fn setpoint(bench: &Bench) -> replay_harness::TestResult {
        let psu = bench.instrument("psu")?;
        let volts = std::env::var("SCRATCH_VOLTS").unwrap_or_else(|_| "5.0".to_owned());
        psu.write("*RST").await?;
        psu.write("OUTP ON, (@1)").await?;
        let set = psu.write(&format!("VOLT {volts}, (@1)")).await;
        if std::env::var_os("SCRATCH_UNWRAP").is_some() {
            set.unwrap();
        } else {
            set?;
        }
        let read: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
        assert!((read - volts.parse::<f64>()?).abs() < 0.05, "read {read}");
        psu.write("OUTP OFF").await?;
        Ok(())
    }
}

#[recorded_test]
async fn dmm_reads(bench: &Bench) -> replay_harness::TestResult {
    bench.instrument("dmm")?.query("*IDN?").await?;
    Ok(())
}

replay_harness::main!();
"#;

const IDN: &str = "sessions/lab/idn.yaml";
const SETPOINT: &str = "sessions/lab/psu/setpoint.yaml";
const DMM: &str = "sessions/lab/dmm_reads.yaml";
const SNAP: &str = "sessions/lab/idn@idn.snap";

/// A scratch package whose `lab` test target uses replay's harness.
fn scratch(name: &str) -> ScratchCrate {
    let krate = ScratchCrate::new(name).unwrap();
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("replay-harness");
    krate
        .write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [dev-dependencies]\nreplay-harness = {{ path = {harness:?}, features = [\"custom-harness\"] }}\n\n\
                 [[test]]\nname = \"lab\"\nharness = false\n\n[workspace]\n"
            ),
        )
        .unwrap();
    krate.write("tests/lab.rs", LAB).unwrap();
    krate
}

fn start_sim(seed: Option<u64>) -> SimBench {
    SimBench::builder()
        .psu("psu")
        .dmm("dmm")
        .noise(seed)
        .start_background()
        .expect("start the simulated bench")
}

fn record(krate: &ScratchCrate, sim: &SimBench) -> CargoOutput {
    sim.write_config(krate.path().join("bench.yaml")).unwrap();
    krate
        .cargo_test()
        .args(["--test", "lab"])
        .env("RECORD", "1")
        .run()
        .unwrap()
}

fn passed(out: &CargoOutput) {
    assert!(out.status.success(), "expected success\n{out}");
}

fn failed(out: &CargoOutput) {
    assert_eq!(
        out.status.code(),
        Some(101),
        "expected a test failure\n{out}"
    );
}

fn exists(krate: &ScratchCrate, relative: &str) -> bool {
    krate.path().join(relative).exists()
}

#[test]
fn harness_lifecycle() {
    let krate = scratch("harnesslab");

    // Listing: exactly the test paths, no kind prefix, known before anything runs.
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--list"])
        .run()
        .unwrap();
    passed(&out);
    let listed: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.ends_with(": test"))
        .collect();
    assert_eq!(
        listed,
        ["dmm_reads: test", "idn: test", "psu::setpoint: test"],
        "{out}"
    );

    // Missing cassettes outside CI: failures (as under libtest and nextest), each with the
    // command that records it; the summary lists them.
    let out = krate.cargo_test().args(["--test", "lab"]).run().unwrap();
    failed(&out);
    assert!(
        out.stdout.contains("test psu::setpoint ... FAILED"),
        "{out}"
    );
    assert!(
        out.stdout.contains("0 passed; 3 failed; 0 ignored"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("replay: 0 sessions replayed, 3 missing"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("missing cassettes (failed until recorded)"),
        "{out}"
    );
    assert!(
        out.stderr.contains(&format!(
            "RECORD=1 cargo test --test lab psu::setpoint -- --exact  # {SETPOINT}"
        )),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!(
            "no cassette for this test: `{IDN}` does not exist"
        )),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --test lab idn -- --exact"),
        "{out}"
    );

    // Missing cassettes under CI: failures, not ignored.
    let out = krate
        .cargo_test()
        .args(["--test", "lab"])
        .env("CI", "true")
        .run()
        .unwrap();
    failed(&out);
    assert!(
        out.stdout.contains("0 passed; 3 failed; 0 ignored"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("CI is set, so nothing is recorded implicitly"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("missing cassettes (failed: CI is set, nothing is recorded implicitly)"),
        "{out}"
    );
    assert!(
        !exists(&krate, "sessions"),
        "replay recorded something\n{out}"
    );

    // Record against the simulator (exact readings); the snapshot goes beside its cassette.
    let sim = start_sim(None);
    let out = record(&krate, &sim);
    passed(&out);
    for file in [IDN, SETPOINT, DMM, SNAP] {
        assert!(exists(&krate, file), "{file} not written\n{out}");
    }
    let snap = String::from_utf8(krate.read(SNAP).unwrap()).unwrap();
    assert!(snap.contains("\"Keysight Technologies,EDU36311A"), "{snap}");

    // Pairing: each test replays its own cassette, offline; a passing run is quiet.
    drop(sim);
    let out = krate.cargo_test().args(["--test", "lab"]).run().unwrap();
    passed(&out);
    assert!(
        out.stdout.contains("3 passed; 0 failed; 0 ignored"),
        "{out}"
    );
    assert!(
        !out.stderr.contains("replay:"),
        "a passing run prints a summary on the terminal\n{out}"
    );
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--exact", "psu::setpoint"])
        .run()
        .unwrap();
    passed(&out);
    assert!(
        out.stdout
            .contains("1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out"),
        "{out}"
    );

    // Regression: the recorded sequence against what the test did, then how to re-record.
    let out = krate
        .cargo_test()
        .args(["--test", "lab"])
        .env("SCRATCH_VOLTS", "3.0")
        .run()
        .unwrap();
    failed(&out);
    assert!(
        out.stdout
            .contains("replay mismatch on `psu` at interaction #3 of 5"),
        "{out}"
    );
    assert!(
        out.stdout.contains(&format!("  session: {SETPOINT}")),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("   3     │- write  VOLT 5.0, (@1)   ← first divergence"),
        "{out}"
    );
    assert!(
        out.stdout.contains("       3 │+ write  VOLT 3.0, (@1)"),
        "{out}"
    );
    assert!(
        out.stdout.contains("   2   2 │  write  OUTP ON, (@1)"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("    RECORD=1 cargo test --test lab psu::setpoint -- --exact"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("replay: 2 sessions replayed, 1 regression"),
        "{out}"
    );

    // The same mismatch `.unwrap()`ed (a panic) is still a regression, not a failure.
    let out = krate
        .cargo_test()
        .args(["--test", "lab"])
        .env("SCRATCH_VOLTS", "3.0")
        .env("SCRATCH_UNWRAP", "1")
        .run()
        .unwrap();
    failed(&out);
    assert!(
        out.stderr
            .contains("replay: 2 sessions replayed, 1 regression"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("    RECORD=1 cargo test --test lab psu::setpoint -- --exact"),
        "{out}"
    );

    // A changed measured outcome: a pending snapshot to review with cargo insta review.
    let out = krate
        .cargo_test()
        .args(["--test", "lab"])
        .env("SCRATCH_SNAPSHOT_SUFFIX", " (changed)")
        .run()
        .unwrap();
    failed(&out);
    assert!(exists(&krate, "sessions/lab/idn@idn.snap.new"), "{out}");
    assert!(
        out.all().contains("(changed)"),
        "insta shows the new value\n{out}"
    );
    assert!(out.stderr.contains("1 snapshot changed"), "{out}");
    assert!(
        out.stderr.contains("    idn  sessions/lab/idn@idn.snap"),
        "{out}"
    );
    assert!(out.stderr.contains("cargo insta review"), "{out}");
    std::fs::remove_file(krate.path().join("sessions/lab/idn@idn.snap.new")).unwrap();

    // A snapshot added to a test after its recording: replay computes it from the
    // cassette, insta leaves it pending for review (no trip to the bench needed).
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--exact", "idn"])
        .env("SCRATCH_EXTRA_SNAPSHOT", "1")
        .run()
        .unwrap();
    failed(&out);
    assert!(exists(&krate, "sessions/lab/idn@length.snap.new"), "{out}");
    assert!(out.stderr.contains("cargo insta review"), "{out}");
    std::fs::remove_file(krate.path().join("sessions/lab/idn@length.snap.new")).unwrap();

    // Orphan: a cassette no test records fails as a trial named after the file, and the
    // summary goes to GITHUB_STEP_SUMMARY as Markdown.
    std::fs::copy(
        krate.path().join(DMM),
        krate.path().join("sessions/lab/old_test.yaml"),
    )
    .unwrap();
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--list"])
        .run()
        .unwrap();
    assert!(
        out.stdout.contains("sessions/lab/old_test.yaml: test"),
        "{out}"
    );
    let step_summary = krate.path().join("step-summary.md");
    let out = krate
        .cargo_test()
        .args(["--test", "lab"])
        .env("GITHUB_STEP_SUMMARY", step_summary.to_str().unwrap())
        .run()
        .unwrap();
    failed(&out);
    assert!(out.stdout.contains("3 passed; 1 failed"), "{out}");
    assert!(
        out.stdout.contains(
            "orphaned cassette: no test in this target records `sessions/lab/old_test.yaml`"
        ),
        "{out}"
    );
    assert!(
        out.stderr.contains("    git rm sessions/lab/old_test.yaml"),
        "{out}"
    );
    let markdown = std::fs::read_to_string(&step_summary).unwrap();
    assert!(markdown.starts_with("<!-- replay run cargo-"), "{markdown}");
    assert!(
        markdown.contains("\n### replay — 3 sessions replayed, 1 orphan"),
        "{markdown}"
    );
    assert_eq!(markdown.matches("### replay").count(), 1, "{markdown}");
    assert!(
        markdown.contains("| orphan | `sessions/lab/old_test.yaml` |"),
        "{markdown}"
    );
    std::fs::remove_file(krate.path().join("sessions/lab/old_test.yaml")).unwrap();

    // Re-recording an unchanged procedure on a deterministic bench: the committed files
    // are kept byte for byte, and the summary says so.
    let before = krate.read(SETPOINT).unwrap();
    let sim = start_sim(None);
    let out = record(&krate, &sim);
    passed(&out);
    assert!(!out.stderr.contains("cassette diff"), "{out}");
    assert_eq!(krate.read(SETPOINT).unwrap(), before, "{out}");
    assert!(
        out.stderr.contains(&format!(
            "\nreplay: re-recorded `{SETPOINT}`: unchanged, the committed file was kept"
        )),
        "{out}"
    );
    assert!(
        out.stderr.contains("3 re-recorded unchanged (file kept)"),
        "{out}"
    );
    // RECORD=all with REPLAY_REWRITE=1 rewrites it (new timestamps).
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--exact", "psu::setpoint"])
        .env("RECORD", "all")
        .env("REPLAY_REWRITE", "1")
        .run()
        .unwrap();
    passed(&out);
    assert_ne!(krate.read(SETPOINT).unwrap(), before, "{out}");
    drop(sim);

    // Re-recording against a noisy bench: the diff of the changed responses, drift flagged.
    let sim = start_sim(Some(7));
    sim.write_config(krate.path().join("bench.yaml")).unwrap();
    let out = krate
        .cargo_test()
        .args(["--test", "lab", "--", "--exact", "psu::setpoint"])
        .env("RECORD", "1")
        .env("REPLAY_DIFF_TOLERANCE", "0.00000001")
        .run()
        .unwrap();
    passed(&out);
    assert!(
        out.stderr
            .contains("cassette diff: 1 response changed (1 drifted beyond 0%)"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("   4     │- query  MEAS:VOLT? (@1)  → +5.00000000E+00"),
        "{out}"
    );
    assert!(out.stderr.contains("beyond tolerance)"), "{out}");
    assert!(
        out.stderr
            .contains("warning: a reading of `psu::setpoint` drifted beyond"),
        "{out}"
    );
    assert!(
        out.stderr.contains("re-recorded cassettes that changed"),
        "{out}"
    );
    drop(sim);

    // A bad tolerance is an error that says what to write instead.
    let out = krate
        .cargo_test()
        .args(["--test", "lab"])
        .env("REPLAY_DIFF_TOLERANCE", "lots")
        .run()
        .unwrap();
    assert!(!out.status.success(), "{out}");
    assert!(
        out.stderr
            .contains("invalid value `lots` for `REPLAY_DIFF_TOLERANCE`"),
        "{out}"
    );
}

/// `cargo nextest run` in `krate` (shared target dir, offline, no colour).
fn nextest(krate: &ScratchCrate, args: &[&str]) -> CargoOutput {
    krate
        .nextest()
        .args(args)
        .run()
        .expect("run `cargo nextest` (install it with `cargo install cargo-nextest`)")
}

/// The tests nextest reports as passed (`PASS [ 0.01s] harnessnext::lab psu::setpoint`).
fn nextest_passed(out: &CargoOutput) -> Vec<String> {
    let mut names: Vec<String> = out
        .all()
        .lines()
        .filter(|l| l.trim_start().starts_with("PASS"))
        .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
fn nextest_runs_and_partitions_the_harness() {
    let krate = scratch("harnessnext");
    let sim = start_sim(None);
    passed(&record(&krate, &sim));
    drop(sim);

    let out = nextest(&krate, &["--test", "lab"]);
    passed(&out);
    assert_eq!(
        nextest_passed(&out),
        ["dmm_reads", "idn", "psu::setpoint"],
        "{out}"
    );

    // Sharding: two partitions run disjoint sets that together cover every test.
    let first = nextest(&krate, &["--test", "lab", "--partition", "count:1/2"]);
    let second = nextest(&krate, &["--test", "lab", "--partition", "count:2/2"]);
    passed(&first);
    passed(&second);
    let (a, b) = (nextest_passed(&first), nextest_passed(&second));
    assert!(!a.is_empty() && !b.is_empty(), "{first}\n{second}");
    assert!(a.iter().all(|t| !b.contains(t)), "{first}\n{second}");
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    all.sort();
    assert_eq!(all, ["dmm_reads", "idn", "psu::setpoint"]);

    // nextest filters by the test paths the harness lists.
    let out = nextest(&krate, &["--test", "lab", "-E", "test(=psu::setpoint)"]);
    passed(&out);
    assert_eq!(nextest_passed(&out), ["psu::setpoint"], "{out}");

    // A missing cassette fails under nextest too, outside CI as under it, with the command
    // that records it.
    std::fs::remove_file(krate.path().join(DMM)).unwrap();
    let out = nextest(&krate, &["--test", "lab"]);
    assert!(!out.status.success(), "{out}");
    assert_eq!(nextest_passed(&out), ["idn", "psu::setpoint"], "{out}");
    assert!(
        out.all()
            .lines()
            .any(|l| l.trim_start().starts_with("FAIL") && l.ends_with("dmm_reads")),
        "{out}"
    );
    assert!(
        out.all()
            .contains("RECORD=1 cargo test --test lab dmm_reads -- --exact"),
        "{out}"
    );
    passed(&record(&krate, &start_sim(None)));

    // An orphan fails under nextest too.
    std::fs::write(krate.path().join("sessions/lab/gone.yaml"), "{}\n").unwrap();
    let out = nextest(&krate, &["--test", "lab"]);
    assert!(!out.status.success(), "{out}");
    assert!(out.all().contains("sessions/lab/gone.yaml"), "{out}");
}
