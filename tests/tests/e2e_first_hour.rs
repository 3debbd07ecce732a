//! End to end, the way a new user meets replay in their first hour (issue 9): a crate of
//! their own outside the workspace, real `cargo test` and `cargo nextest run` subprocesses
//! against the simulated bench.
//!
//! - Recording is safe by default: two tests that would corrupt each other's readings
//!   (one resets the power supply while the other measures it) record in parallel, and a
//!   third drives two instruments from two tasks at once.
//! - One rule for a missing cassette under libtest, the custom harness and nextest: the test
//!   fails with its path and the command that records it, and the run's one GitHub step
//!   summary lists it.
//! - Failures point at the user: the panic location is the user's test file.
//! - A command removed from the middle of a test is a `-` line, and the report says where
//!   the command the test sent was recorded.
//!
//! nextest scenarios need `cargo nextest`; without it they print a skip message, unless
//! `REPLAY_REQUIRE_PEERS=1` (set by `.ci/run`), where its absence fails the test.

use std::process::Command;

use replay_tests::scratch::{CargoOutput, ScratchCrate};
use replay_tests::sim::SimBench;

/// Two tests on one power supply: `measures` sets 5 V and reads it back after a pause,
/// `resets` resets the supply (0 V, output off). Overlapping, `measures` reads 0 V.
const SHARED: &str = r#"
use std::time::Duration;

use replay_harness::{recorded_test, Bench};

#[recorded_test]
async fn measures(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    psu.write("VOLT 5.0, (@1)").await?;
    psu.write("OUTP ON, (@1)").await?;
    // While recording, the pause gives the other test time to interfere.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let volts: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
    assert!((volts - 5.0).abs() < 0.05, "read {volts} V");
    Ok(())
}

#[recorded_test]
async fn resets(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    psu.write("*RST").await?;
    let volts: f64 = psu.query("MEAS:VOLT? (@1)").await?.trim().parse()?;
    assert!(volts.abs() < 0.05, "read {volts} V after *RST");
    Ok(())
}

#[recorded_test]
async fn two_instruments_from_two_tasks(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    let dmm = bench.instrument("dmm")?;
    let (a, b) = tokio::join!(psu.query("*IDN?"), dmm.query("*IDN?"));
    assert!(a?.contains("EDU36311A"));
    assert!(b?.contains("34470A"));
    Ok(())
}
"#;

/// A test that skips `OUTP ON` when `SCRATCH_SKIP_OUTP` is set (a removed middle command).
const REMOVED: &str = r#"
use replay_harness::{recorded_test, Bench};

#[recorded_test]
async fn setpoint(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    psu.write("VOLT 5.0, (@1)").await?;
    if std::env::var_os("SCRATCH_SKIP_OUTP").is_none() {
        psu.write("OUTP ON, (@1)").await?;
    }
    psu.query("MEAS:VOLT? (@1)").await?;
    psu.write("OUTP OFF").await?;
    Ok(())
}
"#;

const NEVER_PLAIN: &str = r#"
use replay_harness::{recorded_test, Bench};

#[recorded_test]
async fn never_recorded(bench: &Bench) -> replay_harness::TestResult {
    bench.instrument("psu")?.query("*IDN?").await?;
    Ok(())
}
"#;

const NEVER_HARNESS: &str = r#"
use replay_harness::{recorded_test, Bench};

#[recorded_test]
async fn never_recorded_either(bench: &Bench) -> replay_harness::TestResult {
    bench.instrument("psu")?.query("*IDN?").await?;
    Ok(())
}

replay_harness::main!();
"#;

/// A user's crate: `replay-harness` and `tokio` (for `join!`/`sleep` in its own tests),
/// a plain `tests/bench.rs` and a `harness = false` target `tests/custom.rs`.
fn user_crate(name: &str) -> ScratchCrate {
    let krate = ScratchCrate::new(name).unwrap();
    let harness = replay_tests::scratch::workspace_root().join("replay-harness");
    krate
        .write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [dev-dependencies]\nreplay-harness = {{ path = {harness:?}, features = [\"custom-harness\"] }}\n\
                 tokio = {{ version = \"1\", features = [\"macros\", \"time\"] }}\n\n\
                 [[test]]\nname = \"custom\"\nharness = false\n\n[workspace]\n"
            ),
        )
        .unwrap();
    krate.write("tests/custom.rs", NEVER_HARNESS).unwrap();
    krate
}

fn start_sim() -> SimBench {
    SimBench::builder()
        .psu("psu")
        .dmm("dmm")
        .start_background()
        .expect("start the simulated bench")
}

fn passed(out: &CargoOutput) {
    assert!(out.status.success(), "expected success\n{out}");
}

fn failed(out: &CargoOutput) {
    assert!(!out.status.success(), "expected a failure\n{out}");
}

/// Whether `cargo nextest` can run here; `REPLAY_REQUIRE_PEERS=1` makes its absence a
/// failure.
fn have_nextest() -> bool {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let ok = Command::new(cargo)
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("REPLAY_REQUIRE_PEERS").as_deref() != Ok("1"),
            "REPLAY_REQUIRE_PEERS=1 but `cargo nextest` is not installed (cargo install cargo-nextest)"
        );
        eprintln!("skipped the nextest part: `cargo nextest` is not installed");
    }
    ok
}

/// `cargo nextest run` in `krate` with extra variables.
fn nextest(krate: &ScratchCrate, args: &[&str], env: &[(&str, &str)]) -> CargoOutput {
    env.iter()
        .fold(krate.nextest().args(args), |run, (k, v)| run.env(k, v))
        .run()
        .expect("run `cargo nextest`")
}

#[test]
fn parallel_recording_on_one_bench_never_overlaps() {
    let krate = user_crate("firsthour_parallel");
    krate.write("tests/bench.rs", SHARED).unwrap();
    // The custom target's test has no cassette: keep it out of this scenario.
    let sim = start_sim();
    sim.write_config(krate.path().join("bench.yaml")).unwrap();

    // Exactly as documented: `RECORD=1 cargo test`, libtest's parallel threads.
    let out = krate
        .cargo_test()
        .args(["--test", "bench"])
        .env("RECORD", "1")
        .run()
        .unwrap();
    passed(&out);
    assert!(out.stdout.contains("3 passed; 0 failed"), "{out}");
    assert!(
        out.stderr
            .contains("waits for the bench `bench.yaml`: another test is recording on it"),
        "{out}"
    );
    assert!(out.stderr.contains("s for the bench)"), "{out}");
    // The summary is a line of its own, never inside libtest's `test name ... ok`.
    assert!(
        !out.all()
            .lines()
            .any(|l| l.starts_with("test ") && l.contains("recorded `")),
        "{out}"
    );
    assert!(
        out.stderr.contains(
            "replay: recorded `sessions/bench/measures.yaml`: 3 interactions on 1 instrument"
        ),
        "{out}"
    );

    // Separate processes (nextest: one per test) take the same lock.
    if have_nextest() {
        let out = nextest(&krate, &["--test", "bench"], &[("RECORD", "1")]);
        passed(&out);
        assert!(out.all().contains("3 tests run: 3 passed"), "{out}");
    }
    drop(sim);

    // Replay stays parallel and needs no bench.
    let out = krate.cargo_test().args(["--test", "bench"]).run().unwrap();
    passed(&out);
    assert!(!out.stderr.contains("waits for the bench"), "{out}");
}

#[test]
fn a_never_recorded_test_fails_under_every_runner() {
    let krate = user_crate("firsthour_missing");
    krate.write("tests/plain.rs", NEVER_PLAIN).unwrap();

    // libtest.
    let out = krate.cargo_test().args(["--test", "plain"]).run().unwrap();
    failed(&out);
    assert!(
        out.stdout.contains(
            "no cassette for this test: `sessions/plain/never_recorded.yaml` does not exist"
        ),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --test plain never_recorded -- --exact"),
        "{out}"
    );
    // Failures point at the user: the location is the test file, not the library.
    assert!(out.stdout.contains("panicked at tests/plain.rs:"), "{out}");
    assert!(!out.all().contains("replay-harness/src"), "{out}");

    // The custom harness.
    let out = krate.cargo_test().args(["--test", "custom"]).run().unwrap();
    failed(&out);
    assert!(
        out.stdout.contains("0 passed; 1 failed; 0 ignored"),
        "{out}"
    );
    assert!(
        out.stdout
            .contains("RECORD=1 cargo test --test custom never_recorded_either -- --exact"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("replay: 0 sessions replayed, 1 missing"),
        "{out}"
    );

    // nextest, with a GitHub step summary: one for the run, whatever the processes.
    if have_nextest() {
        let summary = krate.path().join("step-summary.md");
        let out = nextest(
            &krate,
            &["--test", "plain", "--test", "custom"],
            &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
        );
        failed(&out);
        assert!(out.all().contains("2 failed"), "{out}");
        assert!(
            out.all()
                .contains("RECORD=1 cargo test --test plain never_recorded -- --exact"),
            "{out}"
        );
        let markdown = std::fs::read_to_string(&summary).unwrap();
        assert_eq!(markdown.matches("### replay").count(), 1, "{markdown}");
        assert!(
            markdown.contains("### replay — 0 sessions replayed, 2 missing"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| missing | `never_recorded` |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| missing | `never_recorded_either` |"),
            "{markdown}"
        );
    }
    assert!(
        !krate.path().join("sessions").exists(),
        "replay recorded something"
    );
}

#[test]
fn a_removed_middle_command_is_a_removal() {
    let krate = user_crate("firsthour_removed");
    krate.write("tests/steps.rs", REMOVED).unwrap();
    let sim = start_sim();
    sim.write_config(krate.path().join("bench.yaml")).unwrap();
    let out = krate
        .cargo_test()
        .args(["--test", "steps"])
        .env("RECORD", "1")
        .run()
        .unwrap();
    passed(&out);
    drop(sim);

    let out = krate
        .cargo_test()
        .args(["--test", "steps"])
        .env("SCRATCH_SKIP_OUTP", "1")
        .run()
        .unwrap();
    failed(&out);
    let text = out.all();
    assert!(
        text.contains("replay mismatch on `psu` at interaction #2 of 4"),
        "{out}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("│- write  OUTP ON, (@1)") && l.contains("first divergence")),
        "{out}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("   3   2 │  query  MEAS:VOLT? (@1)")),
        "{out}"
    );
    assert!(
        text.contains(
            "the test sent `MEAS:VOLT? (@1)`, which the session recorded at #3: was something removed before it?"
        ),
        "{out}"
    );
    assert!(
        text.contains("RECORD=1 cargo test --test steps setpoint -- --exact"),
        "{out}"
    );
    assert!(out.stdout.contains("panicked at tests/steps.rs:"), "{out}");
}

/// The first ```` ```lang ```` block after `marker` in `text` (`lang` up to the newline,
/// e.g. `rust,no_run`), without rustdoc's hidden `# ` lines.
fn block_after(text: &str, marker: &str, lang: &str) -> String {
    let from = text
        .find(marker)
        .unwrap_or_else(|| panic!("the README has `{marker}`"));
    let open = format!("```{lang}\n");
    let start = from
        + text[from..]
            .find(&open)
            .unwrap_or_else(|| panic!("a ```{lang} block after `{marker}`"))
        + open.len();
    let end = start + text[start..].find("```").expect("a closed code block");
    text[start..end]
        .lines()
        .filter(|l| *l != "#" && !l.starts_with("# "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The README's "your own crate in five minutes" walkthrough, as written: its Cargo.toml
/// line (a path dependency), its `bench.yaml` with the demo's simulated power supply copied
/// next to it, its test file, `RECORD=1 cargo test`, `cargo test`, then "change `VOLT 5.0`
/// to `VOLT 3.0`": the failure is the report the README shows at the top.
#[test]
fn readme_walkthrough_works_end_to_end() {
    let root = replay_tests::scratch::workspace_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let walkthrough = &readme[readme
        .find("## Your own crate in five minutes")
        .expect("the README has the walkthrough")..];
    let manifest = block_after(walkthrough, "Nothing is published yet", "toml");
    assert!(
        manifest.contains("replay-harness = { path = \"../replay/replay-harness\" }"),
        "{manifest}"
    );
    let bench = block_after(walkthrough, "bench.yaml", "yaml");
    let copy = block_after(walkthrough, "bench.yaml", "sh");
    assert!(
        copy.contains("cp ../replay/tests/devices/psu.yaml devices/"),
        "{copy}"
    );
    let test_file = block_after(walkthrough, "tests/bench.rs", "rust,no_run");
    let commands = block_after(walkthrough, "Then:", "sh");
    let cassette = "sessions/bench/psu_output_follows_setpoint.yaml";
    assert!(commands.contains("RECORD=1 cargo test "), "{commands}");
    assert!(commands.contains(cassette), "{commands}");

    let krate = ScratchCrate::new("my-bench").unwrap();
    krate
        .write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"my-bench\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{}\n[workspace]\n",
                manifest.replace(
                    "\"../replay/replay-harness\"",
                    &format!("{:?}", root.join("replay-harness"))
                )
            ),
        )
        .unwrap();
    krate.write("bench.yaml", &bench).unwrap();
    let device = std::fs::read_to_string(root.join("tests/devices/psu.yaml")).unwrap();
    krate.write("devices/psu.yaml", &device).unwrap();
    krate.write("tests/bench.rs", &test_file).unwrap();

    let out = krate.cargo_test().env("RECORD", "1").run().unwrap();
    passed(&out);
    assert!(krate.read(cassette).is_some(), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "replay: recorded `{cassette}`: 3 interactions on 1 instrument"
        )),
        "{out}"
    );

    // Replay needs no bench: without the device file it still passes.
    std::fs::remove_dir_all(krate.path().join("devices")).unwrap();
    let out = krate.cargo_test().run().unwrap();
    passed(&out);

    // Break it as the README says: 3.0 V instead of 5.0 V.
    let broken = test_file.replace("VOLT 5.0", "VOLT 3.0");
    assert_ne!(broken, test_file);
    krate.write("tests/bench.rs", &broken).unwrap();
    let out = krate.cargo_test().run().unwrap();
    failed(&out);
    // "fails with the mismatch report at the top of this page": that report, whole.
    let shown = block_after(&readme, "# replay", "text");
    assert!(shown.starts_with("replay mismatch on `psu`"), "{shown}");
    assert!(
        out.stdout.contains(&shown),
        "the README shows\n{shown}\nthe test printed\n{out}"
    );
    assert!(out.stdout.contains("panicked at tests/bench.rs:"), "{out}");

    // "Run that command once the test expects 3 V too": the re-record line as shown.
    let fixed = broken.replace("(volts - 5.0)", "(volts - 3.0)");
    assert_ne!(fixed, broken);
    krate.write("tests/bench.rs", &fixed).unwrap();
    krate.write("devices/psu.yaml", &device).unwrap();
    let out = krate
        .cargo_test()
        .args([
            "--test",
            "bench",
            "psu_output_follows_setpoint",
            "--",
            "--exact",
        ])
        .env("RECORD", "1")
        .run()
        .unwrap();
    passed(&out);
    let rerecorded = block_after(walkthrough, "the re-record says what changed", "text");
    assert!(
        rerecorded.starts_with("replay: re-recorded `"),
        "{rerecorded}"
    );
    assert!(
        out.stderr.contains(rerecorded.trim_end()),
        "{rerecorded}\n{out}"
    );

    // The custom harness is opt-in: `main!()` without the feature says how to turn it on.
    let manifest = std::fs::read_to_string(krate.path().join("Cargo.toml")).unwrap();
    krate
        .write(
            "Cargo.toml",
            &format!("{manifest}\n[[test]]\nname = \"lab\"\nharness = false\n"),
        )
        .unwrap();
    krate
        .write(
            "tests/lab.rs",
            &format!("{fixed}\nreplay_harness::main!();\n"),
        )
        .unwrap();
    let out = krate.cargo_test().args(["--test", "lab"]).run().unwrap();
    failed(&out);
    assert!(
        out.stderr
            .contains("`replay_harness::main!()` needs replay's custom harness")
            && out.stderr.contains(
                r#"add `features = ["custom-harness"]` to the `replay-harness` dev-dependency"#
            ),
        "{out}"
    );
    // That error stands alone: no rustc error about the `main` it could not define.
    assert!(!out.stderr.contains("E0601"), "{out}");
}

/// Two tests whose `session = "…"` name one cassette, each recording long enough to
/// overlap the other.
const SAME_CASSETTE: &str = r#"
use std::time::Duration;

use replay_harness::{recorded_test, Bench};

#[recorded_test(session = "shared.yaml")]
async fn writes_five(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    psu.write("VOLT 5.0, (@1)").await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    psu.write("OUTP ON, (@1)").await?;
    Ok(())
}

#[recorded_test(session = "shared.yaml")]
async fn writes_three(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    psu.write("VOLT 3.0, (@1)").await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    psu.write("OUTP OFF").await?;
    Ok(())
}
"#;

/// One of `writes_five`/`writes_three` recorded `sessions/shared.yaml`, the other failed
/// naming both tests and the file; the cassette is the passing test's alone.
fn one_recording_of_the_shared_cassette(krate: &ScratchCrate, out: &CargoOutput) {
    failed(out);
    let text = out.all();
    let message = text
        .lines()
        .find(|l| l.contains("two tests record the cassette `sessions/shared.yaml` at once: "))
        .unwrap_or_else(|| panic!("no error naming the shared cassette\n{out}"));
    assert!(
        message.contains("`writes_five`") && message.contains("`writes_three`"),
        "{message}"
    );
    assert!(text.contains("or record them one at a time:"), "{out}");
    let cassette =
        String::from_utf8(krate.read("sessions/shared.yaml").expect("a cassette")).unwrap();
    let five = cassette.contains("VOLT 5.0, (@1)") && cassette.contains("OUTP ON, (@1)");
    let three = cassette.contains("VOLT 3.0, (@1)") && cassette.contains("OUTP OFF");
    assert!(five != three, "one test's recording, whole:\n{cassette}");
    // The test named as the one that did not record is the one whose commands are missing.
    let did_not_record = if five { "writes_three" } else { "writes_five" };
    assert!(
        message.contains(&format!("so `{did_not_record}` did not record")),
        "{message}\n{cassette}"
    );
}

#[test]
fn two_tests_recording_one_cassette_at_once_fail_clearly() {
    let krate = user_crate("firsthour_same_cassette");
    krate.write("tests/shared.rs", SAME_CASSETTE).unwrap();
    let sim = start_sim();
    sim.write_config(krate.path().join("bench.yaml")).unwrap();

    // Two threads of one test binary.
    let out = krate
        .cargo_test()
        .args(["--test", "shared", "--", "--test-threads", "2"])
        .env("RECORD", "1")
        .run()
        .unwrap();
    assert!(out.stdout.contains("1 passed; 1 failed"), "{out}");
    one_recording_of_the_shared_cassette(&krate, &out);

    // Two processes (nextest runs each test in its own).
    if have_nextest() {
        std::fs::remove_file(krate.path().join("sessions/shared.yaml")).unwrap();
        let out = nextest(
            &krate,
            &["--test", "shared", "--test-threads", "2"],
            &[("RECORD", "1")],
        );
        assert!(
            out.all().contains("2 tests run: 1 passed, 1 failed"),
            "{out}"
        );
        one_recording_of_the_shared_cassette(&krate, &out);
        assert!(out.all().contains("(process "), "{out}");
    }
    drop(sim);
}
